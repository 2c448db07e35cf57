"""Multi-step LIF neurons (paper eq. 10-12). Tensors are time-first: ``[T, B, ...]``.

PLACEHOLDER eager implementation; the fused path replaces the internals, keeping this API.
"""

from __future__ import annotations

import torch
from torch import nn


class _ATanSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        a = ctx.alpha
        return grad * (a / 2) / (1 + (torch.pi / 2 * a * x) ** 2), None


class MultiStepLIF(nn.Module):
    """LIF over ``[T, B, ...]``: V = H + (I - (H - V_reset)) / tau; S = (V >= v_th); hard reset.

    State exists only inside one forward call.
    """

    def __init__(
        self,
        *,
        tau: float = 2.0,
        v_threshold: float = 0.3,
        v_reset: float = 0.0,
        surrogate: str = "atan",
        alpha: float = 2.0,
        detach_reset: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        self.tau, self.v_threshold, self.v_reset = tau, v_threshold, v_reset
        self.surrogate, self.alpha, self.detach_reset, self.backend = (
            surrogate,
            alpha,
            detach_reset,
            backend,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.full_like(x[0], self.v_reset)
        out = []
        for x_t in x.unbind(0):
            v = h + (x_t - (h - self.v_reset)) / self.tau
            s = _ATanSpike.apply(v - self.v_threshold, self.alpha)
            s_r = s.detach() if self.detach_reset else s
            h = self.v_reset * s_r + v * (1 - s_r)
            out.append(s)
        return torch.stack(out)
