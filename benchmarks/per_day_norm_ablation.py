"""Does per-day normalisation alone rescue the baselines on a new day?

AlignNet z-scores each day's spikes with that day's own statistics (a new day's from its own
unlabelled spikes). The baselines in `alignnet benchmark` keep the training days' pooled
statistics. This script fits the Wiener filter and the MLP decoder on two days and tests them on
the next day twice: with pooled training statistics (as the benchmark does) and with every day
z-scored by its own per-channel mean/std (AlignNet's rule), so the two effects can be told
apart.

    alignnet data synth --preset paper --seed 0 --out data/paper
    python benchmarks/per_day_norm_ablation.py --data data/paper --train-days 19 20 --test-day 21

Run from the project root; about a minute on one CPU core.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from alignnet.data.io import load_session
from alignnet.data.io.native_dataset import day_file_name
from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows
from alignnet.data.preprocess.normalization import mean_std
from alignnet.data.windows import Windows
from alignnet.evaluation.metrics import pearson_r, r2_score
from alignnet.evaluation.protocols import carve_validation
from alignnet.models.baselines import make_baseline


def per_day_zscore(windows: Windows) -> Windows:
    """Each day's spikes z-scored per channel with that day's own statistics."""
    out = windows[np.arange(len(windows))]
    for day in windows.days:
        idx = np.flatnonzero(windows.day == day)
        mean, std = mean_std(windows.spikes[idx])
        out.spikes[idx] = (windows.spikes[idx] - mean[None, :, None]) / std[None, :, None]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="native dataset folder")
    parser.add_argument("--train-days", type=int, nargs="+", default=[19, 20])
    parser.add_argument("--test-day", type=int, default=21)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    days = [*args.train_days, args.test_day]
    sessions = [load_session(args.data / day_file_name(d)) for d in days]
    windows = sessions_to_windows(sessions, PreprocessConfig())
    train_all = np.flatnonzero(np.isin(windows.day, args.train_days))
    test = np.flatnonzero(windows.day == args.test_day)
    train, val = carve_validation(windows, train_all, val_fraction=0.2)

    print(
        f"train days {args.train_days} ({train.size} + {val.size} val windows), "
        f"test day {args.test_day} ({test.size} windows), seed {args.seed}\n"
    )
    print("| model | normalisation | decode R^2 | decode r |")
    print("|---|---|---|---|")
    for name in ("Wiener", "MLP"):
        for label, data in (
            ("pooled training-day stats (benchmark)", windows),
            ("each day its own stats (AlignNet's rule)", per_day_zscore(windows)),
        ):
            model = make_baseline(name)
            model.fit(data[train], data[val], task="decode", seed=args.seed)
            pred = model.predict(data.spikes[test])
            truth = data.behavior[test]
            print(
                f"| {name} | {label} | {r2_score(truth, pred):.3f} | {pearson_r(truth, pred):.3f} |"
            )


if __name__ == "__main__":
    main()
