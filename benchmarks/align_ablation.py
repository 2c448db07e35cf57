"""Alignment settings on one multi-day folder: fixed model vs `AlignNet.align` variants.

Reproduces the ablation table of docs/results.md section 8:

    python benchmarks/align_ablation.py data/gain --test-days 1 30
    python benchmarks/align_ablation.py data/turn --test-days 1 30

A default AlignNet (no per-day read-ins, `electrode` channel policy) is pretrained on days
0-3 (5 epochs) and fine-tuned for decoding on days 7 and 14 (8 epochs); each test day is then
decoded without alignment and after aligning it (no labels) with each setting, printing
decode R^2 and the alignment's wall time.
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import torch

from alignnet.api import AlignNet
from alignnet.data.io import load_sessions
from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows
from alignnet.evaluation.metrics import r2_score

#: (label, AlignNetConfig overrides)
SETTINGS = (
    ("KL 1 + prior 1", {"align_kl_weight": 1.0, "align_prior_weight": 1.0}),
    ("KL 1 + prior 10 (default)", {"align_kl_weight": 1.0, "align_prior_weight": 10.0}),
    ("reconstruction only (KL 0, prior 1)", {"align_kl_weight": 0.0, "align_prior_weight": 1.0}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder of NWB days (alignnet data synth --format nwb)")
    parser.add_argument("--test-days", type=int, nargs="+", default=[1, 30])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sessions = load_sessions(args.data, channels="electrode")
    w = sessions_to_windows(sessions, preprocess_config_for(sessions))
    model = AlignNet(seed=args.seed, device="cpu", **{"pretrain.epochs": 5, "finetune.epochs": 8})
    model.pretrain(w.select_days([0, 1, 2, 3]), progress=False)
    model.finetune(w.select_days([7, 14]), task="decode", progress=False)
    for day in args.test_days:
        test = w.select_days([day])
        fixed = r2_score(test.behavior, model.decode(test))
        print(f"day {day}: no alignment R^2 {fixed:.3f}", flush=True)
        for label, overrides in SETTINGS:
            trial = copy.deepcopy(model)
            trial.config = trial.config.with_overrides(**overrides)
            start = time.perf_counter()
            trial.align(test, progress=False)
            r2 = r2_score(test.behavior, trial.decode(test))
            print(f"day {day}: {label}: R^2 {r2:.3f} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
