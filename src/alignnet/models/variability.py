"""Shared trial-to-trial variability of simulated spikes: a doubly stochastic sampler.

A simulator's rates ``r[n, c, t]`` (expected counts per bin) give the mean of the spikes for a
behaviour, but recorded spikes also vary from trial to trial, together across channels (a
shared gain, attention, arousal). Independent Poisson samples of the rates have none of it:
their Fano factors are 1 and their noise correlations 0.

`SharedGain` models each window's spikes as Poisson with rates ``r[n, c, t] * g[n, c]``, where
the gains ``g[n] = exp(u[n] - diag(S)/2)``, ``u[n] ~ N(0, S)``, have mean 1 and a covariance
across channels (low rank plus diagonal). `fit_shared_gain` estimates it by the method of
moments from held-out windows: with window totals ``K`` (counts) and ``R`` (rates) and
``D = K - R``, a Poisson-gamma-like mixture gives ``E[D_c D_d] = E[R_c R_d] Cov(g_c, g_d)``
for ``c != d`` and ``E[D_c^2 - K_c] = E[R_c^2] Var(g_c)``. The moments are clipped to a valid
covariance, so a model whose rates already explain the data gets gains of (almost) 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from alignnet.errors import DataError

MAX_LOG_VAR = 1.0  # log-gain variance cap per channel (a gain SD of ~1.3 in log units)


@dataclass
class SharedGain:
    """Per-window multiplicative gains of the rates, shared across channels.

    Attributes:
        factors: ``[C, K]`` loadings of the shared log-gain factors (``S = F F^T + diag``).
        private_var: ``[C]`` private log-gain variance of each channel.
    """

    factors: np.ndarray
    private_var: np.ndarray

    @property
    def n_channels(self) -> int:
        return int(self.private_var.shape[0])

    def log_covariance(self) -> np.ndarray:
        """``[C, C]`` covariance ``S`` of the log gains."""
        return self.factors @ self.factors.T + np.diag(self.private_var)

    def gains(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``[n, C]`` gains with mean 1 (log-normal, covariance `log_covariance`)."""
        c, k = self.factors.shape
        u = rng.standard_normal((n, k)) @ self.factors.T
        u += rng.standard_normal((n, c)) * np.sqrt(self.private_var)
        var = (self.factors**2).sum(axis=1) + self.private_var
        return np.exp(u - 0.5 * var)

    def sample(self, rates: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
        """``[N, C, L]`` counts: Poisson of ``rates`` ``[N, C, L]`` times each window's gains."""
        rates = np.maximum(np.asarray(rates, dtype=np.float64), 0.0)
        if rates.ndim != 3 or rates.shape[1] != self.n_channels:
            raise DataError(
                f"rates {rates.shape}, expected [N, {self.n_channels}, L]",
                field="rates",
                source="SharedGain",
            )
        g = self.gains(rates.shape[0], rng)
        return rng.poisson(rates * g[:, :, None]).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (checkpoint-safe)."""
        return {"factors": self.factors.tolist(), "private_var": self.private_var.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SharedGain:
        factors = np.asarray(data["factors"], dtype=np.float64)
        private = np.asarray(data["private_var"], dtype=np.float64)
        if factors.ndim != 2 or private.shape != (factors.shape[0],):
            raise DataError("malformed shared-gain model", source="SharedGain")
        return cls(factors=factors.reshape(private.shape[0], -1), private_var=private)


def fit_shared_gain(counts: np.ndarray, rates: np.ndarray, *, rank: int = 3) -> SharedGain:
    """Estimate `SharedGain` from held-out windows (see the module docstring).

    Args:
        counts: ``[N, C, L]`` recorded counts.
        rates: ``[N, C, L]`` the simulator's rates for the same windows' behaviour.
        rank: shared factors kept (the rest of the covariance is private or dropped).

    Returns:
        The gains; with fewer than 4 windows, gains of exactly 1 (independent Poisson).
    """
    k = np.asarray(counts, dtype=np.float64).sum(axis=2)  # [N, C]
    r = np.maximum(np.asarray(rates, dtype=np.float64), 0.0).sum(axis=2)
    if k.shape != r.shape:
        raise DataError(f"counts {k.shape} vs rates {r.shape}", source="fit_shared_gain")
    n, c = k.shape
    if n < 4:
        return SharedGain(factors=np.zeros((c, 0)), private_var=np.zeros(c))
    d = k - r
    moment = d.T @ d / n
    moment[np.diag_indices(c)] -= k.mean(axis=0)  # remove the Poisson part of the variance
    scale = r.T @ r / n
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.where(scale > 1e-9, moment / scale, 0.0)
    cov = 0.5 * (cov + cov.T)
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
    return SharedGain(factors=factors, private_var=private)


# ---------------------------------------------------------------------- per-day gains
POOLED = -1  # key of the gains fitted on every day together (days without their own)


def fit_day_gains(
    simulate: Any, behavior: np.ndarray, counts: np.ndarray, days: np.ndarray, *, widths: dict
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
        n = int(widths.get(int(d), counts.shape[1]))
        rates = simulate(behavior[sel], int(d))
        gains[int(d)] = fit_shared_gain(counts[sel, :n], rates[:, :n])
        pooled_k.append(counts[sel, :n])
        pooled_r.append(rates[:, :n])
    if len({k.shape[1] for k in pooled_k}) == 1 and pooled_k:
        gains[POOLED] = fit_shared_gain(np.concatenate(pooled_k), np.concatenate(pooled_r))
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
    shared = float(np.mean([(g.factors**2).sum(axis=1).mean() for g in gains.values()]))
    private = float(np.mean([g.private_var.mean() for g in gains.values()]))
    return SharedGain(
        factors=np.full((n_channels, 1), np.sqrt(shared)),
        private_var=np.full(n_channels, private),
    )


def gains_to_dict(gains: dict[int, SharedGain]) -> dict[str, Any]:
    return {str(d): g.to_dict() for d, g in gains.items()}


def gains_from_dict(data: dict[str, Any] | None) -> dict[int, SharedGain]:
    return {int(d): SharedGain.from_dict(v) for d, v in (data or {}).items()}
