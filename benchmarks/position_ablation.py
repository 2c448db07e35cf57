"""Why does AlignNet decode hand position worse than a GRU? One change at a time (issue 21).

Trains AlignNet (decode only, this version's recipe) on the benchmark's single-day (or
contiguous) fold of a preset's data with one configuration change per row and prints decode
R² over whole windows, over the first and the second half of each window (where in the window
the score is taken), with the wall time. Folds, windows and epochs are those of
``alignnet benchmark --preset P`` with the first fine-tuning setting (a screen: the benchmark
itself tunes).

    python benchmarks/position_ablation.py --preset reach-position --seeds 0 --baselines GRU
    python benchmarks/position_ablation.py --preset reach-position --windows sliding:50 \\
        --variants "context none" "context tcn"
    python benchmarks/position_ablation.py --preset standard --protocol contiguous \\
        --data ../shared/data/m1_stevenson_2011.mat --target pos \\
        --variants "context none" "context tcn" --baselines GRU

``--list`` prints the variant names. ``--target pos`` (a recording) decodes hand position
(the M1 file's ``handPos``) in place of velocity. Run from the project root; one thread.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from alignnet.estimator import AlignNetEstimator
from alignnet.evaluation.data_source import load_benchmark_windows
from alignnet.evaluation.metrics import r2_score
from alignnet.evaluation.presets import PRESETS, fold_options
from alignnet.evaluation.protocols import make_folds
from alignnet.evaluation.scoring import predict_windows
from alignnet.models.baselines import PARAM_GRIDS, make_baseline
from alignnet.names import DECODE

#: name -> AlignNetEstimator parameters (``overrides`` are `AlignNetConfig` overrides; keys
#: starting with "_" are handled here: ``_no_pretrain`` fine-tunes from random weights,
#: ``_finetune_epochs`` multiplies the preset's fine-tuning epochs).
VARIANTS: dict[str, dict[str, Any]] = {
    "context none": {"overrides": {"context": "none"}},
    "context tcn": {"overrides": {"context": "tcn"}},
    "context gru": {"overrides": {"context": "gru"}},
    "context none, widths (64,) (one level)": {"overrides": {"context": "none", "widths": (64,)}},
    "context none, neuron relu": {"neuron": "relu", "overrides": {"context": "none"}},
    "context tcn, neuron relu": {"neuron": "relu", "overrides": {"context": "tcn"}},
    "context none, causal": {"causal": True, "overrides": {"context": "none"}},
    "context tcn, causal": {"causal": True, "overrides": {"context": "tcn"}},
    "context none, contrastive weight 0": {
        "overrides": {"context": "none", "contrastive_weight": 0.0}
    },
    "context none, no pretraining": {"_no_pretrain": True, "overrides": {"context": "none"}},
    "context none, finetune epochs x3": {
        "_finetune_epochs": 3.0,
        "overrides": {"context": "none"},
    },
    "context tcn, finetune epochs x3": {"_finetune_epochs": 3.0, "overrides": {"context": "tcn"}},
    "context tcn, causal, finetune epochs x3": {
        "causal": True,
        "_finetune_epochs": 3.0,
        "overrides": {"context": "tcn"},
    },
    "context tcn, finetune min 600 steps": {
        "overrides": {"context": "tcn", "finetune.min_steps": 600}
    },
    "context none, finetune min 600 steps": {
        "overrides": {"context": "none", "finetune.min_steps": 600}
    },
    "context tcn, no pretraining": {"_no_pretrain": True, "overrides": {"context": "tcn"}},
    "context none, behaviour recon weight 0": {
        "overrides": {"context": "none", "behavior_recon_weight": 0.0}
    },
}


def _scores(model: Any, windows: Any, index: np.ndarray) -> tuple[float, float, float]:
    """Decode R² over whole windows, their first half and their second half."""
    test = windows[index]
    pred = predict_windows(model, DECODE, test)
    half = test.behavior.shape[-1] // 2
    y = test.behavior
    return (
        float(r2_score(y, pred)),
        float(r2_score(y[..., :half], pred[..., :half])),
        float(r2_score(y[..., half:], pred[..., half:])),
    )


def run_variant(
    variant: dict[str, Any], windows: Any, folds: list, *, seed: int, preset: Any
) -> np.ndarray:
    """``[3]`` mean (whole, first half, second half) decode R² over the folds' test sets."""
    params = {k: v for k, v in variant.items() if not k.startswith("_")}
    overrides = {**preset.alignnet_overrides, **params.pop("overrides", {})}
    fine = max(1, round(preset.finetune_epochs * variant.get("_finetune_epochs", 1.0)))
    scores = []
    for fold in folds:
        model = AlignNetEstimator(
            pretrain_epochs=preset.pretrain_epochs,
            finetune_epochs=fine,
            finetune_lr=AlignNetEstimator.param_grid[0]["finetune_lr"],
            overrides=overrides,
            **params,
        )
        if not variant.get("_no_pretrain"):
            model.pretrain(windows[fold.pretrain], seed=seed)
        model.fit(windows[fold.train], windows[fold.val], task=DECODE, seed=seed)
        scores += [_scores(model, windows, t.index) for t in fold.tests]
    return np.mean(scores, axis=0)


