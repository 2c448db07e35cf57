"""The one model protocol every benchmarked model meets, and helpers the baselines share.

Shapes at this boundary are windows: spikes ``[N, C, L]`` (counts per bin), behaviour
``[N, D, L]`` (the units of the data), simulated rates ``[N, C, L]`` (expected counts per bin).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from alignnet.data.windows import Windows
from alignnet.errors import DataError
from alignnet.names import DECODE, SIMULATE, TASKS  # noqa: F401 - re-exported


@runtime_checkable
class Model(Protocol):
    """What the benchmark needs of a model (AlignNet and every baseline).

    Attributes:
        name: row label in tables and figures.
        tasks: the tasks the model can do, a subset of ``{"decode", "simulate"}``.
        causal: True when an output bin depends only on the current and earlier input bins.
    """

    name: str
    tasks: frozenset[str]
    causal: bool

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> None:
        """Fit for ``task`` on ``train``; ``val`` (same days' held-out trials) for early stop."""

    def predict(self, spikes: np.ndarray) -> np.ndarray:
        """Decode: ``[N, C, L]`` counts -> ``[N, D, L]`` behaviour."""

    def simulate(self, behavior: np.ndarray) -> np.ndarray:
        """Simulate: ``[N, D, L]`` behaviour -> ``[N, C, L]`` non-negative rates per bin."""

    def hyperparameters(self) -> dict[str, Any]:
        """JSON-serialisable settings, saved beside the results."""


def check_task(model: Model, task: str) -> None:
    """Raise ``ValueError`` if ``model`` cannot do ``task``."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(TASKS)}")
    if task not in model.tasks:
        raise ValueError(f"{model.name} cannot {task} (it does {sorted(model.tasks)})")


def lagged_features(x: np.ndarray, *, lags: range | list[int]) -> np.ndarray:
    """Stack shifted copies of a window: ``[N, K, L]`` -> ``[N, L, K * n_lags]``.

    ``lags`` are offsets in bins: lag ``k`` puts ``x[..., t - k]`` at bin ``t`` (``k > 0`` is the
    past, ``k < 0`` the future). Bins outside the window are zero (features stay inside the
    window, so no window's test bins ever see another window).
    """
    n, k, length = x.shape
    lags = list(lags)
    out = np.zeros((n, length, k * len(lags)), dtype=np.float32)
    xt = np.asarray(x, dtype=np.float32).transpose(0, 2, 1)  # [N, L, K]
    for j, lag in enumerate(lags):
        cols = slice(j * k, (j + 1) * k)
        if lag >= 0:
            out[:, lag:, cols] = xt[:, : length - lag] if lag < length else 0.0
        else:
            out[:, : length + lag, cols] = xt[:, -lag:]
    return out


def check_windows_input(x: np.ndarray, *, n_rows: int, name: str) -> np.ndarray:
    """Validate ``[N, K, L]`` model input with ``K == n_rows``; return float32."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3 or x.shape[1] != n_rows:
        raise DataError(
            f"expected [N, {n_rows}, L], got {x.shape}", field=name, source="baseline input"
        )
    if not np.isfinite(x).all():
        raise DataError("NaN or inf values", field=name, source="baseline input")
    return x
