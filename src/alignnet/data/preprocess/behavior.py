"""Behaviour onto the spike bins (paper eq. 1) and Gaussian smoothing (paper eq. 3).

The paper brings its 1 kHz joystick signal to the 50 Hz bin rate by linear interpolation
(eq. 1, "the downsampling ... is implemented similarly to the interpolation step"), then
smooths it with a normalised Gaussian kernel (eq. 3). `resample_behavior` therefore defaults
to ``method="interp"``: linear interpolation at each bin's centre.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.ndimage import gaussian_filter1d

from alignnet.errors import DataError

ResampleMethod = Literal["interp", "mean"]


def bin_centres(edges: np.ndarray) -> np.ndarray:
    """``[n_bins]`` centres of the bins ``[edges[k], edges[k + 1])``, s."""
    edges = np.asarray(edges, dtype=np.float64)
    return 0.5 * (edges[:-1] + edges[1:])


def resample_behavior(
    times: np.ndarray,
    values: np.ndarray,
    edges: np.ndarray,
    *,
    method: ResampleMethod = "interp",
) -> np.ndarray:
    """Behaviour sampled at its own clock -> one value per spike bin.

    Args:
        times: ``[n_samples]`` strictly increasing sample times, s.
        values: ``[n_samples, D]`` (or ``[n_samples]``) behaviour.
        edges: ``[n_bins + 1]`` bin edges, s.
        method: ``"interp"`` (default, paper eq. 1): linear interpolation at the bin centres;
            outside the sampled span the first/last sample is held. ``"mean"``: the mean of
            the samples inside each bin ``[e_k, e_{k+1})`` (a box anti-aliasing filter);
            bins holding no sample fall back to ``"interp"``.

    Returns:
        ``[n_bins, D]`` float64 behaviour at the bin rate.
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != times.shape[0] or times.size == 0:
        raise DataError(
            f"{times.shape} time stamps for behaviour of shape {values.shape}",
            field="behavior_times",
        )
    if np.any(np.diff(times) <= 0):
        raise DataError("time stamps must be strictly increasing", field="behavior_times")
    centres = bin_centres(edges)
    interpolated = np.stack(
        [np.interp(centres, times, values[:, d]) for d in range(values.shape[1])], axis=1
    ).reshape(centres.shape[0], values.shape[1])
    if method == "interp":
        return interpolated
    if method != "mean":
        raise ValueError(f"method must be 'interp' or 'mean', got {method!r}")
    # Sum of the samples in each bin through a cumulative sum (exact in float64 for any bin).
    position = np.searchsorted(times, np.asarray(edges, dtype=np.float64), side="left")
    cumulative = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    n_in_bin = np.diff(position)
    sums = cumulative[position[1:]] - cumulative[position[:-1]]
    filled = n_in_bin > 0
    out = interpolated.copy()
    out[filled] = sums[filled] / n_in_bin[filled, None]
    return out


def gaussian_kernel(sigma_bins: float, *, truncate: float = 4.0) -> np.ndarray:
    """Paper eq. 3 kernel, normalised to sum to 1 (the same kernel scipy applies).

    ``G[i] ∝ exp(-i^2 / (2 sigma^2))`` for ``i = -k..k`` with ``k = int(truncate * sigma + 0.5)``.

    Returns:
        ``[2k + 1]`` float64 weights.
    """
    if not sigma_bins > 0:
        return np.ones(1)
    k = int(truncate * sigma_bins + 0.5)
    i = np.arange(-k, k + 1, dtype=np.float64)
    weights = np.exp(-(i**2) / (2.0 * sigma_bins**2))
    return weights / weights.sum()


def gaussian_smooth(
    x: np.ndarray, *, sigma_bins: float, truncate: float = 4.0, axis: int = 0
) -> np.ndarray:
    """Smooth along ``axis`` with the normalised Gaussian of paper eq. 3.

    Args:
        x: array, e.g. ``[n_bins, D]`` behaviour at the bin rate.
        sigma_bins: standard deviation in bins (``0`` returns a float64 copy, no smoothing).
        truncate: the kernel reaches ``k = int(truncate * sigma_bins + 0.5)`` bins each side.
        axis: time axis.

    Returns:
        float64 array of ``x``'s shape. Ends are padded by repeating the first/last value
        (scipy ``mode="nearest"``), so a constant signal stays constant (up to float rounding).
    """
    x = np.asarray(x, dtype=np.float64)
    if sigma_bins < 0 or truncate <= 0:
        raise ValueError(f"need sigma_bins >= 0 and truncate > 0, got {sigma_bins}, {truncate}")
    if sigma_bins == 0:
        return x.copy()
    return gaussian_filter1d(x, sigma_bins, axis=axis, mode="nearest", truncate=truncate)
