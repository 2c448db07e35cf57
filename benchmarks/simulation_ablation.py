"""Which AlignNet simulator is best? One change at a time, scored against the true-rate ceiling.

Fits AlignNet-LIF (simulate only) on the benchmark's folds of a preset with one configuration
change per variant (`AlignNetConfig.with_overrides`), plus baseline rows at their first
setting, and prints per row: PCC, bits/spike over the test day's mean rates, both as a
fraction of the true rates' (synthetic data), and the spike statistics of the samples
(`alignnet.evaluation.sample_scoring`). One tuning setting: a screen, not the benchmark.

    python benchmarks/simulation_ablation.py --preset reach --seeds 0 \\
        --variants mse poisson --baselines PoissonGLM
    python benchmarks/simulation_ablation.py --preset standard --protocol contiguous \\
        --data ../shared/data/m1_stevenson_2011.mat --variants poisson --baselines PoissonGLM

Run from the project root; one thread.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from alignnet.estimator import AlignNetEstimator
from alignnet.evaluation.benchmark import PRESETS, fold_options
from alignnet.evaluation.data_source import load_benchmark_windows
from alignnet.evaluation.protocols import make_folds
from alignnet.evaluation.sample_scoring import reference_decoder, sample_scores
from alignnet.evaluation.scoring import predict_windows
from alignnet.evaluation.simulation_metrics import simulation_scores
from alignnet.models.baselines import PARAM_GRIDS, make_baseline
from alignnet.names import SIMULATE

VARIANTS: dict[str, dict[str, Any]] = {
    "mse": {"simulate_loss": "mse"},
    "poisson": {"simulate_loss": "poisson"},
}
KEYS = ("pcc", "pcc_of_ceiling", "bits_per_spike", "bits_of_ceiling", "ceiling_pcc",
        "ceiling_bits_per_spike", "psth_r2", "stats_fano_100ms_error", "stats_corr_r",
        "stats_corr_rmse", "poisson_stats_fano_100ms_error", "poisson_stats_corr_r",
        "poisson_stats_corr_rmse", "decodability")  # fmt: skip


def _score(model: Any, windows: Any, fold: Any, seed: int) -> list[dict[str, float]]:
    train = windows[fold.train]
    decoder = reference_decoder(train, windows[fold.val], seed=seed)
    mean = train.spikes.mean(axis=(0, 2))
    out = []
    for t in fold.tests:
        test = windows[t.index]
        rates = predict_windows(model, SIMULATE, test)
        scores = simulation_scores(test, rates, mean[: test.n_channels])
        scores.update(sample_scores(model, test, rates, decoder=decoder, seed=seed))
        out.append(scores)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="reach", choices=sorted(PRESETS))
    parser.add_argument("--protocol", default="single-day")
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="*", default=["poisson"], choices=sorted(VARIANTS))
    parser.add_argument("--baselines", nargs="*", default=[])
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None, help="append JSON lines here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    preset = PRESETS[args.preset]
    windows, _ = load_benchmark_windows(args.data, preset=preset.data_preset)
    folds = make_folds(args.protocol, windows, **fold_options(args.protocol, preset, windows))

    def epochs(n: int) -> int:
        return max(1, round(n * args.epochs_scale))

    rows: list[tuple[str, Any]] = []
    for name in args.variants:
        rows.append((f"AlignNet-LIF {name}", VARIANTS[name]))
    rows += [(b, None) for b in args.baselines]
    for seed in args.seeds:
        for label, overrides in rows:
            start = time.perf_counter()
            scores = []
            for fold in folds:
                if overrides is not None:
                    model = AlignNetEstimator(
                        pretrain_epochs=epochs(preset.pretrain_epochs),
                        finetune_epochs=epochs(preset.finetune_epochs),
                        finetune_lr=AlignNetEstimator.param_grid[0]["finetune_lr"],
                        overrides={**preset.alignnet_overrides, **overrides},
                    )
                    model.pretrain(windows[fold.pretrain], seed=seed)
                else:
                    extra = {"epochs": epochs(preset.epochs), "batch_size": preset.batch_size}
                    grid = dict(PARAM_GRIDS[label][0])
                    try:
                        model = make_baseline(label, **grid, **extra)
                    except TypeError:
                        model = make_baseline(label, **grid)
                model.fit(windows[fold.train], windows[fold.val], task=SIMULATE, seed=seed)
                scores += _score(model, windows, fold, seed)
            mean = {k: float(np.nanmean([s.get(k, np.nan) for s in scores])) for k in KEYS}
            line = {"row": label, "seed": seed, "preset": args.preset, "data": args.data,
                    "protocol": args.protocol, "wall_s": round(time.perf_counter() - start, 1),
                    **mean}  # fmt: skip
            print(json.dumps(line), flush=True)
            if args.out:
                with args.out.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
