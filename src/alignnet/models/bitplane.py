"""Bit-plane spike coding for layer-wise hybrid ANN-SNN blocks (Luu et al., arXiv 2509.24411).

An activation ``x >= 0`` is quantised to an ``n_bits`` unsigned integer ``I = round(x / scale)``
(clipped to ``[0, 2^n - 1]``; negative values become 0, so the block also acts as a ReLU). Bit
plane ``k`` is ``B_k = floor(I / 2^k) mod 2``; the planes are binary spike maps used as the
``n_bits`` time steps of a spiking layer, **most significant plane first** (time step ``t``
carries bit ``k = n - 1 - t``). Decoding is ``x_hat = scale * sum_k 2^k B_k``.

Scale: ``scale = running_max / (2^n - 1)``, calibrated per tensor with an exponential moving
average of the batch maximum in training and frozen in eval. Chosen over a learned scale
because it needs no extra gradient estimator, cannot collapse to 0, never clips at
calibration and is deterministic; its cost is that rare outliers widen the step.

Surrogate gradient of the encoder (the forward is a staircase with zero derivative): the
gradient reaching plane ``k``, ``g_k = dL/dB_k``, is passed back as

    dL/dx = (1 / scale) * sum_k f_k * g_k    where x is not clipped (-1/2 <= x/scale < 2^n - 1/2),
                                             else 0,

with order-aware factors ``f_k`` from :func:`order_factors`. Every rule is normalised so that
``sum_k f_k 2^k = 1``: when the spiking layer between encode and decode is the identity,
``decode(encode(x))`` then has the straight-through gradient 1, whatever the rule. The default
``"significance"`` rule ``f_k = 2^k / sum_j 4^j`` is the minimum-variance such weighting if each
plane's gradient carries independent noise of equal size, and gives the low-order planes (whose
smoothed derivative is the noisiest, variance ~ 1/2^k) the least weight. The rule reported in
the paper's summaries, ``F(g_k) = k * 2^(7-k) * g_k``, is available as ``"notes"`` (normalised
the same way; without normalisation it would multiply the gradient by 3584): as written it gives
zero weight to ``k = 0`` and peaks at ``k = 1, 2`` (both 64) rather than favouring significant
bits. See ``docs/spiking.md``.
"""

from __future__ import annotations

import torch
from torch import nn

FACTOR_RULES = ("significance", "notes", "uniform")


def order_factors(n_bits: int = 8, *, rule: str = "significance") -> torch.Tensor:
    """Order-aware gradient factors ``f_k`` for planes ``k = 0 .. n_bits-1`` (LSB first), float64.

    Rules (each normalised so that ``sum_k f_k 2^k = 1``):
        ``"significance"``: ``f_k = 2^k / sum_j 4^j``  (8 bits: ``f_7 = 128 / 21845``).
        ``"notes"``: ``f_k = k 2^(n-1-k) / (2^(n-1) n(n-1)/2)``  (8 bits: ``f_1 = 64 / 3584``).
        ``"uniform"``: ``f_k = 1 / (2^n - 1)``.
    """
    if not 1 <= n_bits <= 16:
        raise ValueError(f"n_bits must be in 1..16, got {n_bits}")
    k = torch.arange(n_bits, dtype=torch.float64)
    if rule == "significance":
        raw = 2.0**k
    elif rule == "notes":
        if n_bits < 2:
            raise ValueError("the 'notes' rule needs n_bits >= 2 (it gives plane 0 no weight)")
        raw = k * 2.0 ** (n_bits - 1 - k)
    elif rule == "uniform":
        raw = torch.ones(n_bits, dtype=torch.float64)
    else:
        raise ValueError(f"unknown factor rule {rule!r} (expected one of {FACTOR_RULES})")
    return raw / (raw * 2.0**k).sum()


