"""Compare the three spike-branch options of AlignNet in one run: LIF, bit-plane, ReLU (all-ANN).

Same data, split, seed and training budget for each option (the `alignnet demo` protocol:
pretrain on all synthetic days but the last, fine-tune decode and simulate on the two days
before it, evaluate zero-shot on the held-out last day). Prints, per option: decode R^2 / PCC,
simulate R^2 / PCC (vs binned counts), LIF/bit-plane time steps, spike-autoencoder MACs and
SynOps per window, the 45 nm energy estimate (`alignnet.evaluation.accounting`), training time
and decode wall time per window (1 thread, median of 5 batches of all test windows).

    python benchmarks/spike_branch_compare.py --preset demo --seed 0 --epochs 12

Run from the project root; a few minutes on 2 CPU cores for the `demo` preset.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from alignnet.api import AlignNet
from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows
from alignnet.data.synthetic import generate_sessions, make_config
from alignnet.evaluation.accounting import SpikeAutoencoderPath, profile_model
from alignnet.evaluation.metrics import pearson_r, r2_score

NEURONS = ("lif", "bitplane", "relu")


def run_option(neuron: str, windows, *, seed: int, epochs: int, small: bool) -> dict:
    days = windows.days.tolist()
    pre_days, held_out = days[:-1], days[-1]
    fine_days = pre_days[-2:]
    pre_w, fine_w, test_w = (
        windows.select_days(pre_days),
        windows.select_days(fine_days),
        windows.select_days([held_out]),
    )
    overrides = {"neuron": neuron, "seed": seed, "epochs": epochs, "device": "cpu"}
    if small:
        overrides.update({"model.widths": (16, 24), "model.latent_width": 16, "batch_size": 16})
    model = AlignNet(**overrides)
    t0 = time.perf_counter()
    model.pretrain(pre_w, progress=False)
    model.finetune(fine_w, task="decode", progress=False)
    model.finetune(fine_w, task="simulate", progress=False)
    train_s = time.perf_counter() - t0

    decoded = model.decode(test_w)
    rates = model.simulate(test_w)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        model.decode(test_w.spikes)
        times.append((time.perf_counter() - t) / len(test_w))

    module = SpikeAutoencoderPath(model.network).eval()
    no_day = np.full(len(test_w), -1, dtype=np.int64)  # unseen: the windows' own statistics
    counts = model.normalizer.transform_spikes(test_w.spikes, day=no_day)
    report = profile_model(module, torch.as_tensor(np.asarray(counts, dtype=np.float32)))
    steps = sorted({layer.time_steps for layer in report.layers if layer.time_steps})
    rates_fired = [layer.firing_rate for layer in report.layers if layer.firing_rate is not None]
    return {
        "neuron": neuron,
        "decode_r2": r2_score(test_w.behavior, decoded),
        "decode_pcc": pearson_r(test_w.behavior, decoded),
        "simulate_r2": r2_score(test_w.spikes, rates),
        "simulate_pcc": pearson_r(test_w.spikes, rates),
        "time_steps": steps,
        "mean_firing_rate": float(np.mean(rates_fired)) if rates_fired else None,
        "macs_per_window": report.total_macs,
        "synops_per_window": report.total_synops,
        "energy_ann_nj": report.energy_ann_nj,
        "energy_snn_nj": report.energy_snn_nj,
        "train_s": train_s,
        "decode_ms_per_window": 1e3 * statistics.median(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="demo", choices=["tiny", "demo"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    sessions = generate_sessions(make_config(args.preset), seed=args.seed)
    windows = sessions_to_windows(sessions, PreprocessConfig())
    rows = [
        run_option(n, windows, seed=args.seed, epochs=args.epochs, small=args.preset == "tiny")
        for n in NEURONS
    ]
    print(
        f"preset {args.preset}, seed {args.seed}, {args.epochs} epochs, {args.threads} thread(s); "
        f"{len(windows)} windows {windows.n_channels} x {windows.window_len}; held-out day "
        f"{int(windows.days[-1])} (zero-shot)\n"
    )
    print(
        "| spike branch | decode R^2 | decode PCC | simulate R^2 | simulate PCC | time steps "
        "| mean firing rate | MACs/window | SynOps/window | energy ANN (nJ) | energy as run (nJ) "
        "| train s | decode ms/window |"
    )
    print("|---" * 13 + "|")
    for r in rows:
        rate = "-" if r["mean_firing_rate"] is None else f"{r['mean_firing_rate']:.3f}"
        steps = ",".join(str(s) for s in r["time_steps"]) or "-"
        print(
            f"| {r['neuron']} | {r['decode_r2']:.3f} | {r['decode_pcc']:.3f} | "
            f"{r['simulate_r2']:.3f} | {r['simulate_pcc']:.3f} | {steps} | {rate} | "
            f"{r['macs_per_window'] / 1e6:.1f} M | {r['synops_per_window'] / 1e6:.1f} M | "
            f"{r['energy_ann_nj']:.0f} | {r['energy_snn_nj']:.0f} | {r['train_s']:.0f} | "
            f"{r['decode_ms_per_window']:.2f} |"
        )
    if args.json:
        from alignnet.utils.atomic import write_json_atomic

        write_json_atomic(args.json, {"args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
