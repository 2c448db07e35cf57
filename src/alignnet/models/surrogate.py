"""Surrogate gradients for the spike function (paper eq. 11).

Forward pass: the Heaviside step ``S = 1 if x >= 0 else 0`` (x = V - v_th, in membrane units).
Backward pass: the derivative of a smooth stand-in for the step, selectable by name:

- ``"atan"`` (default, alpha 2): SpikingJelly's ``ATan``,
  ``g(x) = (alpha / 2) / (1 + (pi / 2 * alpha * x)^2)``.
- ``"sigmoid"`` (alpha 4): SpikingJelly's ``Sigmoid``,
  ``g(x) = alpha * sigmoid(alpha x) * (1 - sigmoid(alpha x))``.

Both integrate to 1 over the real line, so they are proper stand-ins for the Dirac delta, and
both are even functions (``g(-x) = g(x)``), which the fused LIF backward relies on.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

DEFAULT_ALPHA: dict[str, float] = {"atan": 2.0, "sigmoid": 4.0}


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """Spike function: ``1.0`` where ``x >= 0`` else ``0.0`` (same shape and dtype as ``x``)."""
    return (x >= 0).to(x.dtype)


def atan_derivative(
    x: torch.Tensor, alpha: float, *, inplace: bool = False, scale: float = 1.0
) -> torch.Tensor:
    """``scale * (alpha/2) / (1 + (pi/2 * alpha * x)^2)``; ``inplace=True`` overwrites ``x``."""
    y = x if inplace else x.clone()
    return y.mul_(math.pi / 2 * alpha).square_().add_(1.0).reciprocal_().mul_(alpha / 2 * scale)


def sigmoid_derivative(
    x: torch.Tensor, alpha: float, *, inplace: bool = False, scale: float = 1.0
) -> torch.Tensor:
    """``scale * alpha * s * (1 - s)``, ``s = sigmoid(alpha x)``; ``inplace=True`` overwrites ``x``."""
    sg = torch.sigmoid(x * alpha)
    out = x if inplace else torch.empty_like(x)
    # alpha * sg * (1 - sg), written as sg - sg^2 to stay in one buffer
    torch.mul(sg, sg, out=out)
    return out.neg_().add_(sg).mul_(alpha * scale)


DERIVATIVES: dict[str, Callable[..., torch.Tensor]] = {
    "atan": atan_derivative,
    "sigmoid": sigmoid_derivative,
}


def resolve(surrogate: str, alpha: float | None) -> tuple[Callable[..., torch.Tensor], float]:
    """Return ``(derivative_function, alpha)`` for a surrogate name; ``alpha=None`` -> its default.

    Raises:
        ValueError: unknown name or non-positive alpha.
    """
    if surrogate not in DERIVATIVES:
        raise ValueError(
            f"unknown surrogate {surrogate!r} (expected one of {', '.join(sorted(DERIVATIVES))})"
        )
    a = DEFAULT_ALPHA[surrogate] if alpha is None else float(alpha)
    if not a > 0:
        raise ValueError(f"surrogate alpha must be > 0, got {alpha!r}")
    return DERIVATIVES[surrogate], a


class SurrogateSpike(torch.autograd.Function):
    """Heaviside forward, surrogate derivative backward. ``apply(x, surrogate_name, alpha)``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: str, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.derivative = DERIVATIVES[surrogate]
        ctx.alpha = alpha
        return heaviside(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad * ctx.derivative(x, ctx.alpha), None, None


def spike(x: torch.Tensor, *, surrogate: str = "atan", alpha: float | None = None) -> torch.Tensor:
    """Differentiable spike: Heaviside of ``x`` forward, the named surrogate backward.

    Args:
        x: ``V - v_th``, any shape.
        surrogate: ``"atan"`` or ``"sigmoid"``.
        alpha: sharpness; ``None`` uses the surrogate's default (atan 2, sigmoid 4).
    """
    _, a = resolve(surrogate, alpha)
    return SurrogateSpike.apply(x, surrogate, a)
