"""Why does AlignNet decode worse than a GRU on data it was not tuned on? One change at a time.

Trains AlignNet-LIF (decode only) on the benchmark's folds of a synthetic preset with one
configuration change per row (``AlignNet(**overrides)``, see
`alignnet.config.AlignNetConfig.with_overrides`), and prints decode R² per variant
with its wall time. Folds, windows, epochs and the first fine-tuning setting are those of
``alignnet benchmark --preset P`` (one tuning setting, so this is a screen: the benchmark
itself tunes over the preset's budget).

    python benchmarks/accuracy_ablation.py --preset reach --protocol single-day --seeds 0
    python benchmarks/accuracy_ablation.py --preset demo --protocol cross-day \\
        --variants arch=paper default
    python benchmarks/accuracy_ablation.py --preset standard --protocol contiguous \\
        --data ../shared/data/m1_stevenson_2011.mat --baselines GRU

Variant names are in `VARIANTS`; ``--list`` prints them. ``--baselines GRU Wiener`` adds
those rows (their default setting, the preset's epochs) for reference. Run from the project
root; one thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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
from alignnet.models.baselines.base import DECODE

#: name -> AlignNet overrides, applied on top of ``arch="paper"`` (the recipe before issue 14;
#: "default" is this version's recipe). Keys starting with "_" are handled here, not by the config:
#: ``_pretrain_epochs`` / ``_finetune_epochs`` (multipliers of the preset's epochs) and
#: ``_no_pretrain`` (fine-tune from random weights).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {"arch": "default"},
    "arch=paper": {},
    "default + pretrain min 300 steps": {"arch": "default", "pretrain.min_steps": 300},
    "default + pretrain min 1000 steps": {"arch": "default", "pretrain.min_steps": 1000},
    "default + finetune min 600 steps": {"arch": "default", "finetune.min_steps": 600},
    "default + finetune lr 3e-3": {"arch": "default", "finetune.lr": 3e-3},
    "default + contrastive weight 0.1": {"arch": "default", "contrastive_weight": 0.1},
    "default + finetune patience 12": {"arch": "default", "finetune.patience": 12},
    "default + neuron relu": {"arch": "default", "neuron": "relu"},
    "default + finetune weight decay 1e-2": {"arch": "default", "finetune.weight_decay": 1e-2},
    "default + widths (96, 128)": {"arch": "default", "widths": (96, 128)},
    # training length and optimisation
    "no pretraining": {"_no_pretrain": True},
    "finetune epochs x3": {"_finetune_epochs": 3.0},
    "pretrain epochs x3": {"_pretrain_epochs": 3.0},
    "finetune batch 16": {"finetune.batch_size": 16},
    "finetune batch 16, pretrain batch 16": {"finetune.batch_size": 16, "pretrain.batch_size": 16},
    "finetune batch 8": {"finetune.batch_size": 8},
    "batch 16 both, finetune min 300 steps": {
        "finetune.batch_size": 16,
        "pretrain.batch_size": 16,
        "finetune.min_steps": 300,
    },
    "finetune batch 16, finetune min 300 steps": {
        "finetune.batch_size": 16,
        "finetune.min_steps": 300,
    },
    "batch 16 both, neuron relu": {
        "finetune.batch_size": 16,
        "pretrain.batch_size": 16,
        "neuron": "relu",
    },
    "finetune lr 3e-3": {"finetune.lr": 3e-3},
    "finetune patience 0 (no early stop)": {"finetune.patience": 0},
    "finetune min 400 steps": {"finetune.min_steps": 400},
    "pretrain+finetune min 400 steps": {"finetune.min_steps": 400, "pretrain.min_steps": 400},
    # pretraining objective
    "contrastive weight 0": {"contrastive_weight": 0.0},
    "contrastive weight 0.1": {"contrastive_weight": 0.1},
    "init temperature 0.5": {"init_temperature": 0.5},
    "spike recon weight 0": {"spike_recon_weight": 0.0},
    # architecture
    "widths (64,) (one level)": {"widths": (64,)},
    "neuron relu": {"neuron": "relu"},
    "decode head linear skip": {"decode_skip": True},
    # normalisation
    "spike transform sqrt": {"spike_transform": "sqrt"},
    "spike std floor 0.5": {"spike_std_floor": 0.5},
    "per-day norm off": {"per_day_norm": False},
}


def _r2(model: Any, windows: Any, index: np.ndarray) -> float:
    test = windows[index]
    pred = predict_windows(model, DECODE, test)
    return float(r2_score(test.behavior, pred))


def run_alignnet(
    windows: Any, folds: list, overrides: dict[str, Any], *, seed: int, preset: Any, scale: float
) -> list[float]:
    """Decode R² of every test set of every fold for one variant and seed."""
    own = {k: v for k, v in overrides.items() if k.startswith("_")}
    cfg = {"arch": "paper", **{k: v for k, v in overrides.items() if not k.startswith("_")}}
    pre = max(1, round(preset.pretrain_epochs * scale * own.get("_pretrain_epochs", 1.0)))
    fine = max(1, round(preset.finetune_epochs * scale * own.get("_finetune_epochs", 1.0)))
    neuron = cfg.pop("neuron", "lif")
    scores = []
    for fold in folds:
        # the benchmark's first fine-tuning setting, unless the variant sets it
        first = AlignNetEstimator.param_grid[0]["finetune_lr"]
        model = AlignNetEstimator(
            neuron=neuron,
            pretrain_epochs=pre,
            finetune_epochs=fine,
            finetune_lr=cfg.get("finetune.lr", first),
            overrides={**preset.alignnet_overrides, **cfg},
        )
        if not own.get("_no_pretrain"):
            model.pretrain(windows[fold.pretrain], seed=seed)
        model.fit(windows[fold.train], windows[fold.val], task=DECODE, seed=seed)
        scores += [_r2(model, windows, t.index) for t in fold.tests]
    return scores


def run_baseline(
    name: str, windows: Any, folds: list, *, seed: int, preset: Any, scale: float
) -> list[float]:
    """Decode R² of a baseline at its default (first) setting."""
    scores = []
    for fold in folds:
        extra = (
            {"epochs": max(1, round(preset.epochs * scale)), "batch_size": preset.batch_size}
            if name not in ("Wiener",)
            else {}
        )
        model = make_baseline(name, **{**PARAM_GRIDS[name][0], **extra})
        model.fit(windows[fold.train], windows[fold.val], task=DECODE, seed=seed)
        scores += [_r2(model, windows, t.index) for t in fold.tests]
    return scores


def _windows(args: argparse.Namespace, data_preset: str) -> Any:
    """The benchmark's windows, or the synthetic preset's with other windowing/smoothing."""
    if args.data != "synthetic" or (args.windows == "trial" and args.smooth_sigma == 1.0):
        windows, _ = load_benchmark_windows(args.data, preset=data_preset)
    else:
        from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows
        from alignnet.data.synthetic import generate_sessions, make_config

        prep: dict[str, Any] = {"smooth_sigma_bins": args.smooth_sigma}
        if args.windows.startswith("sliding:"):
            prep.update(placement="sliding", stride_bins=int(args.windows.split(":")[1]))
        sessions = generate_sessions(make_config(data_preset), seed=0)
        windows = sessions_to_windows(sessions, PreprocessConfig(**prep))
    if args.sqrt_spikes:
        windows = dataclasses.replace(windows, spikes=np.sqrt(windows.spikes))
    return windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="reach", choices=sorted(PRESETS))
    parser.add_argument(
        "--protocol", default="single-day", choices=["single-day", "cross-day", "contiguous"]
    )
    parser.add_argument(
        "--data", default="synthetic", help="'synthetic' (the preset's data) or a recording path"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="+", default=None, help="names in VARIANTS")
    parser.add_argument("--baselines", nargs="*", default=[], help="e.g. GRU Wiener")
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="append JSON lines here")
    parser.add_argument("--list", action="store_true", help="print the variant names")
    parser.add_argument(
        "--windows",
        default="trial",
        help="synthetic data only: 'trial' (the benchmark's 2 s trial-start windows) or "
        "'sliding:S' (100-bin windows every S bins inside each trial)",
    )
    parser.add_argument(
        "--smooth-sigma", type=float, default=1.0, help="behaviour smoothing, bins (synthetic)"
    )
    parser.add_argument(
        "--sqrt-spikes", action="store_true", help="feed every model sqrt(counts) (data side)"
    )
    parser.add_argument(
        "--train-fraction",
        type=float,
        default=1.0,
        help="keep only the first fraction of each fold's training windows (every row)",
    )
    args = parser.parse_args()
    if args.list:
        print("\n".join(VARIANTS))
        return
    torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    windows = _windows(args, preset.data_preset)
    folds = make_folds(args.protocol, windows, **fold_options(args.protocol, preset, windows))
    if args.train_fraction < 1.0:
        cut = [f.train[: max(1, round(args.train_fraction * len(f.train)))] for f in folds]
        # single-day AlignNet pretrains on the day's training part: shrink it the same way
        folds = [
            dataclasses.replace(
                f,
                train=c,
                pretrain=np.concatenate([c, f.val])
                if args.protocol == "single-day"
                else f.pretrain,
            )
            for f, c in zip(folds, cut, strict=True)
        ]
    names = args.variants or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; see --list")
    rows = [(f"baseline {b}", b) for b in args.baselines] + [(n, None) for n in names]
    print(
        f"# {args.data} {args.preset} {args.protocol}, seeds {args.seeds}, {len(folds)} fold(s),"
        f" windows {args.windows}, smooth {args.smooth_sigma}, sqrt {args.sqrt_spikes},"
        f" train fraction {args.train_fraction}, {len(folds[0].train)} training windows"
    )
    print("| variant | decode R² (mean over test sets and seeds) | per seed | wall s |")
    print("|---|---|---|---|")
    for label, baseline in rows:
        t0 = time.perf_counter()
        per_seed = []
        for seed in args.seeds:
            if baseline is not None:
                s = run_baseline(
                    baseline, windows, folds, seed=seed, preset=preset, scale=args.epochs_scale
                )
            else:
                s = run_alignnet(
                    windows,
                    folds,
                    VARIANTS[label],
                    seed=seed,
                    preset=preset,
                    scale=args.epochs_scale,
                )
            per_seed.append(float(np.mean(s)))
        wall = time.perf_counter() - t0
        seeds_txt = " / ".join(f"{v:.3f}" for v in per_seed)
        print(f"| {label} | {np.mean(per_seed):.3f} | {seeds_txt} | {wall:.0f} |", flush=True)
        if args.out is not None:
            with args.out.open("a", encoding="utf-8") as fh:
                fh.write(
                    json.dumps(
                        {
                            "preset": args.preset,
                            "data": args.data,
                            "protocol": args.protocol,
                            "variant": label,
                            "windows": args.windows,
                            "smooth_sigma": args.smooth_sigma,
                            "sqrt_spikes": args.sqrt_spikes,
                            "train_fraction": args.train_fraction,
                            "n_train_windows": len(folds[0].train),
                            "seeds": args.seeds,
                            "r2_per_seed": per_seed,
                            "r2": float(np.mean(per_seed)),
                            "wall_s": wall,
                        }
                    )
                    + "\n"
                )


if __name__ == "__main__":
    main()