def plane_weights(n_bits: int, *, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """Significance ``2^k`` of time step ``t`` (MSB first: ``k = n - 1 - t``), shape ``[n_bits]``."""
    return 2.0 ** torch.arange(n_bits - 1, -1, -1, dtype=dtype, device=device)


def bitplane_scale(top: torch.Tensor, n_bits: int, dtype: torch.dtype) -> torch.Tensor:
    """Quantisation step of a block whose activations reach ``top``: ``top / (2^n - 1)``
    (at least 1e-12), as ``dtype`` (`BitplaneBlock.scale`, the export's `TracingBitplane`)."""
    return (top / (2**n_bits - 1)).clamp_min(1e-12).to(dtype)


def quantize_levels(x: torch.Tensor, scale: torch.Tensor | float, n_bits: int = 8) -> torch.Tensor:
    """``round(x / scale)`` clipped to ``[0, 2^n - 1]``, in ``x``'s dtype."""
    return torch.round(x / scale).clamp_(0, 2**n_bits - 1)


def quantize(x: torch.Tensor, scale: torch.Tensor | float, n_bits: int = 8) -> torch.Tensor:
    """``round(x / scale)`` clipped to ``[0, 2^n - 1]``, as int32 (same shape as ``x``)."""
    return quantize_levels(x, scale, n_bits).to(torch.int32)


def integer_to_planes(integers: torch.Tensor, n_bits: int = 8, *, dtype=torch.float32):
    """``[...]`` ints -> planes ``[n_bits, ...]`` of 0/1, MSB first (``B_k = (I >> k) & 1``)."""
    shifts = torch.arange(n_bits - 1, -1, -1, device=integers.device, dtype=integers.dtype)
    shifts = shifts.view(n_bits, *([1] * integers.dim()))
    return ((integers.unsqueeze(0) >> shifts) & 1).to(dtype)


def float_planes(levels: torch.Tensor, n_bits: int = 8) -> torch.Tensor:
    """`integer_to_planes` in float arithmetic (traceable, exportable): integer-valued
    ``levels`` ``[...]`` -> planes ``[n_bits, ...]``, MSB first,
    ``B_k = floor(I / 2^k) - 2 floor(I / 2^(k+1))`` (exact in float for ``n_bits <= 16``)."""
    planes = [
        torch.floor(levels / 2**k) - 2 * torch.floor(levels / 2 ** (k + 1))
        for k in range(n_bits - 1, -1, -1)
    ]
    return torch.stack(planes)


def decode_planes(
    planes: torch.Tensor, scale: torch.Tensor | float, *, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Planes ``[n_bits, ...]`` (MSB first, any real values) -> ``scale * sum_k 2^k B_k``
    (``weights``: `plane_weights` already made, e.g. a module buffer)."""
    if weights is None:
        weights = plane_weights(planes.shape[0], dtype=planes.dtype, device=planes.device)
    return torch.tensordot(weights.to(planes.dtype), planes, dims=1) * scale


class BitplaneEncode(torch.autograd.Function):
    """``apply(x, scale, n_bits, factors)`` -> planes ``[n_bits, *x.shape]`` with the
    order-aware surrogate gradient described in the module docstring.

    ``scale``: 0-dim tensor (no gradient); ``factors``: ``[n_bits]`` tensor, LSB first.
    """

    @staticmethod
    def forward(ctx, x, scale, n_bits, factors):
        ctx.save_for_backward(x, scale, factors)
        ctx.n_bits = n_bits
        return integer_to_planes(quantize(x, scale, n_bits), n_bits, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_planes):
        x, scale, factors = ctx.saved_tensors
        msb_first = factors.flip(0).to(grad_planes.dtype)
        grad_x = torch.tensordot(msb_first, grad_planes, dims=1) / scale
        units = x / scale  # not clipped where round(units) lies in [0, 2^n - 1]
        inside = (units >= -0.5) & (units < 2**ctx.n_bits - 0.5)
        return grad_x * inside, None, None, None


class BitplaneBlock(nn.Module):
    """Encode -> spiking layer on the planes -> decode; maps ``x`` to the same shape.

    Args:
        inner: module mapping planes ``[n_bits, *x.shape]`` (time-first spike trains) to a
            tensor ``[n_bits, ...]``; ``None`` = identity (a pure 8-bit quantised ReLU).
        n_bits: planes = time steps (paper: 8).
        momentum: EMA weight of the new batch maximum for the running max (training only).
        rule: order-aware gradient factor rule, see :func:`order_factors`.
        record: store ``last_firing_rate`` (mean of the planes) and ``last_time_steps``.

    Buffers: ``running_max`` (0-dim; 0 until the first training batch, which sets it).
    In eval mode with an uncalibrated block the batch maximum is used (not stored).
    """

    running_max: torch.Tensor
    calibrated: torch.Tensor

    def __init__(
        self,
        inner: nn.Module | None = None,
        *,
        n_bits: int = 8,
        momentum: float = 0.1,
        rule: str = "significance",
        record: bool = False,
    ) -> None:
        super().__init__()
        if not 0.0 < momentum <= 1.0:
            raise ValueError(f"momentum must be in (0, 1], got {momentum}")
        self.inner = inner
        self.n_bits, self.momentum, self.rule, self.record = n_bits, momentum, rule, record
        self.factors = tuple(order_factors(n_bits, rule=rule).tolist())  # LSB first
        self.register_buffer("running_max", torch.zeros(()))
        self.register_buffer("calibrated", torch.zeros((), dtype=torch.bool))
        self.last_firing_rate: float | None = None
        self.last_time_steps: int | None = None

    def extra_repr(self) -> str:
        return f"n_bits={self.n_bits}, momentum={self.momentum}, rule={self.rule!r}"

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        """Quantisation step (0-dim, x's dtype); updates the running max in training mode."""
        batch_max = x.detach().max().clamp_min(0).to(self.running_max.dtype)
        if self.training:
            with torch.no_grad():
                if bool(self.calibrated):
                    self.running_max.lerp_(batch_max, self.momentum)
                else:
                    self.running_max.copy_(batch_max)
                    self.calibrated.fill_(True)
            top = self.running_max
        else:
            top = self.running_max if bool(self.calibrated) else batch_max
        return bitplane_scale(top, self.n_bits, x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: any shape (real activations) -> decoded activations, same shape."""
        scale = self.scale(x)
        factors = torch.tensor(self.factors, dtype=x.dtype, device=x.device)
        planes = BitplaneEncode.apply(x, scale, self.n_bits, factors)
        if self.record:
            self.last_firing_rate = float(planes.detach().mean())
            self.last_time_steps = self.n_bits
        spikes = planes if self.inner is None else self.inner(planes)
        return decode_planes(spikes, scale)
