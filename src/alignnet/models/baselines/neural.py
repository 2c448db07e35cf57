"""Shared fit/predict for the neural baselines: one torch module maps ``[N, K_in, L]`` windows to
``[N, K_out, L]``; this class does normalisation, losses and the task plumbing.

- decode: input z-scored spikes, target z-scored behaviour, MSE loss; output un-scaled.
- simulate: input z-scored behaviour, target raw counts, Poisson NLL on softplus rates.
Normalisation statistics come from the training windows only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from alignnet.data.windows import Windows
from alignnet.models.baselines._train import TrainReport, predict_module, train_module
from alignnet.models.baselines.base import (
    DECODE,
    SIMULATE,
    TASKS,
    ChannelNorm,
    check_task,
    check_windows_input,
    fit_channel_norm,
)
from alignnet.utils.seeding import seed_everything


def poisson_loss(rates: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Mean Poisson negative log-likelihood (without the ``log k!`` constant) of ``counts``."""
    return nn.functional.poisson_nll_loss(rates, counts, log_input=False, eps=1e-6)


class _SoftplusOut(nn.Module):
    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.softplus(self.body(x))


class NeuralWindowModel:
    """Base class: subclasses set ``name``/``causal`` and implement `build`.

    Args (keyword-only, shared by every neural baseline):
        epochs: maximum training epochs (early stopping on the validation loss).
        lr: Adam learning rate.
        batch_size: windows per step.
        weight_decay: Adam L2 penalty.
        patience: epochs without validation improvement before stopping.
    """

    name = "neural"
    tasks = TASKS
    causal = False

    def __init__(
        self,
        *,
        epochs: int = 60,
        lr: float = 1e-3,
        batch_size: int = 32,
        weight_decay: float = 0.0,
        patience: int = 10,
        **arch: Any,
    ) -> None:
        self.epochs, self.lr, self.batch_size = epochs, lr, batch_size
        self.weight_decay, self.patience = weight_decay, patience
        self.arch = arch
        self._modules: dict[str, nn.Module] = {}
        self._in_norm: dict[str, ChannelNorm] = {}
        self._out_norm: ChannelNorm | None = None
        self._shapes: dict[str, tuple[int, int]] = {}
        self.reports: dict[str, TrainReport] = {}

    # ------------------------------------------------------------------ to override
    def build(self, n_in: int, n_out: int, length: int) -> nn.Module:
        """A module mapping ``[B, n_in, length]`` to ``[B, n_out, length]``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ protocol
    def hyperparameters(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "weight_decay": self.weight_decay,
            "patience": self.patience,
            **self.arch,
        }

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> None:
        check_task(self, task)
        seed_everything(seed)
        if task == DECODE:
            x_tr, y_tr, x_va, y_va = train.spikes, train.behavior, val.spikes, val.behavior
        else:
            x_tr, y_tr, x_va, y_va = train.behavior, train.spikes, val.behavior, val.spikes
        in_norm = fit_channel_norm(x_tr)
        self._in_norm[task] = in_norm
        if task == DECODE:
            self._out_norm = fit_channel_norm(y_tr)
            y_tr, y_va = self._out_norm.apply(y_tr), self._out_norm.apply(y_va)
            loss_fn = nn.functional.mse_loss
        else:
            loss_fn = poisson_loss
        body = self.build(x_tr.shape[1], y_tr.shape[1], x_tr.shape[2])
        module = _SoftplusOut(body) if task == SIMULATE else body
        self._shapes[task] = (x_tr.shape[1], y_tr.shape[1])
        self.reports[task] = train_module(
            module,
            loss_fn,
            torch.from_numpy(in_norm.apply(x_tr)),
            torch.from_numpy(np.asarray(y_tr, dtype=np.float32)),
            val_inputs=torch.from_numpy(in_norm.apply(x_va)),
            val_targets=torch.from_numpy(np.asarray(y_va, dtype=np.float32)),
            epochs=self.epochs,
            lr=self.lr,
            batch_size=self.batch_size,
            seed=seed,
            weight_decay=self.weight_decay,
            patience=self.patience,
        )
        self._modules[task] = module

    def _run(self, task: str, x: np.ndarray, name: str) -> np.ndarray:
        if task not in self._modules:
            raise RuntimeError(f"{self.name}: call fit(..., task={task!r}) first")
        x = check_windows_input(x, n_rows=self._shapes[task][0], name=name)
        inputs = torch.from_numpy(self._in_norm[task].apply(x))
        return predict_module(self._modules[task], inputs, batch_size=256)

    def predict(self, spikes: np.ndarray) -> np.ndarray:
        z = self._run(DECODE, spikes, "spikes")
        assert self._out_norm is not None
        return self._out_norm.invert(z)

    def simulate(self, behavior: np.ndarray) -> np.ndarray:
        return self._run(SIMULATE, behavior, "behavior")
