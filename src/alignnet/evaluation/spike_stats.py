"""Spike statistics of sampled spikes against held-out spikes (after LDNS, Kapoor et al.,
NeurIPS 2024): what a recording's counts look like beyond their mean rates.

All inputs are windows of counts ``[N, C, L]`` (bins of ``bin_s`` s). A simulator's samples
are drawn for the *same* behaviour as the held-out windows, so every statistic is compared
window for window. See docs/metrics.md for the definitions.
"""

from __future__ import annotations

import warnings

import numpy as np

from alignnet.evaluation.simulation_metrics import condition_groups

FANO_WINDOWS_S = (0.1, 0.5)
CORRELATION_WINDOW_S = 0.1
MAX_LAG = 5


def summed_counts(counts: np.ndarray, *, bin_s: float, window_s: float) -> np.ndarray:
    """``[N, C, L]`` -> ``[N, C, L // k]`` counts in non-overlapping windows of ``k`` bins
    (``k = round(window_s / bin_s)``, at least 1; a trailing partial window is dropped)."""
    x = np.asarray(counts, dtype=np.float64)
    k = max(1, int(round(window_s / bin_s)))
    m = x.shape[2] // k
    if m == 0:  # windows shorter than one Fano window: the whole window
        return x.sum(axis=2, keepdims=True)
    return x[:, :, : m * k].reshape(x.shape[0], x.shape[1], m, k).sum(axis=3)


def fano_factor(counts: np.ndarray, *, bin_s: float, window_s: float) -> np.ndarray:
    """``[C]`` variance / mean of each channel's counts in ``window_s`` windows (all windows
    pooled: behaviour-driven variance included); NaN for a silent channel. 1 for Poisson
    counts of a constant rate."""
    s = summed_counts(counts, bin_s=bin_s, window_s=window_s)
    flat = s.transpose(0, 2, 1).reshape(-1, s.shape[1])
    mean, var = flat.mean(axis=0), flat.var(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, var / mean, np.nan)


def autocorrelation(counts: np.ndarray, *, max_lag: int = MAX_LAG) -> np.ndarray:
    """``[max_lag]`` bin-level autocorrelation at lags ``1..max_lag`` (within windows), each
    channel's counts centred on its mean, averaged over channels that vary."""
    x = np.asarray(counts, dtype=np.float64)
    x = x - x.mean(axis=(0, 2), keepdims=True)
    var = (x**2).mean(axis=(0, 2))
    out = np.full(max_lag, np.nan)
    ok = var > 0
    if not ok.any():
        return out
    for lag in range(1, min(max_lag, x.shape[2] - 1) + 1):
        cov = (x[:, :, lag:] * x[:, :, :-lag]).mean(axis=(0, 2))
        out[lag - 1] = float(np.mean(cov[ok] / var[ok]))
    return out


def count_correlations(
    counts: np.ndarray, *, bin_s: float, target: np.ndarray | None = None
) -> np.ndarray:
    """``[C, C]`` pairwise correlations of counts in `CORRELATION_WINDOW_S` windows.

    Where trials repeat a condition (``target``), each condition's mean (per window
    position) is subtracted first: these are *noise* correlations. Otherwise they are the
    total correlations. A silent channel's row and column are NaN.
    """
    s = summed_counts(counts, bin_s=bin_s, window_s=CORRELATION_WINDOW_S)  # [N, C, M]
    groups = condition_groups(target) if target is not None else []
    if groups:
        resid = np.concatenate([s[g] - s[g].mean(axis=0, keepdims=True) for g in groups])
    else:
        resid = s - s.mean(axis=(0, 2), keepdims=True)
    flat = resid.transpose(0, 2, 1).reshape(-1, s.shape[1])
    flat = flat - flat.mean(axis=0)
    sd = flat.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = flat / sd
        corr = (z.T @ z) / flat.shape[0]
    corr[~(sd > 0), :] = np.nan
    corr[:, ~(sd > 0)] = np.nan
    return corr


def compare_matrices(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``(Pearson r, RMSE)`` of the off-diagonal entries of two ``[C, C]`` matrices (pairs
    with NaN in either left out); NaN when fewer than 3 pairs remain."""
    iu = np.triu_indices(a.shape[0], k=1)
    x, y = a[iu], b[iu]
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float("nan"), float("nan")
    x, y = x[ok], y[ok]
    rmse = float(np.sqrt(np.mean((x - y) ** 2)))
    if x.std() == 0 or y.std() == 0:
        return float("nan"), rmse
    return float(np.corrcoef(x, y)[0, 1]), rmse


def population_counts(counts: np.ndarray) -> np.ndarray:
    """``[N * L]`` spikes of all channels together in each bin."""
    return np.asarray(counts, dtype=np.float64).sum(axis=1).ravel()


def wasserstein_1(a: np.ndarray, b: np.ndarray) -> float:
    """Earth mover's distance between two samples of counts (same units: spikes per bin)."""
    a, b = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    q = np.linspace(0.0, 1.0, 513)[1:-1]
    return float(np.mean(np.abs(np.quantile(a, q) - np.quantile(b, q))))


def spike_statistics(
    held_out: np.ndarray,
    sample: np.ndarray,
    *,
    bin_s: float,
    target: np.ndarray | None = None,
) -> dict[str, float]:
    """How far ``sample`` ``[N, C, L]`` is from ``held_out`` (same windows) on each statistic.

    Keys (lower is closer unless noted): ``rate_rmse_hz`` (per-channel mean rate);
    ``fano_100ms_error`` / ``fano_500ms_error`` (mean |Fano factor difference| over channels)
    and ``fano_100ms`` / ``fano_500ms`` (the sample's mean Fano factor; the held-out value is
    under ``held_out_fano_*``); ``autocorr_rmse`` (lags 1..5); ``corr_r`` (higher is closer) and
    ``corr_rmse`` of the pairwise count-correlation matrices; ``popcount_w1`` (spikes per bin)
    and ``popcount_fano`` / ``held_out_popcount_fano``.
    """
    real = np.asarray(held_out, dtype=np.float64)
    sim = np.asarray(sample, dtype=np.float64)
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        dur = real.shape[0] * real.shape[2] * bin_s
        out["rate_rmse_hz"] = float(
            np.sqrt(np.mean((real.sum((0, 2)) - sim.sum((0, 2))) ** 2)) / dur
        )
        for w in FANO_WINDOWS_S:
            name = f"fano_{int(round(w * 1e3))}ms"
            f_real = fano_factor(real, bin_s=bin_s, window_s=w)
            f_sim = fano_factor(sim, bin_s=bin_s, window_s=w)
            out[f"{name}_error"] = float(np.nanmean(np.abs(f_real - f_sim)))
            out[name] = float(np.nanmean(f_sim))
            out[f"held_out_{name}"] = float(np.nanmean(f_real))
        ac_real, ac_sim = autocorrelation(real), autocorrelation(sim)
        out["autocorr_rmse"] = float(np.sqrt(np.nanmean((ac_real - ac_sim) ** 2)))
        c_real = count_correlations(real, bin_s=bin_s, target=target)
        c_sim = count_correlations(sim, bin_s=bin_s, target=target)
        out["corr_r"], out["corr_rmse"] = compare_matrices(c_real, c_sim)
        p_real, p_sim = population_counts(real), population_counts(sim)
        out["popcount_w1"] = wasserstein_1(p_real, p_sim)
        out["popcount_fano"] = float(p_sim.var() / max(p_sim.mean(), 1e-12))
        out["held_out_popcount_fano"] = float(p_real.var() / max(p_real.mean(), 1e-12))
    return out