def run_baseline(name: str, windows: Any, folds: list, *, seed: int, preset: Any) -> np.ndarray:
    """The same three scores for a baseline at its default (first) setting."""
    scores = []
    for fold in folds:
        extra = {} if name == "Wiener" else {"epochs": preset.epochs, "batch_size": 32}
        model = make_baseline(name, **{**PARAM_GRIDS[name][0], **extra})
        model.fit(windows[fold.train], windows[fold.val], task=DECODE, seed=seed)
        scores += [_scores(model, windows, t.index) for t in fold.tests]
    return np.mean(scores, axis=0)


def load_windows(args: argparse.Namespace) -> Any:
    """The benchmark's windows, the synthetic data with sliding windows, or a recording's
    hand position."""
    preset = PRESETS[args.preset]
    if args.target != "vel":
        from alignnet.data.io import load_sessions
        from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows

        sessions = load_sessions(Path(args.data), target=args.target)
        return sessions_to_windows(sessions, preprocess_config_for(sessions))
    if args.data == "synthetic" and args.windows != "trial":
        from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows
        from alignnet.data.synthetic import generate_sessions, make_config

        stride = int(args.windows.split(":")[1])
        sessions = generate_sessions(make_config(preset.data_preset), seed=0)
        return sessions_to_windows(sessions, PreprocessConfig(align="sliding", stride_bins=stride))
    windows, _ = load_benchmark_windows(args.data, preset=preset.data_preset)
    return windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="reach-position", choices=sorted(PRESETS))
    parser.add_argument("--protocol", default="single-day", choices=["single-day", "contiguous"])
    parser.add_argument("--data", default="synthetic", help="'synthetic' or a recording path")
    parser.add_argument("--target", default="vel", choices=["vel", "pos"], help="a recording's")
    parser.add_argument("--windows", default="trial", help="'trial' or 'sliding:S' (synthetic)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="*", default=None, help="names in VARIANTS")
    parser.add_argument("--baselines", nargs="*", default=[], help="e.g. GRU Wiener")
    parser.add_argument("--list", action="store_true", help="print the variant names")
    args = parser.parse_args()
    if args.list:
        print("\n".join(VARIANTS))
        return
    torch.set_num_threads(1)
    names = list(VARIANTS) if args.variants is None else args.variants
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; see --list")
    preset = PRESETS[args.preset]
    windows = load_windows(args)
    folds = make_folds(args.protocol, windows, **fold_options(args.protocol, preset, windows))
    print(
        f"# {args.data} {args.preset} {args.protocol}, windows "
        f"{args.windows}, seeds {args.seeds}, {len(folds[0].train)} training windows, "
        f"behaviour {list(windows.behavior_names)}"
    )
    print("| variant | decode R² | first half | second half | per seed (whole) | wall s |")
    print("|---|---|---|---|---|---|")
    rows = [(f"baseline {b}", b) for b in args.baselines] + [(n, None) for n in names]
    for label, baseline in rows:
        t0 = time.perf_counter()
        per_seed = []
        for seed in args.seeds:
            if baseline is not None:
                per_seed.append(run_baseline(baseline, windows, folds, seed=seed, preset=preset))
            else:
                variant = VARIANTS[label]
                per_seed.append(run_variant(variant, windows, folds, seed=seed, preset=preset))
        mean = np.mean(per_seed, axis=0)
        seeds_txt = " / ".join(f"{s[0]:.3f}" for s in per_seed)
        print(
            f"| {label} | {mean[0]:.3f} | {mean[1]:.3f} | {mean[2]:.3f} | {seeds_txt} | "
            f"{time.perf_counter() - t0:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
