"""Speed and disk size of the synthetic generator and the native file format.

Prints, for each preset asked: generation time per day, save time per day, bytes on disk per
day, and bytes per spike / per behaviour sample, measured in this one run.

    python benchmarks/synthetic_generation.py                       # demo preset, into a temp dir
    python benchmarks/synthetic_generation.py --preset paper --out /tmp/paper   # the full paper set
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from alignnet.data.io.native import save_session
from alignnet.data.io.native_dataset import day_file_name
from alignnet.data.synthetic import iter_sessions, make_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="demo", choices=["tiny", "demo", "paper"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="folder (default: a temp dir)")
    args = parser.parse_args()
    config = make_config(args.preset)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        gen_s, save_s, size, spikes, samples = [], [], [], [], []
        t0 = time.perf_counter()
        for session in iter_sessions(config, seed=args.seed):
            gen_s.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            path = save_session(session, out / day_file_name(session.meta.day), overwrite=True)
            save_s.append(time.perf_counter() - t1)
            size.append(path.stat().st_size)
            spikes.append(sum(t.size for t in session.spike_times))
            samples.append(session.behavior.shape[0])
            print(
                f"day {session.meta.day:2d}: {session.duration:7.1f} s recorded, "
                f"{spikes[-1]:9d} spikes, generate {gen_s[-1]:6.2f} s, save {save_s[-1]:5.2f} s, "
                f"{size[-1] / 1e6:7.1f} MB",
                flush=True,
            )
            t0 = time.perf_counter()
        total = np.sum(gen_s) + np.sum(save_s)
        print(
            f"{args.preset}: {len(size)} days, generate {np.sum(gen_s):.1f} s + save "
            f"{np.sum(save_s):.1f} s = {total:.1f} s; disk {np.sum(size) / 1e6:.1f} MB; "
            f"{np.sum(size) / (np.sum(spikes) + 1):.2f} B/spike incl. behaviour "
            f"({np.sum(samples)} behaviour samples)"
        )


if __name__ == "__main__":
    main()
