"""A tiny trained LIF AlignNet for the streaming and export tests (seconds on one CPU core)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignnet.api import AlignNet
from helpers_alignnet import TINY_ALIGNNET, make_windows

N_CHANNELS, WINDOW = 8, 16
TINY = {**TINY_ALIGNNET, "val_fraction": 0.0, "epochs": 1}


def train_tiny(path: Path, *, tasks=("decode",), **overrides) -> AlignNet:
    """LIF model (temporal layout) on 2 hand-made days, a few optimiser steps per task."""
    windows = make_windows(n_days=2, trials_per_day=8, n_channels=N_CHANNELS, length=WINDOW)
    model = AlignNet(**{"neuron": "lif", **TINY, **overrides})
    model.pretrain(windows, progress=False)
    for task in tasks:
        model.finetune(windows, task=task, progress=False)
    model.save(path)
    return model


def recording(n_bins: int, *, seed: int = 1) -> np.ndarray:
    """``[n_bins, C]`` Poisson counts with a slow rate modulation (a continuous stream)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_bins)[:, None]
    rate = 1.5 * np.exp(0.6 * np.sin(2 * np.pi * t / 37 + rng.uniform(0, 6, size=N_CHANNELS)))
    return rng.poisson(rate).astype(np.float32)


def sliding_windows(counts: np.ndarray) -> np.ndarray:
    """``[T, C]`` -> ``[T - L + 1, C, L]``: window ``i`` ends at bin ``i + L - 1``."""
    return np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(counts, WINDOW, axis=0))
