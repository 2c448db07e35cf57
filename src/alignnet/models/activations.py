"""Activation factory for the U-Net blocks: ``relu`` | ``lif`` | ``bitplane``.

Contract: the returned module maps a tensor to a tensor of the same shape.

- ``time_mode="temporal"`` (1-D U-Net): input ``[B, C, L]``; time is the last axis (the bins):
  ``lif`` runs one LIF step per 20 ms bin.
- ``time_mode="repeat"`` (2-D U-Net): input ``[T*B, C, H, W]``, time-major (T = ``time_steps``):
  ``lif`` runs over the T copies.
- ``bitplane`` is element-wise in both modes: each activation is coded as ``n_bits`` (8) binary
  planes, the planes are the time steps of a LIF layer, and the spikes are decoded back
  (:class:`alignnet.models.bitplane.BitplaneBlock`). Options: ``n_bits``, ``momentum``,
  ``rule``; the remaining keywords go to the LIF. Note that with the paper's LIF (tau 2,
  v_th 0.3, hard reset to 0) a binary plane sequence passes through unchanged in the forward
  pass (a 1 always fires, a 0 never does, and the membrane is back at 0 after each step), so
  the block computes an 8-bit quantised ReLU whose backward runs through the LIF surrogate.

``neuron_kw`` are :class:`alignnet.models.neurons.MultiStepLIF` options (``tau``,
``v_threshold``, ``v_reset``, ``surrogate``, ``alpha``, ``detach_reset``, ``backend``,
``record``).
"""

from __future__ import annotations

import torch
from torch import nn

from alignnet.models.bitplane import BitplaneBlock
from alignnet.models.neurons import MultiStepLIF
from alignnet.names import BITPLANE, LIF, NEURONS, RELU

KINDS = NEURONS
TIME_MODES = ("temporal", "repeat")


class TemporalLIF(nn.Module):
    """LIF along the last axis of ``[B, C, L]`` (each bin is one LIF step)."""

    def __init__(self, **neuron_kw) -> None:
        super().__init__()
        self.lif = MultiStepLIF(**neuron_kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, L]`` -> spikes ``[B, C, L]``."""
        return self.lif(x.permute(2, 0, 1).contiguous()).permute(1, 2, 0)


class RepeatLIF(nn.Module):
    """LIF over ``[T*B, ...]`` reshaped to ``[T, B, ...]``."""

    def __init__(self, time_steps: int, **neuron_kw) -> None:
        super().__init__()
        if time_steps < 1:
            raise ValueError(f"time_steps must be >= 1, got {time_steps}")
        self.time_steps = time_steps
        self.lif = MultiStepLIF(**neuron_kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[T*B, ...]`` (time-major) -> spikes of the same shape."""
        tb = x.shape[0]
        if tb % self.time_steps:
            raise ValueError(
                f"RepeatLIF: leading dimension {tb} is not a multiple of time_steps "
                f"{self.time_steps}"
            )
        y = self.lif(x.reshape(self.time_steps, tb // self.time_steps, *x.shape[1:]))
        return y.reshape(tb, *x.shape[1:])


def make_activation(
    kind: str, *, time_mode: str = "temporal", time_steps: int = 1, **neuron_kw
) -> nn.Module:
    """Build the activation of one U-Net block (see module docstring for shapes and options)."""
    if time_mode not in TIME_MODES:
        raise ValueError(f"unknown time_mode {time_mode!r} (expected temporal or repeat)")
    if kind == RELU:
        return nn.ReLU()
    if kind == LIF:
        return (
            TemporalLIF(**neuron_kw)
            if time_mode == "temporal"
            else RepeatLIF(time_steps, **neuron_kw)
        )
    if kind == BITPLANE:
        block_kw = {
            key: neuron_kw.pop(key) for key in ("n_bits", "momentum", "rule") if key in neuron_kw
        }
        record = bool(neuron_kw.get("record", False))
        return BitplaneBlock(MultiStepLIF(**neuron_kw), record=record, **block_kw)
    raise ValueError(f"unknown activation {kind!r} (expected relu, lif or bitplane)")
