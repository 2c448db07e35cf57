"""Preprocessing speed and windows-file size on a paper-sized day (side by side, one run).

A 30 min day: 64 channels at ~10 Hz (~1.15 M spikes), 1 kHz 2-D behaviour, 900 trials of 2 s.
Prints: binning with `bin_spike_times` (searchsorted) vs `np.histogram` per channel, the whole
`session_to_windows`, and the windows file size with compact integer spikes vs float32.

Run: python benchmarks/bench_preprocess.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from alignnet.data import Session, SessionMeta, Trials
from alignnet.data.io import save_windows
from alignnet.data.preprocess import (
    PreprocessConfig,
    bin_edges,
    bin_spike_times,
    session_to_windows,
)


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    duration, n_channels = 1800.0, 64
    spikes = [
        np.sort(rng.uniform(0, duration, rng.poisson(10 * duration))) for _ in range(n_channels)
    ]
    t = np.arange(0, duration, 0.001)
    behavior = np.stack([np.sin(t), np.cos(t)], axis=1)
    starts = np.arange(900) * 2.0
    trials = Trials(
        start=starts, stop=starts + 2.0, target=np.arange(900) % 8, success=np.ones(900)
    )
    session = Session(
        0.0, duration, behavior, t, trials, SessionMeta(), spike_times=spikes
    ).validate()
    edges = bin_edges(0.0, duration, bin_s=0.02)

    ours = best_of(lambda: bin_spike_times(spikes, edges))
    hist = best_of(lambda: [np.histogram(s, edges)[0] for s in spikes])
    whole = best_of(lambda: session_to_windows(session, PreprocessConfig()), repeats=3)
    print(f"spikes: {sum(s.size for s in spikes)}, bins: {edges.size - 1}, channels: {n_channels}")
    print(f"bin_spike_times (searchsorted): {ours * 1e3:.1f} ms")
    print(f"np.histogram per channel:       {hist * 1e3:.1f} ms  (ratio {hist / ours:.1f}x)")
    print(f"session_to_windows (900 windows [64, 100]): {whole * 1e3:.1f} ms")

    windows = session_to_windows(session, PreprocessConfig())
    with tempfile.TemporaryDirectory() as folder:
        compact = save_windows(windows, Path(folder) / "a.npz").stat().st_size
        as_float = windows.__class__(**{**vars(windows), "spikes": windows.spikes + 0.5})
        floats = save_windows(as_float, Path(folder) / "b.npz").stat().st_size
    print(
        f"windows file: integer spikes {compact / 1e6:.2f} MB, float32 spikes {floats / 1e6:.2f} MB"
        f" (ratio {floats / compact:.1f}x)"
    )


if __name__ == "__main__":
    main()
