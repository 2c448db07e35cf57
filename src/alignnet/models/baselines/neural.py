"""Shared fit/predict for the neural baselines: one torch module maps ``[N, K_in, L]`` windows to
``[N, K_out, L]``; this class does normalisation, losses and the task plumbing.

- decode: input z-scored spikes, target z-scored behaviour, MSE loss; output un-scaled.
- simulate: input z-scored behaviour, target raw counts, Poisson NLL on softplus rates.

Normalisation is `alignnet.data.preprocess.NormStats` fitted on the training windows only
(pooled over days: ``predict``/``simulate`` receive no day labels). Training is the project's
one loop, `alignnet.engine.loop.fit` (AdamW, warm-up + cosine schedule, gradient clipping,
early stopping on the validation loss with the best weights restored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from alignnet.config import TrainConfig
from alignnet.data.preprocess import NormStats
from alignnet.data.windows import Windows
from alignnet.engine.loop import Batch, TrainHistory, fit
from alignnet.models.baselines.base import (
    DECODE,
    SIMULATE,
    TASKS,
    check_task,
    check_windows_input,
)
from alignnet.models.contract import Estimator
from alignnet.utils.seeding import seed_everything


def poisson_loss(rates: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Mean Poisson negative log-likelihood (without the ``log k!`` constant) of ``counts``."""
    return nn.functional.poisson_nll_loss(rates, counts, log_input=False, eps=1e-6)


def _mse_loss(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """`training.loop` loss: MSE of ``module(batch["x"])`` against ``batch["y"]``."""
    return nn.functional.mse_loss(module(batch["x"]), batch["y"]), {}


def _poisson_loss(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """`training.loop` loss: Poisson NLL of the counts ``batch["y"]`` under ``module`` rates."""
    return poisson_loss(module(batch["x"]), batch["y"]), {}


class _SoftplusOut(nn.Module):
    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.softplus(self.body(x))


@torch.no_grad()
def predict_module(module: nn.Module, inputs: np.ndarray, *, batch_size: int) -> np.ndarray:
    """Run ``module`` over ``inputs [N, ...]`` in eval mode, in batches; return float32 numpy."""
    module.eval()
    device = next(module.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
    outs = [module(x[s : s + batch_size].to(device)).cpu() for s in range(0, len(x), batch_size)]
    return torch.cat(outs).numpy().astype(np.float32)


class NeuralWindowModel(Estimator):
    """Base class: subclasses set ``name``/``causal``, take their architecture parameters
    as keywords (kept as attributes of the same names, see `arch`) and set `module_class`
    (or implement `build`).

    Args (keyword-only, shared by every neural baseline; they fill a `TrainConfig`):
        epochs: maximum training epochs (early stopping on the validation loss).
        lr: peak AdamW learning rate.
        batch_size: windows per step.
        weight_decay: AdamW (decoupled) weight decay.
        patience: epochs without validation improvement before stopping.
        device: torch device string (``"auto"``: CUDA if present); CPU is bit-reproducible.

    Fitted attributes:
        norm_stats: task -> `NormStats` fitted on that task's training windows.
        histories: task -> `TrainHistory` of the last fit.
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
        device: str = "cpu",
    ) -> None:
        self.epochs, self.lr, self.batch_size = epochs, lr, batch_size
        self.weight_decay, self.patience, self.device = weight_decay, patience, device
        self._modules: dict[str, nn.Module] = {}
        self.norm_stats: dict[str, NormStats] = {}
        self._shapes: dict[str, tuple[int, int]] = {}
        self.histories: dict[str, TrainHistory] = {}

    #: The torch module of a subclass that builds it as ``module_class(n_in, n_out,
    #: *arch.values())`` (its architecture parameters in constructor order); a subclass that
    #: builds otherwise overrides `build`.
    module_class: ClassVar[Callable[..., nn.Module] | None] = None

    # ------------------------------------------------------------------ to override
    def build(self, n_in: int, n_out: int, length: int, *, task: str) -> nn.Module:
        """A module mapping ``[B, n_in, length]`` to ``[B, n_out, length]`` for ``task``."""
        module_class = type(self).module_class
        if module_class is None:
            raise NotImplementedError(f"{type(self).__name__} sets no module_class")
        return module_class(n_in, n_out, *self.arch.values())

    @property
    def arch(self) -> dict[str, Any]:
        """The architecture parameters (the subclass's own constructor parameters)."""
        base = NeuralWindowModel.param_names()
        return {k: v for k, v in self.get_params().items() if k not in base}

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

    def train_config(self, seed: int) -> TrainConfig:
        """The `TrainConfig` this model trains with (no warm-up: the runs are short)."""
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            warmup_fraction=0.0,
            patience=self.patience,
            device=self.device,
            seed=seed,
        )

    def _inputs_targets(self, windows: Windows, task: str) -> dict[str, torch.Tensor]:
        """``{"x": normalised inputs [N, K_in, L], "y": targets [N, K_out, L]}`` for ``task``."""
        norm = self.norm_stats[task]
        if task == DECODE:
            x = norm.transform_spikes(windows.spikes)
            y = norm.transform_behavior(windows.behavior)
        else:
            x = norm.transform_behavior(windows.behavior)
            y = np.asarray(windows.spikes, dtype=np.float32)
        return {"x": torch.from_numpy(x), "y": torch.from_numpy(y)}

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> NeuralWindowModel:
        check_task(self, task)
        seed_everything(seed)
        self.norm_stats[task] = NormStats.fit(train)
        train_data = self._inputs_targets(train, task)
        val_data = self._inputs_targets(val, task)
        n_in, n_out = train_data["x"].shape[1], train_data["y"].shape[1]
        body = self.build(n_in, n_out, train_data["x"].shape[2], task=task)
        module = _SoftplusOut(body) if task == SIMULATE else body
        self._shapes[task] = (n_in, n_out)
        self.histories[task] = fit(
            module,
            _mse_loss if task == DECODE else _poisson_loss,
            train_data,
            config=self.train_config(seed),
            val=val_data,
            progress=False,
            desc=f"{self.name} {task}",
        )
        module.eval()
        self._modules[task] = module
        return self

    def _check_fitted(self, task: str) -> None:
        if task not in self._modules:
            raise RuntimeError(f"{self.name}: call fit(..., task={task!r}) first")

    def predict(self, spikes: np.ndarray, *, day: int | None = None) -> np.ndarray:
        self._check_fitted(DECODE)
        spikes = check_windows_input(spikes, n_rows=self._shapes[DECODE][0], name="spikes")
        norm = self.norm_stats[DECODE]
        z = predict_module(self._modules[DECODE], norm.transform_spikes(spikes), batch_size=256)
        return norm.inverse_behavior(z)

    def simulate(self, behavior: np.ndarray, *, day: int | None = None) -> np.ndarray:
        self._check_fitted(SIMULATE)
        behavior = check_windows_input(behavior, n_rows=self._shapes[SIMULATE][0], name="behavior")
        inputs = self.norm_stats[SIMULATE].transform_behavior(behavior)
        return predict_module(self._modules[SIMULATE], inputs, batch_size=256)
