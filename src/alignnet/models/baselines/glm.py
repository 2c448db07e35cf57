"""Simulation-only baselines (the paper has none): a Poisson GLM and a lagged-behaviour MLP.

Both map behaviour around bin ``t`` (bins ``t - n_lags .. t + n_lags`` of the same window) to
the expected spike count of every channel at ``t``; neither is causal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from alignnet.data.preprocess import NormStats
from alignnet.data.windows import Windows
from alignnet.models.baselines.base import (
    SIMULATE,
    check_task,
    check_windows_input,
    lagged_features,
)
from alignnet.models.baselines.mlp import LaggedMLP
from alignnet.models.baselines.neural import NeuralWindowModel, poisson_loss
from alignnet.models.contract import Estimator
from alignnet.utils.seeding import seed_everything


class PoissonGLM(Estimator):
    """Linear-nonlinear-Poisson model: ``rate[c, t] = exp(b_c + w_c . features[t])``.

    Fitted by full-batch L-BFGS on the Poisson likelihood with an L2 penalty chosen on the
    validation windows from ``l2_grid``.

    Args:
        n_lags: half-width of the behaviour lag range, bins.
        l2_grid: candidate L2 penalties (per sample).
        max_iter: L-BFGS iterations per fit.

    Fitted attributes: ``chosen_l2`` and the weights.
    """

    name = "PoissonGLM"
    tasks = frozenset({SIMULATE})
    causal = False
    param_grid = ({"n_lags": 5}, {"n_lags": 10}, {"n_lags": 2}, {"n_lags": 15})

    def __init__(
        self,
        *,
        n_lags: int = 5,
        l2_grid: tuple[float, ...] = (1e-4, 1e-3, 1e-2),
        max_iter: int = 50,
    ) -> None:
        self.n_lags, self.l2_grid, self.max_iter = n_lags, tuple(l2_grid), max_iter
        self.chosen_l2: float | None = None
        self._weights: tuple[torch.Tensor, torch.Tensor] | None = None
        self._norm: NormStats | None = None
        self._n_in = 0

    def hyperparameters(self) -> dict[str, Any]:
        return {"n_lags": self.n_lags, "l2": self.chosen_l2, "max_iter": self.max_iter}

    def _features(self, behavior: np.ndarray) -> torch.Tensor:
        assert self._norm is not None
        z = self._norm.transform_behavior(behavior)
        f = lagged_features(z, lags=range(-self.n_lags, self.n_lags + 1))
        return torch.from_numpy(f.reshape(-1, f.shape[-1]))

    def _fit_l2(
        self, x: torch.Tensor, y: torch.Tensor, l2: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        w = torch.zeros(x.shape[1], y.shape[1], requires_grad=True)
        b = torch.log(y.mean(0).clamp_min(1e-3)).clone().requires_grad_(True)
        opt = torch.optim.LBFGS([w, b], max_iter=self.max_iter, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            log_rate = x @ w + b
            loss = (log_rate.exp() - y * log_rate).mean() + l2 * (w**2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return w.detach(), b.detach()

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> PoissonGLM:
        check_task(self, task)
        seed_everything(seed)
        self._norm = NormStats.fit(train)
        self._n_in = train.n_behavior_dims
        x, xv = self._features(train.behavior), self._features(val.behavior)
        y = torch.from_numpy(train.spikes.transpose(0, 2, 1).reshape(-1, train.n_channels))
        yv = torch.from_numpy(val.spikes.transpose(0, 2, 1).reshape(-1, val.n_channels))
        best = None
        for l2 in self.l2_grid:
            w, b = self._fit_l2(x, y, l2)
            nll = float(poisson_loss((xv @ w + b).clamp_max(20).exp(), yv))
            if best is None or nll < best[0]:
                best = (nll, l2, w, b)
        assert best is not None
        _, self.chosen_l2, w, b = best
        self._weights = (w, b)
        return self

    def simulate(self, behavior: np.ndarray, *, day: int | None = None) -> np.ndarray:
        if self._weights is None:
            raise RuntimeError(f"{self.name}: call fit(..., task='simulate') first")
        behavior = check_windows_input(behavior, n_rows=self._n_in, name="behavior")
        w, b = self._weights
        rates = (self._features(behavior) @ w + b).clamp_max(20).exp().numpy()
        n, length = behavior.shape[0], behavior.shape[2]
        return rates.reshape(n, length, -1).transpose(0, 2, 1).astype(np.float32)


class BehaviorMLP(NeuralWindowModel):
    """Simulation-only MLP from the behaviour around each bin to every channel's rate.

    Args:
        n_lags: half-width of the behaviour lag range, bins.
        hidden: hidden units.
    """

    name = "BehaviorMLP"
    tasks = frozenset({SIMULATE})
    causal = False
    param_grid = (
        {"n_lags": 5, "hidden": 128},
        {"n_lags": 10, "hidden": 128},
        {"n_lags": 5, "hidden": 64, "lr": 3e-3},
        {"n_lags": 10, "hidden": 256},
    )

    def __init__(self, *, n_lags: int = 5, hidden: int = 128, **train: Any) -> None:
        self.n_lags, self.hidden = n_lags, hidden
        super().__init__(**train)

    def build(self, n_in: int, n_out: int, length: int, *, task: str) -> nn.Module:
        n_lags = self.arch["n_lags"]
        return LaggedMLP(
            n_in,
            n_out,
            lags_before=n_lags,
            lags_after=n_lags,
            hidden=self.arch["hidden"],
            layers=2,
            dropout=0.0,
        )
