"""Spike detection: AlignNet's chunked detector vs spikeinterface's `detect_peaks`.

Throughput mode (default): writes a synthetic int16 recording (96 channels, 30 kHz,
``--minutes`` long; 10 min = 3.5 GB) under ``--workdir``, then runs each detector in its own
subprocess on that file (so peak RSS is per tool) and prints seconds of recording per second
of wall time and peak RSS side by side with ratios. Both use the same band (300-6000 Hz,
Butterworth order 3, zero-phase), the same threshold (4.5 x MAD sigma) and the same noise
levels (AlignNet's `estimate_noise_levels`, handed to spikeinterface).

Quality mode (``--quality``): a shorter recording with known spike times; precision and
recall of both detectors (0.3 ms tolerance).

    python benchmarks/detection.py --minutes 10 --workdir /tmp
    python benchmarks/detection.py --quality --quality-s 60
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RATE = 30000.0
N_CH = 96
GAIN_UV = 0.195
THRESHOLD = 4.5
BLOCK_S = 10.0


def make_units(rng: np.random.Generator, duration: float):
    """One unit per channel, Poisson 5-30 Hz with a 3 ms refractory period, 60-200 uV."""
    rates = rng.uniform(5, 30, size=N_CH)
    trains = []
    for r in rates:
        isi = rng.exponential(1 / r, size=int(duration * r * 1.5) + 20) + 0.003
        t = np.cumsum(isi)
        trains.append(t[t < duration])
    return trains, np.arange(N_CH), rng.uniform(60, 200, size=N_CH)


def write_recording(path: Path, duration: float, seed: int) -> list[np.ndarray]:
    """Write ``[n, 96]`` int16 (GAIN_UV uV per unit) block by block; return the true spikes."""
    from tqdm import tqdm

    from alignnet.data.synthetic.voltage import synthesize_voltage, unit_waveforms

    rng = np.random.default_rng(seed)
    trains, channels, amps = make_units(rng, duration)
    shapes = unit_waveforms(N_CH, rate_hz=RATE, rng=rng)
    starts = np.arange(0.0, duration, BLOCK_S)
    with open(path, "wb") as handle:
        for i, t0 in enumerate(tqdm(starts, desc="writing recording", unit="block")):
            t1 = min(t0 + BLOCK_S, duration)
            volts = synthesize_voltage(
                unit_spike_times=trains,
                unit_channel=channels,
                unit_amplitude_uv=amps,
                n_channels=N_CH,
                t_start=t0,
                t_stop=t1,
                rng=np.random.default_rng([seed, i]),
                waveforms=shapes,
            )
            np.clip(np.round(volts / GAIN_UV), -32768, 32767).astype(np.int16).tofile(handle)
    return trains


# --------------------------------------------------------------------------- workers
def _peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it is not inherited at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_noise(path: str) -> dict:
    from alignnet.data.io.raw import BinaryRecording
    from alignnet.data.preprocess.detection import DetectionConfig, estimate_noise_levels

    rec = BinaryRecording(path, dtype="int16", n_channels=N_CH, rate_hz=RATE, gain_to_uv=GAIN_UV)
    return {"noise_uv": estimate_noise_levels(rec, config=DetectionConfig()).tolist()}


def worker_alignnet(path: str, noise_uv: list[float], chunk_s: float) -> dict:
    from alignnet.data.io.raw import BinaryRecording
    from alignnet.data.preprocess.detection import DetectionConfig, detect_spikes_chunked

    rec = BinaryRecording(path, dtype="int16", n_channels=N_CH, rate_hz=RATE, gain_to_uv=GAIN_UV)
    t0 = time.perf_counter()
    spikes = detect_spikes_chunked(
        rec,
        config=DetectionConfig(threshold=THRESHOLD),
        chunk_s=chunk_s,
        noise_levels_uv=np.asarray(noise_uv),
    )
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "duration_s": rec.duration,
        "rss_mib": _peak_rss_mib(),
        "spikes": [s.tolist() for s in spikes],
    }


def worker_spikeinterface(path: str, noise_uv: list[float], n_jobs: int) -> dict:
    import spikeinterface.core as sc
    import spikeinterface.preprocessing as spre
    from spikeinterface.sortingcomponents.peak_detection import detect_peaks

    rec = sc.read_binary(
        path, sampling_frequency=RATE, dtype="int16", num_channels=N_CH, gain_to_uV=GAIN_UV,
        offset_to_uV=0.0,
    )  # fmt: skip
    filtered = spre.bandpass_filter(
        rec, freq_min=300.0, freq_max=6000.0, filter_order=3, ftype="butter", dtype="float32"
    )
    noise_raw = np.asarray(noise_uv) / GAIN_UV  # filtered traces are in stored units
    t0 = time.perf_counter()
    peaks = detect_peaks(
        filtered,
        method="by_channel",
        method_kwargs=dict(peak_sign="neg", detect_threshold=THRESHOLD, exclude_sweep_ms=0.5,
                           noise_levels=noise_raw),
        job_kwargs=dict(n_jobs=n_jobs, chunk_duration="1s", progress_bar=False),
    )  # fmt: skip
    wall = time.perf_counter() - t0
    spikes = [
        (peaks["sample_index"][peaks["channel_index"] == c] / RATE).tolist() for c in range(N_CH)
    ]
    return {
        "wall_s": wall,
        "duration_s": rec.get_total_duration(),
        "rss_mib": _peak_rss_mib(),
        "spikes": spikes,
    }


def run_worker(*args: str) -> dict:
    """Run this script as a worker subprocess; return its JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp"))
    parser.add_argument("--keep", action="store_true", help="keep the generated recording")
    parser.add_argument("--chunk-s", type=float, default=10.0)
    parser.add_argument("--n-jobs", type=int, default=1, help="spikeinterface n_jobs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quality", action="store_true", help="precision/recall mode")
    parser.add_argument("--quality-s", type=float, default=60.0)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        kind, path, *rest = args.worker
        if kind == "noise":
            result = worker_noise(path)
        elif kind == "alignnet":
            result = worker_alignnet(path, json.loads(rest[0]), float(rest[1]))
        else:
            result = worker_spikeinterface(path, json.loads(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return

    duration = args.quality_s if args.quality else args.minutes * 60.0
    tmp = Path(tempfile.mkdtemp(prefix="alignnet-detect-", dir=args.workdir))
    path = tmp / "recording.dat"
    try:
        t0 = time.perf_counter()
        truth = write_recording(path, duration, args.seed)
        size_gb = path.stat().st_size / 1e9
        print(f"recording: {duration:.0f} s x {N_CH} ch x {RATE:.0f} Hz int16 = {size_gb:.2f} GB "
              f"(written in {time.perf_counter() - t0:.0f} s) at {path}")  # fmt: skip
        noise = run_worker("noise", str(path))["noise_uv"]
        print(f"noise sigma (shared by both): median {np.median(noise):.2f} uV")
        ours = run_worker("alignnet", str(path), json.dumps(noise), str(args.chunk_s))
        theirs = run_worker("spikeinterface", str(path), json.dumps(noise), str(args.n_jobs))
        rows = [
            (f"alignnet detect_spikes_chunked (chunk {args.chunk_s:g} s, 1 thread)", ours),
            (f"spikeinterface detect_peaks by_channel (n_jobs={args.n_jobs})", theirs),
        ]
        print()
        print("| detector | spikes | x real time | wall s | peak RSS MiB |")
        print("|---|---|---|---|---|")
        for name, r in rows:
            n = sum(len(s) for s in r["spikes"])
            print(f"| {name} | {n} | {r['duration_s'] / r['wall_s']:.1f} | {r['wall_s']:.1f} | "
                  f"{r['rss_mib']:.0f} |")  # fmt: skip
        print(f"ratio alignnet/spikeinterface: speed x{theirs['wall_s'] / ours['wall_s']:.2f}, "
              f"peak RSS x{ours['rss_mib'] / theirs['rss_mib']:.2f}")  # fmt: skip
        if args.quality:
            from alignnet.data.preprocess.detection import detection_scores

            print()
            print("| detector | precision | recall | (tolerance 0.3 ms) |")
            print("|---|---|---|---|")
            for name, r in rows:
                det = [np.asarray(s) for s in r["spikes"]]
                p, rc = detection_scores(det, truth, tolerance_ms=0.3)
                print(f"| {name} | {p:.4f} | {rc:.4f} | |")
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
