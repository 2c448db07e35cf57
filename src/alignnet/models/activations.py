"""Activation factory for the U-Net blocks: ``relu`` | ``lif`` | ``bitplane``.

PLACEHOLDER (relu and temporal LIF only); the spiking-layers work replaces it, keeping the API.

Contract: the returned module maps a tensor to a tensor of the same shape.
- ``time_mode="temporal"`` (1-D U-Net): input ``[B, C, L]``; time is the last axis (the bins).
- ``time_mode="repeat"`` (2-D U-Net): input ``[T*B, C, H, W]``, time-major (T = ``time_steps``).
"""

from __future__ import annotations

import torch
from torch import nn

from alignnet.models.neurons import MultiStepLIF


class TemporalLIF(nn.Module):
    """LIF along the last axis of ``[B, C, L]`` (each bin is one LIF step)."""

    def __init__(self, **neuron_kw) -> None:
        super().__init__()
        self.lif = MultiStepLIF(**neuron_kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lif(x.permute(2, 0, 1).contiguous()).permute(1, 2, 0)


class RepeatLIF(nn.Module):
    """LIF over ``[T*B, ...]`` reshaped to ``[T, B, ...]``."""

    def __init__(self, time_steps: int, **neuron_kw) -> None:
        super().__init__()
        self.time_steps = time_steps
        self.lif = MultiStepLIF(**neuron_kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tb = x.shape[0]
        y = self.lif(x.reshape(self.time_steps, tb // self.time_steps, *x.shape[1:]))
        return y.reshape(tb, *x.shape[1:])


def make_activation(
    kind: str, *, time_mode: str = "temporal", time_steps: int = 1, **neuron_kw
) -> nn.Module:
    """Build the activation of one U-Net block (see module docstring for shapes)."""
    if kind == "relu":
        return nn.ReLU()
    if kind == "lif":
        return (
            TemporalLIF(**neuron_kw)
            if time_mode == "temporal"
            else RepeatLIF(time_steps, **neuron_kw)
        )
    raise ValueError(f"unknown activation {kind!r} (expected relu, lif or bitplane)")
