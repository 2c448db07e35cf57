"""Metrics shared by every model and protocol (paper eq. 18-20).

Conventions (also in docs/metrics.md):
- Arrays are windows ``[N, D, L]`` (or already-flat ``[n_samples, D]``). Windows are flattened
  to ``[N*L, D]``: every metric is computed over the *concatenated test bins* of a dimension,
  then averaged over dimensions with equal weight ("uniform average").
- R^2 (eq. 18) uses the test set's own mean (sklearn's ``r2_score``); it can be negative.
- Pearson r (eq. 19) per dimension; a constant dimension gives NaN (not silently 0).
- Firing rate (eq. 20) is the fraction of bins with at least one spike, per channel.
"""

from __future__ import annotations

import numpy as np

from alignnet.data.checks import check_array
from alignnet.errors import DataError


def _as_samples(x: np.ndarray, *, name: str) -> np.ndarray:
    """``[N, D, L]`` -> ``[N*L, D]``; ``[n, D]`` is returned as float64."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3:
        return x.transpose(0, 2, 1).reshape(-1, x.shape[1])
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x[:, None]
    raise DataError(
        f"expected [N, D, L] or [n, D], got shape {x.shape}", field=name, source="metrics"
    )


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t, p = _as_samples(y_true, name="y_true"), _as_samples(y_pred, name="y_pred")
    if t.shape != p.shape:
        raise DataError(f"shapes differ: y_true {t.shape} vs y_pred {p.shape}", source="metrics")
    if t.shape[0] < 2:
        raise DataError("need at least 2 samples", source="metrics")
    for name, a in (("y_true", t), ("y_pred", p)):
        check_array(a, field=name, source="metrics")
    return t, p


def r2_per_dim(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """``[D]`` coefficient of determination per dimension over concatenated samples."""
    t, p = _pair(y_true, y_pred)
    ss_res = ((t - p) ** 2).sum(axis=0)
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.nan)


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """R^2 averaged over dimensions (uniform average of `r2_per_dim`)."""
    return float(np.nanmean(r2_per_dim(y_true, y_pred)))


def pearson_per_dim(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """``[D]`` Pearson correlation per dimension over concatenated samples (NaN if constant)."""
    t, p = _pair(y_true, y_pred)
    tc, pc = t - t.mean(axis=0), p - p.mean(axis=0)
    denom = np.sqrt((tc**2).sum(axis=0) * (pc**2).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, (tc * pc).sum(axis=0) / denom, np.nan)


def pearson_r(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson r averaged over dimensions that are not constant."""
    return float(np.nanmean(pearson_per_dim(y_true, y_pred)))


def firing_rate(spikes: np.ndarray) -> np.ndarray:
    """Eq. 20: ``[C]`` fraction of bins with >= 1 spike, from ``[N, C, L]`` counts."""
    x = np.asarray(spikes)
    if x.ndim != 3:
        raise DataError(f"expected [N, C, L], got {x.shape}", field="spikes", source="metrics")
    return (x >= 1).mean(axis=(0, 2))


# ---------------------------------------------------------------------- simulation metrics
def _counts_and_rates(counts: np.ndarray, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[N, C, L]`` counts and rates -> ``[N*L, C]`` float64 each, checked."""
    k, r = _pair(counts, rates)
    if np.any(k < 0):
        raise DataError("negative counts", field="counts", source="metrics")
    if np.any(r < 0):
        raise DataError("negative rates", field="rates", source="metrics")
    return k, r


def poisson_log_likelihood_bits_per_spike(
    counts: np.ndarray, rates: np.ndarray, *, reference_rates: np.ndarray | None = None
) -> float:
    """Poisson log-likelihood gain of ``rates`` over a mean-rate model, bits per spike.

    ``(LL(rates) - LL(reference)) / (n_spikes * ln 2)`` summed over all bins and channels, where
    ``reference`` is each channel's constant mean count (from ``reference_rates`` ``[C]`` if
    given, e.g. the training mean, else the test mean). 0 means no better than a constant rate;
    it is negative when worse. ``log k!`` cancels. Rates are floored at ``1e-9`` per bin.

    Args:
        counts: ``[N, C, L]`` (or ``[n, C]``) observed spike counts per bin.
        rates: same shape, predicted expected counts per bin (>= 0).
        reference_rates: ``[C]`` mean count per bin of the reference model.
    """
    k, r = _counts_and_rates(counts, rates)
    ref = k.mean(axis=0) if reference_rates is None else np.asarray(reference_rates, np.float64)
    if ref.shape != (k.shape[1],):
        raise DataError(
            f"reference_rates shape {ref.shape}, expected ({k.shape[1]},)", source="metrics"
        )
    n_spikes = k.sum()
    if n_spikes <= 0:
        raise DataError("no spikes in the test data", field="counts", source="metrics")
    r = np.maximum(r, 1e-9)
    ref = np.maximum(ref, 1e-9)[None, :]
    ll_model = (k * np.log(r) - r).sum()
    ll_ref = (k * np.log(ref) - ref).sum()
    return float((ll_model - ll_ref) / (n_spikes * np.log(2.0)))


def expected_firing_rate(rates: np.ndarray) -> np.ndarray:
    """Eq. 20 for predicted Poisson rates: ``[C]`` expected fraction of bins with >= 1 spike.

    ``P(count >= 1) = 1 - exp(-rate)`` per bin, averaged over windows and bins of ``[N, C, L]``.
    """
    x = np.asarray(rates, dtype=np.float64)
    if x.ndim != 3:
        raise DataError(f"expected [N, C, L], got {x.shape}", field="rates", source="metrics")
    return (1.0 - np.exp(-np.maximum(x, 0.0))).mean(axis=(0, 2))


def firing_rate_error(spikes: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """``[C]`` absolute error of eq. 20 per channel: ``|FR(true counts) - E[FR(rates)]|``."""
    return np.abs(firing_rate(spikes) - expected_firing_rate(rates))
