"""Helpers the baselines share; the contract they meet is `alignnet.models.contract.Estimator`.

Shapes at this boundary are windows: spikes ``[N, C, L]`` (counts per bin), behaviour
``[N, D, L]`` (the units of the data), simulated rates ``[N, C, L]`` (expected counts per bin).
"""

from __future__ import annotations

import numpy as np

from alignnet.errors import DataError
from alignnet.models.contract import Estimator, check_task  # noqa: F401 - check_task re-exported
from alignnet.names import DECODE, SIMULATE, TASKS  # noqa: F401 - re-exported

#: The protocol every benchmarked model meets is the estimator contract.


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
