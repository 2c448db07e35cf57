"""Shared trial-to-trial variability of simulated spikes: a doubly stochastic sampler.

A simulator's rates ``r[n, c, t]`` (expected counts per bin) give the mean of the spikes for a
behaviour, but recorded spikes also vary from trial to trial, together across channels (a
shared gain, attention, arousal). Independent Poisson samples of the rates have none of it:
their Fano factors are 1 and their noise correlations 0.

`SharedGain` cuts each window into segments of ``segment_bins`` bins and draws the spikes of
segment ``k`` as Poisson with rates ``r[n, c, t] * g[n, k, c]``; the gains
``g = exp(u - diag(S)/2)`` have mean 1, a covariance ``S`` across channels (low rank plus
diagonal) and an AR(1) link ``u[k+1] = rho u[k] + sqrt(1 - rho^2) e`` between segments (rho 1:
one gain per window). `fit_shared_gain` estimates them by the method of moments from held-out
windows: with segment totals ``K`` (counts), ``R`` (rates) and ``D = K - R`` (centred on each
channel's mean residual at that segment position: a constant bias is not a fluctuation), a Poisson
mixture gives ``E[D_c D_d] = E[R_c R_d] Cov(g_c, g_d)`` for ``c != d`` and
``E[D_c^2 - K_c] = E[R_c^2] Var(g_c)``; rho is the ratio of the next segment's cross moments
to these. The moments are clipped to a valid covariance, so a model whose rates already
explain the data gets gains of (almost) 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from alignnet.errors import DataError

MAX_LOG_VAR = 1.0  # log-gain variance cap per channel (a gain SD of ~1.3 in log units)
SEGMENT_S = 0.5  # length of the gain segments AlignNet fits (s)


@dataclass
class SharedGain:
    """Multiplicative gains of the rates, shared across channels, per window segment.

    Attributes:
        factors: ``[C, K]`` loadings of the shared log-gain factors (``S = F F^T + diag``).
        private_var: ``[C]`` private log-gain variance of each channel.
        segment_bins: bins per segment (0: one segment per window).
        rho: correlation of the log gains of consecutive segments, in ``[0, 1]``.
    """

    factors: np.ndarray
    private_var: np.ndarray
    segment_bins: int = 0
    rho: float = 1.0

    @property
    def n_channels(self) -> int:
        return int(self.private_var.shape[0])

    def log_covariance(self) -> np.ndarray:
        """``[C, C]`` covariance ``S`` of the log gains."""
        return self.factors @ self.factors.T + np.diag(self.private_var)

    def _log_gains(self, n: int, rng: np.random.Generator) -> np.ndarray:
        c, k = self.factors.shape
        u = rng.standard_normal((n, k)) @ self.factors.T
        return u + rng.standard_normal((n, c)) * np.sqrt(self.private_var)

    def gains(self, n: int, n_segments: int, rng: np.random.Generator) -> np.ndarray:
        """``[n, n_segments, C]`` gains with mean 1 (log-normal, AR(1) across segments)."""
        var = (self.factors**2).sum(axis=1) + self.private_var
        u = np.empty((n, n_segments, self.n_channels))
        u[:, 0] = self._log_gains(n, rng)
        a = float(np.clip(self.rho, 0.0, 1.0))
        for k in range(1, n_segments):
            u[:, k] = a * u[:, k - 1] + np.sqrt(1.0 - a * a) * self._log_gains(n, rng)
        return np.exp(u - 0.5 * var)

    def sample(self, rates: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
        """``[N, C, L]`` counts: Poisson of ``rates`` ``[N, C, L]`` times the gains."""
        rates = np.maximum(np.asarray(rates, dtype=np.float64), 0.0)
        if rates.ndim != 3 or rates.shape[1] != self.n_channels:
            raise DataError(
                f"rates {rates.shape}, expected [N, {self.n_channels}, L]",
                field="rates",
                source="SharedGain",
            )
        length = rates.shape[2]
        seg = self.segment_bins if 0 < self.segment_bins < length else length
        segment_of_bin = np.minimum(np.arange(length) // seg, max(length // seg, 1) - 1)
        g = self.gains(rates.shape[0], int(segment_of_bin[-1]) + 1, rng)  # [N, M, C]
        per_bin = g[:, segment_of_bin].transpose(0, 2, 1)  # [N, C, L]
        return rng.poisson(rates * per_bin).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (checkpoint-safe)."""
        return {
            "factors": self.factors.tolist(),
            "private_var": self.private_var.tolist(),
            "segment_bins": int(self.segment_bins),
            "rho": float(self.rho),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SharedGain:
        factors = np.asarray(data["factors"], dtype=np.float64)
        private = np.asarray(data["private_var"], dtype=np.float64)
        if private.ndim != 1 or factors.size % max(private.shape[0], 1):
            raise DataError("malformed shared-gain model", source="SharedGain")
        return cls(
            factors=factors.reshape(private.shape[0], -1),
            private_var=private,
            segment_bins=int(data.get("segment_bins", 0)),
            rho=float(data.get("rho", 1.0)),
        )


def _segments(x: np.ndarray, seg: int) -> np.ndarray:
    """``[N, C, L]`` -> ``[N, M, C]`` sums over ``M = L // seg`` segments."""
    n, c, length = x.shape
    m = max(length // seg, 1)
    seg = length // m
    return x[:, :, : m * seg].reshape(n, c, m, seg).sum(axis=3).transpose(0, 2, 1)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.T @ b / a.shape[0]


def fit_shared_gain(
    counts: np.ndarray, rates: np.ndarray, *, rank: int = 3, segment_bins: int = 0
) -> SharedGain:
    """Estimate `SharedGain` from held-out windows (see the module docstring).

    Args:
        counts: ``[N, C, L]`` recorded counts.
        rates: ``[N, C, L]`` the simulator's rates for the same windows' behaviour.
        rank: shared factors kept (the rest of the covariance is private or dropped).
        segment_bins: bins per segment (0 or >= L: one gain per window).

    Returns:
        The gains; with fewer than 4 windows, gains of exactly 1 (independent Poisson).
    """
    k_all = np.asarray(counts, dtype=np.float64)
    r_all = np.maximum(np.asarray(rates, dtype=np.float64), 0.0)
    if k_all.shape != r_all.shape or k_all.ndim != 3:
        raise DataError(f"counts {k_all.shape} vs rates {r_all.shape}", source="fit_shared_gain")
    n, c, length = k_all.shape
    seg = segment_bins if 0 < segment_bins < length else length
    if n < 4:
        return SharedGain(np.zeros((c, 0)), np.zeros(c), segment_bins=seg)
    k3, r3 = _segments(k_all, seg), _segments(r_all, seg)  # [N, M, C]
    d3 = k3 - r3
    # a constant miss of the rates (the mean residual of a channel at a segment position) is
    # a bias, not a fluctuation: the gains model what is left around it
    d3 = d3 - d3.mean(axis=0, keepdims=True)
    k, r, d = (x.reshape(-1, c) for x in (k3, r3, d3))
    moment = _cross(d, d)
    moment[np.diag_indices(c)] -= k.mean(axis=0)  # remove the Poisson part of the variance
    scale = _cross(r, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.where(scale > 1e-9, moment / scale, 0.0)
    cov = 0.5 * (cov + cov.T)
    rho = 1.0
    if k3.shape[1] > 1:  # consecutive segments: their cross moments are rho times these
        lag = _cross(d3[:, 1:].reshape(-1, c), d3[:, :-1].reshape(-1, c))
        lag_scale = _cross(r3[:, 1:].reshape(-1, c), r3[:, :-1].reshape(-1, c))
        with np.errstate(divide="ignore", invalid="ignore"):
            lag_cov = np.where(lag_scale > 1e-9, lag / lag_scale, 0.0)
        total = float(np.abs(cov).sum())
        rho = float(np.clip(lag_cov.sum() / total, 0.0, 1.0)) if total > 0 else 1.0
    var = np.clip(np.diag(cov), 0.0, np.expm1(MAX_LOG_VAR))
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(np.outer(sd, sd) > 0, cov / np.outer(sd, sd), 0.0)
    corr = np.clip(corr, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    # log-normal gains: Cov(g) = exp(S) - 1  ->  S = log(1 + Cov(g))
    log_cov = np.log1p(np.clip(corr * np.outer(sd, sd), -0.99, None))
    evals, evecs = np.linalg.eigh(log_cov)
    order = np.argsort(evals)[::-1][: max(0, min(rank, c))]
    keep = np.clip(evals[order], 0.0, None)
    factors = evecs[:, order] * np.sqrt(keep)
    private = np.clip(np.diag(log_cov) - (factors**2).sum(axis=1), 0.0, MAX_LOG_VAR)
    return SharedGain(factors=factors, private_var=private, segment_bins=seg, rho=rho)


# ---------------------------------------------------------------------- per-day gains
POOLED = -1  # key of the gains fitted on every day together (days without their own)


def fit_day_gains(
    simulate: Any,
    behavior: np.ndarray,
    counts: np.ndarray,
    days: np.ndarray,
    *,
    widths: dict[int, int],
    segment_bins: int = 0,
) -> dict[int, SharedGain]:
    """`SharedGain` of each day in ``days`` (its own channels, ``widths[day]``), plus a
    pooled one (key `POOLED`) when every day has the same channel count.

    Args:
        simulate: ``simulate(behavior [n, D, L], day) -> rates [n, C_day, L]``.
        behavior: ``[N, D, L]``; counts: ``[N, C, L]``; days: ``[N]`` (held-out windows).
        widths: day -> channel count.
    """
    gains: dict[int, SharedGain] = {}
    pooled_k, pooled_r = [], []
    for d in np.unique(days).tolist():
        sel = days == d
        n = widths[int(d)] if int(d) in widths else int(counts.shape[1])
        rates = simulate(behavior[sel], int(d))
        gains[int(d)] = fit_shared_gain(counts[sel, :n], rates[:, :n], segment_bins=segment_bins)
        pooled_k.append(counts[sel, :n])
        pooled_r.append(rates[:, :n])
    if len({k.shape[1] for k in pooled_k}) == 1 and pooled_k:
        gains[POOLED] = fit_shared_gain(
            np.concatenate(pooled_k), np.concatenate(pooled_r), segment_bins=segment_bins
        )
    return gains


def gains_for(gains: dict[int, SharedGain], day: int | None, n_channels: int) -> SharedGain:
    """The gains to sample ``day``'s ``n_channels`` channels with: the day's own, else the
    pooled ones, else (a day aligned without labels, with other channels) one shared factor
    and a private variance equal to the average of the known days'; none known: gains of 1."""
    for key in (day, POOLED):
        g = gains.get(int(key)) if key is not None else None
        if g is not None and g.n_channels == n_channels:
            return g
    if not gains:
        return SharedGain(factors=np.zeros((n_channels, 0)), private_var=np.zeros(n_channels))
    known = list(gains.values())
    shared = float(np.mean([(g.factors**2).sum(axis=1).mean() for g in known]))
    private = float(np.mean([g.private_var.mean() for g in known]))
    return SharedGain(
        factors=np.full((n_channels, 1), np.sqrt(shared)),
        private_var=np.full(n_channels, private),
        segment_bins=known[0].segment_bins,
        rho=float(np.mean([g.rho for g in known])),
    )


def gains_to_dict(gains: dict[int, SharedGain]) -> dict[str, Any]:
    return {str(d): g.to_dict() for d, g in gains.items()}


def gains_from_dict(data: dict[str, Any] | None) -> dict[int, SharedGain]:
    return {int(d): SharedGain.from_dict(v) for d, v in (data or {}).items()}
