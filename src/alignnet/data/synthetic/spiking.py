"""Spike times of one unit from a piecewise-constant log rate (shared by the multi-day
generator `alignnet.data.synthetic.neurons` and the reaching regime
`alignnet.data.synthetic.reach`; numpy only, so neither imports the other)."""

from __future__ import annotations

import numpy as np


def spike_samples_from_log_rate(
    log_rate: np.ndarray,
    *,
    dt: float,
    sampling_rate_hz: float,
    refractory_s: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Spike sample indices of one unit whose rate is piecewise constant on a grid.

    Args:
        log_rate: ``[n_grid]`` log rate (Hz) in cells ``[i*dt, (i+1)*dt)`` from time 0.
        dt: grid cell width, s.
        sampling_rate_hz: acquisition clock; spike time = index / sampling_rate_hz.
        refractory_s: minimum interval between kept spikes, s.

    Returns:
        ``[n_spikes]`` sorted int64 sample indices, all ``< n_grid * dt * sampling_rate_hz``.

    Method: exact inhomogeneous Poisson by time rescaling (uniform points on the integrated
    intensity mapped back through it), then every spike closer than the refractory period to
    its predecessor is dropped (this keeps every interval >= the period).
    """
    cumulative = np.concatenate([[0.0], np.cumsum(np.exp(log_rate) * dt)])
    n = rng.poisson(cumulative[-1])
    u = np.sort(rng.uniform(0.0, cumulative[-1], n))
    edges = np.arange(log_rate.shape[0] + 1) * dt
    times = np.interp(u, cumulative, edges)
    samples = np.floor(times * sampling_rate_hz).astype(np.int64)
    samples = np.minimum(samples, int(np.floor(edges[-1] * sampling_rate_hz)) - 1)
    if samples.size > 1:
        refractory = int(np.ceil(refractory_s * sampling_rate_hz))
        keep = np.concatenate([[True], np.diff(samples) >= refractory])
        samples = samples[keep]
    return samples
