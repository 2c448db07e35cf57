"""The neural baselines' training loop, behind one function.

``train_module`` is the only place the baselines train; swap its body for the project's shared
loop (``alignnet.training.loop``) once that exists, and every baseline follows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from alignnet.errors import TrainingError


@dataclass
class TrainReport:
    """What a fit did: best validation loss, the epoch it came from, and per-epoch history."""

    best_val_loss: float
    best_epoch: int
    epochs_run: int
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def train_module(
    module: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    train_inputs: torch.Tensor,
    train_targets: torch.Tensor,
    *,
    val_inputs: torch.Tensor,
    val_targets: torch.Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    weight_decay: float = 0.0,
    patience: int | None = 10,
) -> TrainReport:
    """Minibatch Adam on ``loss_fn(module(x), y)``; keep the weights of the best validation epoch.

    Args:
        module: maps a batch of ``train_inputs`` to predictions shaped like ``train_targets``.
        loss_fn: ``(prediction, target) -> scalar`` mean loss.
        train_inputs, train_targets: ``[N, ...]`` tensors (first axis = samples).
        val_inputs, val_targets: held-out tensors scored after every epoch.
        epochs: maximum number of passes over the training data.
        lr, weight_decay: Adam settings.
        batch_size: samples per step.
        seed: seeds the shuffling order (the caller seeds the module's initial weights).
        patience: stop after this many epochs without a better validation loss (None: never).

    Returns:
        A `TrainReport`; ``module`` ends holding its best-validation weights.

    Raises:
        TrainingError: if the loss becomes NaN or inf.
    """
    if len(train_inputs) == 0:
        raise TrainingError("no training samples")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    report = TrainReport(best_val_loss=float("inf"), best_epoch=-1, epochs_run=0)
    best_state = copy.deepcopy(module.state_dict())
    n = len(train_inputs)
    for epoch in range(epochs):
        module.train()
        order = torch.randperm(n, generator=generator)
        total, count = 0.0, 0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            if idx.numel() < 2 and n >= 2:  # BatchNorm cannot take a batch of one
                continue
            loss = loss_fn(module(train_inputs[idx]), train_targets[idx])
            if not torch.isfinite(loss):
                raise TrainingError(f"loss became {loss.item()} at epoch {epoch}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.item()) * idx.numel()
            count += idx.numel()
        report.train_loss.append(total / max(count, 1))
        val_loss = evaluate_loss(module, loss_fn, val_inputs, val_targets, batch_size=batch_size)
        report.val_loss.append(val_loss)
        report.epochs_run = epoch + 1
        if val_loss < report.best_val_loss:
            report.best_val_loss, report.best_epoch = val_loss, epoch
            best_state = copy.deepcopy(module.state_dict())
        elif patience is not None and epoch - report.best_epoch >= patience:
            break
    module.load_state_dict(best_state)
    module.eval()
    return report


@torch.no_grad()
def evaluate_loss(
    module: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    batch_size: int,
) -> float:
    """Mean ``loss_fn`` over ``inputs`` in eval mode (weighted by batch size)."""
    module.eval()
    total = 0.0
    for start in range(0, len(inputs), batch_size):
        x, y = inputs[start : start + batch_size], targets[start : start + batch_size]
        total += float(loss_fn(module(x), y).item()) * len(x)
    return total / max(len(inputs), 1)


@torch.no_grad()
def predict_module(module: nn.Module, inputs: torch.Tensor, *, batch_size: int) -> np.ndarray:
    """Run ``module`` over ``inputs`` in eval mode; return float32 numpy."""
    module.eval()
    outs = [module(inputs[s : s + batch_size]) for s in range(0, len(inputs), batch_size)]
    return torch.cat(outs).numpy().astype(np.float32)
