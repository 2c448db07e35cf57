"""Raw acquisition files -> Session: plain binary, Open Ephys binary, SpikeGLX; bad inputs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from alignnet.data.io.raw import BinaryRecording, import_raw, open_recording
from alignnet.data.preprocess.detection import detect_spikes, detection_scores
from alignnet.data.synthetic.voltage import synthesize_voltage
from alignnet.errors import DataError, FileFormatError

RATE = 30000.0
GAIN_UV = 0.2  # microvolts per int16 unit
N_CH = 3
DURATION = 2.0

needs_ephys = pytest.mark.skipif(
    importlib.util.find_spec("spikeinterface") is None or importlib.util.find_spec("neo") is None,
    reason='neo/spikeinterface not installed (pip install "alignnet[ephys]")',
)


@pytest.fixture(scope="module")
def ground_truth():
    """int16 samples ``[n, C]`` of synthetic voltage and the true spike times (from t = 0)."""
    rng = np.random.default_rng(21)
    truth = []
    for _ in range(N_CH):
        t = np.cumsum(rng.exponential(1 / 15.0, size=80) + 0.003) + 0.02
        truth.append(t[t < DURATION - 0.02])
    volts = synthesize_voltage(
        unit_spike_times=truth,
        unit_channel=np.arange(N_CH),
        unit_amplitude_uv=np.full(N_CH, 100.0),
        n_channels=N_CH,
        t_start=0.0,
        t_stop=DURATION,
        rng=rng,
    )
    samples = np.round(volts / GAIN_UV).astype(np.int16)
    return samples, truth


def _expected(samples: np.ndarray, t_start: float) -> list[np.ndarray]:
    return detect_spikes(
        samples.astype(np.float32) * np.float32(GAIN_UV), rate_hz=RATE, t_start=t_start
    )


def _check_spikes(spike_times, samples, truth, t_start):
    expected = _expected(samples, t_start)
    assert all(np.array_equal(a, b) for a, b in zip(spike_times, expected, strict=True))
    shifted = [t + t_start for t in truth]
    precision, recall = detection_scores(spike_times, shifted, tolerance_ms=0.3)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)


def write_openephys(root: Path, samples: np.ndarray, *, first_sample: int = 0) -> Path:
    rec = root / "Record Node 101" / "experiment1" / "recording1"
    stream = "Acquisition_Board-100.Rhythm Data"
    cont = rec / "continuous" / stream
    cont.mkdir(parents=True)
    samples.tofile(cont / "continuous.dat")
    numbers = np.arange(samples.shape[0], dtype=np.int64) + first_sample
    np.save(cont / "sample_numbers.npy", numbers)
    np.save(cont / "timestamps.npy", numbers / RATE)
    channels = [
        {"channel_name": f"CH{i + 1}", "description": "", "identifier": "", "history": "",
         "bit_volts": GAIN_UV, "units": "uV"}
        for i in range(samples.shape[1])
    ]  # fmt: skip
    structure = {
        "GUI version": "0.6.0",
        "continuous": [
            {"folder_name": f"{stream}/", "sample_rate": RATE, "source_processor_name":
             "Acquisition Board", "source_processor_id": 100, "stream_name": "Rhythm Data",
             "recorded_processor": "Acquisition Board", "recorded_processor_id": 100,
             "num_channels": samples.shape[1], "channels": channels}
        ],
        "events": [],
        "spikes": [],
    }  # fmt: skip
    (rec / "structure.oebin").write_text(json.dumps(structure))
    return root


def write_spikeglx(folder: Path, samples: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    bin_path = folder / "run_g0_t0.nidq.bin"
    samples.tofile(bin_path)
    c = samples.shape[1]
    mn_gain = 1000.0
    meta = {
        "nSavedChans": c,
        "niSampRate": RATE,
        "snsMnMaXaDw": f"{c},0,0,0",
        "niMNGain": mn_gain,
        "niMAGain": 1,
        "niAiRangeMax": GAIN_UV * 1e-6 * 32768 * mn_gain,  # -> GAIN_UV microvolts per unit
        "niAiRangeMin": -GAIN_UV * 1e-6 * 32768 * mn_gain,
        "fileName": str(bin_path),
        "fileSizeBytes": bin_path.stat().st_size,
        "fileTimeSecs": samples.shape[0] / RATE,
        "typeThis": "nidq",
        "firstSample": 0,
        "snsSaveChanSubset": "all",
        "~snsChanMap": f"({c},0,0,0,0)" + "".join(f"(MN{i};{i}:{i})" for i in range(c)),
    }
    bin_path.with_suffix(".meta").write_text("".join(f"{k}={v}\n" for k, v in meta.items()))
    return bin_path


def write_behavior_csv(path: Path, t0: float, t1: float) -> Path:
    t = np.arange(t0, t1 + 1e-9, 0.001)
    rows = "\n".join(f"{a:.6f},{np.sin(a):.6f},{np.cos(a):.6f}" for a in t)
    path.write_text("time,x,y\n" + rows + "\n")
    return path


# --------------------------------------------------------------------------- formats
def test_plain_binary_end_to_end(tmp_path, ground_truth):
    samples, truth = ground_truth
    path = tmp_path / "rec.dat"
    samples.tofile(path)
    rec = open_recording(path, dtype="int16", n_channels=N_CH, rate_hz=RATE, gain_to_uv=GAIN_UV)
    assert isinstance(rec, BinaryRecording) and rec.n_samples == samples.shape[0]
    np.testing.assert_allclose(rec.get_chunk(10, 20), samples[10:20] * GAIN_UV, rtol=1e-6)
    behavior = write_behavior_csv(tmp_path / "beh.csv", 0.0, DURATION)
    trials = tmp_path / "trials.csv"
    trials.write_text("start,stop,target,success\n0.1,0.9,3,1\n1.0,1.8,5,0\n")
    session = import_raw(rec, behavior=behavior, trials=trials, chunk_s=0.3)
    _check_spikes(session.spike_times, samples, truth, 0.0)
    assert session.meta.behavior_names == ["x", "y"]
    assert list(session.trials.target) == [3, 5] and list(session.trials.success) == [True, False]
    assert session.meta.spike_sampling_rate_hz == RATE


@needs_ephys
def test_openephys_end_to_end(tmp_path, ground_truth):
    samples, truth = ground_truth
    root = write_openephys(tmp_path / "oe", samples, first_sample=60000)  # t_start = 2 s
    rec = open_recording(root)
    assert rec.t_start == pytest.approx(2.0) and rec.n_channels == N_CH
    session = import_raw(rec, chunk_s=0.7)
    assert session.t_start == pytest.approx(2.0)
    _check_spikes(session.spike_times, samples, truth, rec.t_start)


@needs_ephys
def test_spikeglx_end_to_end(tmp_path, ground_truth):
    samples, truth = ground_truth
    bin_path = write_spikeglx(tmp_path / "sglx", samples)
    rec = open_recording(bin_path)
    np.testing.assert_allclose(rec.gain_to_uv, GAIN_UV, rtol=1e-9)
    session = import_raw(bin_path, chunk_s=0.5)
    _check_spikes(session.spike_times, samples, truth, 0.0)


def test_blackrock_nsx_not_written_here():
    pytest.skip(
        "no NSx writer: a valid .ns5 needs the 2.3/3.0 basic + extended headers and data packet "
        "headers; Blackrock reading is the spikeinterface/neo reader, covered by their test suite"
    )


# --------------------------------------------------------------------------- bad inputs
def test_unknown_format(tmp_path):
    path = tmp_path / "rec.xyz"
    path.write_bytes(b"\0" * 64)
    with pytest.raises(FileFormatError, match="unknown raw recording format"):
        open_recording(path)


def test_missing_meta(tmp_path, ground_truth):
    bin_path = tmp_path / "run_g0_t0.imec0.ap.bin"
    ground_truth[0].tofile(bin_path)
    with pytest.raises(FileFormatError) as info:
        open_recording(bin_path)
    assert info.value.field == "meta" and "run_g0_t0.imec0.ap.meta" in str(info.value)


def test_missing_structure_oebin(tmp_path, ground_truth):
    root = write_openephys(tmp_path / "oe", ground_truth[0])
    next(root.rglob("structure.oebin")).unlink()
    with pytest.raises(FileFormatError) as info:
        open_recording(root)
    assert info.value.field == "structure.oebin"


def test_size_not_matching_channels(tmp_path):
    path = tmp_path / "rec.dat"
    np.zeros((100, 4), np.int16).tofile(path)
    with pytest.raises(FileFormatError) as info:
        open_recording(path, dtype="int16", n_channels=3, rate_hz=RATE)
    assert info.value.field == "size" and str(path) in str(info.value)


def test_binary_without_parameters(tmp_path):
    path = tmp_path / "rec.dat"
    np.zeros((100, 4), np.int16).tofile(path)
    with pytest.raises(FileFormatError, match="dtype"):
        open_recording(path)


@needs_ephys
def test_truncated_openephys_and_spikeglx(tmp_path, ground_truth):
    root = write_openephys(tmp_path / "oe", ground_truth[0])
    dat = next(root.rglob("continuous.dat"))
    dat.write_bytes(dat.read_bytes()[:-3])
    with pytest.raises(FileFormatError, match="truncated"):
        open_recording(root)
    bin_path = write_spikeglx(tmp_path / "sglx", ground_truth[0])
    bin_path.write_bytes(bin_path.read_bytes()[:-600])
    with pytest.raises(FileFormatError) as info:
        open_recording(bin_path)
    assert info.value.field == "fileSizeBytes"


def test_missing_extra_names_the_install_command(monkeypatch, tmp_path, ground_truth):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("spikeinterface"):
            raise ImportError("no spikeinterface")
        return real_import(name, *args, **kwargs)

    root = write_openephys(tmp_path / "oe", ground_truth[0])
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(FileFormatError) as info:
        open_recording(root)
    assert 'pip install "alignnet[ephys]"' in str(info.value)


def test_behavior_not_overlapping(tmp_path, ground_truth):
    samples, _ = ground_truth
    path = tmp_path / "rec.dat"
    samples.tofile(path)
    rec = open_recording(path, dtype="int16", n_channels=N_CH, rate_hz=RATE)
    behavior = write_behavior_csv(tmp_path / "beh.csv", 10.0, 12.0)
    with pytest.raises(DataError) as info:
        import_raw(rec, behavior=behavior)
    assert info.value.field == "behavior_times" and "no overlap" in str(info.value)


# --------------------------------------------------------------------------- CLI
def _cli_args(tmp_path: Path, samples: np.ndarray, out: Path) -> list[str]:
    path = tmp_path / "rec.dat"
    samples.tofile(path)
    return [
        "data", "import", str(path), "--out", str(out), "--dtype", "int16", "--n-channels",
        str(N_CH), "--rate-hz", str(RATE), "--gain-uv", str(GAIN_UV), "--chunk-s", "0.5",
        "--no-progress",
    ]  # fmt: skip


def _out_suffix() -> str:
    return ".npz" if importlib.util.find_spec("alignnet.data.io.native") else ".nwb"


def test_cli_import_writes_session(tmp_path, ground_truth):
    from alignnet.cli.main import cli
    from alignnet.data.io import load_session

    samples, truth = ground_truth
    out = tmp_path / f"session{_out_suffix()}"
    behavior = write_behavior_csv(tmp_path / "beh.csv", 0.0, DURATION)
    result = CliRunner().invoke(
        cli, [*_cli_args(tmp_path, samples, out), "--behavior", str(behavior)]
    )
    assert result.exit_code == 0, result.output
    session = load_session(out)
    _check_spikes(session.spike_times, samples, truth, 0.0)


def test_cli_import_failure_leaves_no_file(tmp_path, ground_truth):
    from alignnet.cli.main import cli

    samples, _ = ground_truth
    out = tmp_path / f"session{_out_suffix()}"
    behavior = write_behavior_csv(tmp_path / "beh.csv", 50.0, 52.0)
    result = CliRunner().invoke(
        cli, [*_cli_args(tmp_path, samples, out), "--behavior", str(behavior)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".session")]
