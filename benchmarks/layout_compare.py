"""Compare the two SNN layouts (temporal 1-D vs 2-D image x T steps) side by side.

For each layout: forward FLOPs per window (conv/linear MACs x 2), measured training speed
(pretraining windows/s), and decode R^2 on a held-out day after pretraining + fine-tuning on
synthetic data. Prints one table.

    python benchmarks/layout_compare.py --preset demo --epochs 4 --threads 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from alignnet.api import AlignNet
from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows
from alignnet.data.synthetic import generate_sessions, make_config
from alignnet.evaluation.metrics import r2_score
from alignnet.training.flops import model_summary

LAYOUTS = {
    "temporal": {"snn_layout": "temporal"},
    "2d": {
        "snn_layout": "2d",
        "model.widths": (8, 16),
        "model.latent_width": 16,
        "model.time_steps": 4,
    },
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="demo")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--neuron", default="lif")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    windows = sessions_to_windows(
        generate_sessions(make_config(args.preset), seed=args.seed), PreprocessConfig()
    )
    days = windows.days.tolist()
    pre, fine, test = (
        windows.select_days(days[:-1]),
        windows.select_days(days[-3:-1]),
        windows.select_days(days[-1:]),
    )
    print(
        f"{len(windows)} windows, C={windows.n_channels}, L={windows.window_len}, "
        f"pretrain {len(pre)}, held-out day {days[-1]} ({len(test)}), threads {args.threads}"
    )
    rows = []
    for name, overrides in LAYOUTS.items():
        model = AlignNet(
            neuron=args.neuron,
            epochs=args.epochs,
            device="cpu",
            seed=args.seed,
            patience=0,
            **overrides,
        )
        model.pretrain(pre, progress=False)  # adapts C/L to the data
        summary = model_summary(model.network)
        t0 = time.perf_counter()
        hist = model.pretrain(pre, epochs=1, progress=False)
        speed = hist.rows[-1]["windows_per_s"]
        model.finetune(fine, task="decode", epochs=args.epochs, progress=False)
        r2 = r2_score(test.behavior, model.decode(test))
        rows.append(
            (
                name,
                summary["parameters"],
                summary["flops_per_window"]["pretrain"] / 1e6,
                speed,
                r2,
                time.perf_counter() - t0,
            )
        )
    print(
        "\n| layout | params | MFLOP/window (pretrain fwd) | train windows/s | "
        "achieved GFLOP/s (3x fwd) | held-out decode R^2 |"
    )
    print("|---|---|---|---|---|---|")
    for name, params, mflop, speed, r2, _ in rows:
        print(
            f"| {name} | {params:,} | {mflop:.1f} | {speed:.1f} | {3 * mflop * speed / 1e3:.2f} "
            f"| {r2:.3f} |"
        )
    ratio = rows[0][3] / rows[1][3]
    print(f"\ntemporal / 2d training speed: {ratio:.2f}x")
    _ = np


if __name__ == "__main__":
    main()
