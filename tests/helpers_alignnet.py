"""Tiny hand-made windows and model settings for the tests (no synthetic package needed).

Behaviour is a smooth 2-D centre-out reach per trial; spike counts are Poisson with
log-rates linear in position and velocity, with a per-day gain drift, so decoding is learnable.
"""

from __future__ import annotations

import numpy as np

from alignnet.data.windows import Windows

# Estimator overrides for a tiny, fast AlignNet on `make_windows` data.
TINY_ALIGNNET = {
    "model.widths": (8, 12),
    "model.latent_width": 8,
    "model.behavior_mlp_hidden": 8,
    "model.embed_dim": 8,
    "model.proj_hidden": 16,
    "batch_size": 16,
    "device": "cpu",
}


def structural_windows(
    *,
    n_days: int,
    trials_per_day: int,
    windows_per_trial: int,
    n_channels: int = 3,
    length: int = 8,
) -> Windows:
    """All-zero windows with a day/trial layout only: for split and protocol tests."""
    n = n_days * trials_per_day * windows_per_trial
    return Windows(
        spikes=np.zeros((n, n_channels, length)),
        behavior=np.zeros((n, 2, length)),
        day=np.repeat(np.arange(n_days), trials_per_day * windows_per_trial),
        trial=np.tile(np.repeat(np.arange(trials_per_day), windows_per_trial), n_days),
        t_start=np.arange(n, dtype=float),
        target=-np.ones(n),
    )


def make_windows(
    *,
    n_days: int = 2,
    trials_per_day: int = 24,
    n_channels: int = 8,
    length: int = 20,
    seed: int = 0,
) -> Windows:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, length)
    profile = 0.5 * (1 - np.cos(np.pi * t))  # smooth 0 -> 1
    tuning = rng.normal(size=(n_channels, 4))
    spikes, behavior, day, trial, target = [], [], [], [], []
    for d in range(n_days):
        gain = np.exp(rng.normal(scale=0.2, size=n_channels))
        for k in range(trials_per_day):
            tgt = int(rng.integers(8))
            angle = 2 * np.pi * tgt / 8
            pos = np.stack([np.cos(angle) * profile, np.sin(angle) * profile])  # [2, L]
            vel = np.gradient(pos, axis=1) * length / 4
            feats = np.concatenate([pos, vel])  # [4, L]
            rate = gain[:, None] * np.exp(0.3 + 0.8 * tuning @ feats) * 0.5
            spikes.append(rng.poisson(rate))
            behavior.append(pos + rng.normal(scale=0.02, size=pos.shape))
            day.append(d)
            trial.append(k)
            target.append(tgt)
    n = len(day)
    return Windows(
        spikes=np.asarray(spikes, dtype=np.float32),
        behavior=np.asarray(behavior, dtype=np.float32),
        day=np.asarray(day),
        trial=np.asarray(trial),
        t_start=np.arange(n, dtype=np.float64),
        target=np.asarray(target),
    )
