"""Wiener filter: ridge regression on lagged inputs (Glaser et al. 2020, KordingLab style).

Decode: features at bin ``t`` are the spike counts of bins ``t - n_lags .. t`` of the same
window (causal; bins before the window start are zero), z-scored with training statistics.
Simulate: behaviour of bins ``t - n_lags .. t + n_lags`` (neural activity leads movement, so the
simulation filter looks both ways; not causal); predicted rates are clipped at 0.
The ridge penalty ``alpha`` is chosen on the validation windows from ``alphas``, then the filter
is refitted on train + validation with that ``alpha`` (as in ``ridge_reference.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.models.baselines.base import (
    DECODE,
    SIMULATE,
    TASKS,
    check_task,
    check_windows_input,
    lagged_features,
)
from alignnet.models.contract import Estimator

DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-2, 5, 15))


def _design(x: np.ndarray, lags: list[int]) -> np.ndarray:
    """``[N, K, L]`` -> ``[N * L, K * len(lags)]`` float64 rows in (window, bin) order."""
    feats = lagged_features(x, lags=lags)
    return feats.reshape(-1, feats.shape[-1]).astype(np.float64)


def _targets(y: np.ndarray) -> np.ndarray:
    """``[N, K, L]`` -> ``[N * L, K]`` float64."""
    return np.asarray(y, dtype=np.float64).transpose(0, 2, 1).reshape(-1, y.shape[1])


class RidgePath:
    """Ridge solutions for many penalties from one eigendecomposition of ``X^T X``.

    Args:
        x: ``[n, F]`` design (z-scored inside), y: ``[n, K]`` targets (centred inside).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x_mean, self.x_std = x.mean(0), np.maximum(x.std(0), 1e-9)
        self.y_mean = y.mean(0)
        xs = (x - self.x_mean) / self.x_std
        self.evals, self.evecs = np.linalg.eigh(xs.T @ xs)
        self.proj = self.evecs.T @ (xs.T @ (y - self.y_mean))  # [F, K]

    def weights(self, alpha: float) -> np.ndarray:
        """``[F, K]`` weights on z-scored features."""
        return self.evecs @ (self.proj / (self.evals + alpha)[:, None])

    def predict(self, x: np.ndarray, alpha: float) -> np.ndarray:
        return ((x - self.x_mean) / self.x_std) @ self.weights(alpha) + self.y_mean


class WienerFilter(Estimator):
    """Linear decoder / simulator on lagged bins, ridge penalty chosen on validation data.

    Args:
        n_lags: number of past bins besides the current one (decode); half-width (simulate).
        alphas: candidate ridge penalties.

    Fitted attributes: ``chosen_alpha`` (task -> penalty), the per-task ridge fits.
    """

    name = "Wiener"
    tasks = TASKS
    causal = True
    param_grid = ({"n_lags": 4}, {"n_lags": 9}, {"n_lags": 2}, {"n_lags": 14})

    def __init__(self, *, n_lags: int = 4, alphas: tuple[float, ...] = DEFAULT_ALPHAS) -> None:
        if n_lags < 0:
            raise ValueError(f"n_lags must be >= 0, got {n_lags}")
        self.n_lags, self.alphas = n_lags, tuple(alphas)
        self.chosen_alpha: dict[str, float] = {}
        self._fits: dict[str, RidgePath] = {}
        self._n_in: dict[str, int] = {}

    def _lags(self, task: str) -> list[int]:
        if task == DECODE:
            return list(range(self.n_lags + 1))
        return list(range(-self.n_lags, self.n_lags + 1))

    def hyperparameters(self) -> dict[str, Any]:
        return {"n_lags": self.n_lags, "alpha": dict(self.chosen_alpha)}

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> WienerFilter:
        check_task(self, task)
        if task == DECODE:
            x_tr, y_tr, x_va, y_va = train.spikes, train.behavior, val.spikes, val.behavior
        else:
            x_tr, y_tr, x_va, y_va = train.behavior, train.spikes, val.behavior, val.spikes
        lags = self._lags(task)
        path = RidgePath(_design(x_tr, lags), _targets(y_tr))
        xv, yv = _design(x_va, lags), _targets(y_va)
        errors = [
            ((path.predict(xv, a) - yv) ** 2).mean(0) / np.maximum(yv.var(0), 1e-12)
            for a in self.alphas
        ]
        best = int(np.argmin([e.mean() for e in errors]))  # mean over dims of 1 - R^2
        self.chosen_alpha[task] = self.alphas[best]
        both_x = np.concatenate([x_tr, x_va])
        both_y = np.concatenate([y_tr, y_va])
        self._fits[task] = RidgePath(_design(both_x, lags), _targets(both_y))
        self._n_in[task] = x_tr.shape[1]
        return self

    def _apply(self, task: str, x: np.ndarray, name: str) -> np.ndarray:
        if task not in self._fits:
            raise RuntimeError(f"{self.name}: call fit(..., task={task!r}) first")
        x = check_windows_input(x, n_rows=self._n_in[task], name=name)
        out = self._fits[task].predict(_design(x, self._lags(task)), self.chosen_alpha[task])
        n, length = x.shape[0], x.shape[2]
        return out.reshape(n, length, -1).transpose(0, 2, 1).astype(np.float32)

    def predict(self, spikes: np.ndarray, *, day: int | None = None) -> np.ndarray:
        return self._apply(DECODE, spikes, "spikes")

    def simulate(self, behavior: np.ndarray, *, day: int | None = None) -> np.ndarray:
        return np.maximum(self._apply(SIMULATE, behavior, "behavior"), 0.0)
