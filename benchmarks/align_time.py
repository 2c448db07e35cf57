"""How long `AlignNet.align` takes for one new recording day, with 1 and 2 torch threads.

Usage (the numbers in docs/results.md section 8):

    alignnet data synth --preset nwb-turnover --seed 0 --format nwb --out data/nwb-turnover
    python benchmarks/align_time.py data/nwb-turnover --new-day 30 --repeats 3

A default-size AlignNet is pretrained for ``--pretrain-epochs`` on the other days (the time of an
alignment does not depend on how well the model was trained), then the new day is aligned
``--repeats`` times from the same state with each thread count; the script prints the wall
time of each alignment (min / median / max) and the day's size.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import warnings

import torch

from alignnet.api import AlignNet
from alignnet.data.io import load_sessions
from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder of one subject's recordings (e.g. NWB files)")
    parser.add_argument("--new-day", type=int, required=True, help="day index to align")
    parser.add_argument("--channels", default="auto", choices=["auto", "electrode", "unit"])
    parser.add_argument("--epochs", type=int, default=None, help="align epochs (default: 40)")
    parser.add_argument("--pretrain-epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sessions = load_sessions(args.data, channels=args.channels)
    windows = sessions_to_windows(sessions, preprocess_config_for(sessions))
    new = windows.select_days([args.new_day])
    others = [int(d) for d in windows.days if int(d) != args.new_day]
    model = AlignNet(seed=args.seed, device="cpu", epochs=args.pretrain_epochs)
    model.pretrain(windows.select_days(others), progress=False)
    print(
        f"new day {args.new_day}: {len(new)} windows x {new.n_channels} channels x "
        f"{new.window_len} bins; {model.config.align_epochs if args.epochs is None else args.epochs}"
        f" epochs"
    )
    for threads in (1, 2):
        torch.set_num_threads(threads)
        times = []
        for _ in range(args.repeats):
            trial = copy.deepcopy(model)
            start = time.perf_counter()
            trial.align(new, epochs=args.epochs, seed=args.seed, progress=False)
            times.append(time.perf_counter() - start)
        print(
            f"threads {threads}: align {min(times):.1f} / {statistics.median(times):.1f} / "
            f"{max(times):.1f} s (min / median / max of {args.repeats})"
        )


if __name__ == "__main__":
    main()
