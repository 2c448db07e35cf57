"""Temporal context at the U-Net bottleneck: lets a decoder carry what happened long before.

The U-Nets of `alignnet.models.unet` see about 30 bins around each output bin (two kernel-3
convolutions per level, two levels). That is enough for signals set by the last few hundred
ms (velocity), not for slow, offset-carrying ones (hand position during a hold, EMG, force):
their value at bin t depends on a movement that ended seconds earlier. `TemporalContext`
widens the receptive field at the bottleneck, where a step is ``2 ** levels`` bins:

- ``"tcn"``: residual dilated convolutions (kernel 3, dilations 1, 2, 4, 8): each block is
  ``x + W_out relu(conv_d(x))``; four blocks add ``2 * (1 + 2 + 4 + 8) = 30`` bottleneck steps
  (120 bins with two levels) of context. Causal: left-padded (output step j from steps
  <= j); acausal: centred. Stateless, so it streams with shift buffers and exports to ONNX.
- ``"gru"``: a residual GRU over the bottleneck steps (bidirectional when acausal).
- ``"none"``: the identity (the U-Net as in the paper).

The output projections start at zero, so a new block starts as the identity.
Input and output ``[B, W, L']`` (the bottleneck latent; the 2-D layout's ``[B, W, H, L']``
runs each row H on its own).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from alignnet.names import CONTEXT_KINDS as CONTEXTS
from alignnet.names import ContextKind

TCN_DILATIONS: tuple[int, ...] = (1, 2, 4, 8)


class DilatedBlock(nn.Module):
    """``x + W_out relu(conv_d(x))`` with a kernel-3 convolution of dilation ``d``:
    ``[B, W, L] -> [B, W, L]``; causal: output step j from steps j-2d, j-d, j."""

    def __init__(self, width: int, *, dilation: int, causal: bool) -> None:
        super().__init__()
        self.dilation: int = dilation
        self.causal = causal
        self.conv = nn.Conv1d(width, width, kernel_size=3, dilation=dilation)
        self.out = nn.Conv1d(width, width, kernel_size=1)
        nn.init.zeros_(self.out.weight)
        assert self.out.bias is not None
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.dilation
        padded = F.pad(x, (2 * d, 0) if self.causal else (d, d))
        return x + self.out(F.relu(self.conv(padded)))


class GRUContext(nn.Module):
    """``x + W_out GRU(x)`` over the steps of ``[B, W, L]`` (bidirectional when acausal)."""

    def __init__(self, width: int, *, causal: bool) -> None:
        super().__init__()
        self.gru = nn.GRU(width, width, batch_first=True, bidirectional=not causal)
        self.out = nn.Linear(width * (1 if causal else 2), width)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.gru(x.transpose(1, 2))
        return x + self.out(y).transpose(1, 2)


class TemporalContext(nn.Module):
    """Context module of kind ``kind`` (see the module docstring) on ``[B, width, L']``."""

    def __init__(self, width: int, *, kind: ContextKind, causal: bool) -> None:
        super().__init__()
        if kind not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, got {kind!r}")
        self.kind = kind
        if kind == "tcn":
            self.blocks = nn.ModuleList(
                DilatedBlock(width, dilation=d, causal=causal) for d in TCN_DILATIONS
            )
        elif kind == "gru":
            self.blocks = nn.ModuleList([GRUContext(width, causal=causal)])
        else:
            self.blocks = nn.ModuleList()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, W, L']`` (or the 2-D layout's ``[B, W, H, L']``, each row H on its own)."""
        if not len(self.blocks):
            return x
        if x.dim() == 4:
            b, w, h, steps = x.shape
            flat = x.permute(0, 2, 1, 3).reshape(b * h, w, steps)
            return self.forward(flat).reshape(b, h, w, steps).permute(0, 2, 1, 3)
        for block in self.blocks:
            x = block(x)
        return x
