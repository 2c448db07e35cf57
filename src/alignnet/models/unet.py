"""U-Net encoder/decoder blocks parameterised by their activation (paper eq. 6-9, 13-15).

One class serves both readings of the spike network and the behaviour network:
- ``dims=1``: tensors ``[B, W, L]`` (features x bins), kernel-3 convolutions along L,
  /2 max-pooling, kernel-2 stride-2 transposed convolutions;
- ``dims=2``: tensors ``[B, W, H, L]`` (features x channels x bins), 3x3 convolutions,
  2x2 max-pooling, 2x2 stride-2 transposed convolutions.

The activation is whatever ``make_act()`` returns (ReLU, LIF, bit-plane block); it must map a
tensor to one of the same shape. Encoder and decoder are separate calls so that the AlignNet
model can route one branch's encoder (and its skip features) into the other branch's decoder.

Causal variant (``causal=True``, ``dims=1`` only): output bin t depends on input bins <= t.

- convolutions are left-padded (`CausalConv1d`: kernel k sees bins t-k+1..t);
- pooling keeps the right edge (`CausalMaxPool1d`): pooled bin j = max(x[2j-1], x[2j]) (the
  bin before the first is -inf), so pooled bin j only covers bins <= 2j;
- the kernel-2 stride-2 transposed convolution then gives fine bins 2j and 2j+1 from pooled
  bin j (covering bins <= 2j), i.e. it only repeats the past; its output is cropped to the
  skip feature's length, so any sequence length works (not only multiples of ``2 ** k``);
- skip features are concatenated at the same bin (aligned in time).

Level l of a causal U-Net therefore produces its bin j at input bin ``2**l * j``: this is what
`alignnet.realtime.causal.CausalStreamingDecoder` uses to update only what a new bin changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

MakeAct = Callable[[], nn.Module]


def _layers(dims: int) -> tuple[type[nn.Module], type[nn.Module], type[nn.Module], type[nn.Module]]:
    if dims == 1:
        return nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.ConvTranspose1d
    if dims == 2:
        return nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.ConvTranspose2d
    raise ValueError(f"dims must be 1 or 2, got {dims}")


class CausalConv1d(nn.Conv1d):
    """1-D convolution left-padded with ``kernel_size - 1`` zeros: ``[B, W, L] -> [B, W', L]``,
    output bin t from input bins t-k+1..t (same parameters/state-dict keys as `nn.Conv1d`)."""

    def __init__(self, in_width: int, out_width: int, kernel_size: int, *, bias: bool) -> None:
        super().__init__(in_width, out_width, kernel_size, padding=0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.kernel_size[0] - 1, 0)))


class CausalMaxPool1d(nn.Module):
    """/2 max-pool keeping the right edge: ``[B, W, L] -> [B, W, ceil(L/2)]``, pooled bin j =
    max(x[2j-1], x[2j]) (x[-1] = -inf), so it covers input bins <= 2j."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool1d(F.pad(x, (1, 0), value=float("-inf")), 2)


def _check_causal(causal: bool, dims: int) -> None:
    if causal and dims != 1:
        raise ValueError("causal=True needs dims=1 (the temporal layout)")


class ConvBlock(nn.Sequential):
    """conv -> BN -> act -> conv -> BN -> act (eq. 9 / eq. 14); keeps the spatial size.

    ``causal=True`` (``dims=1``): left-padded `CausalConv1d` instead of centred padding.
    """

    def __init__(
        self,
        in_width: int,
        out_width: int,
        *,
        dims: int,
        make_act: MakeAct,
        causal: bool = False,
    ) -> None:
        _check_causal(causal, dims)
        conv, norm, _, _ = _layers(dims)

        def make_conv(i: int, o: int) -> nn.Module:
            if causal:
                return CausalConv1d(i, o, 3, bias=False)
            return conv(i, o, kernel_size=3, padding=1, bias=False)

        super().__init__(
            make_conv(in_width, out_width),
            norm(out_width),
            make_act(),
            make_conv(out_width, out_width),
            norm(out_width),
            make_act(),
        )


class UNetEncoder(nn.Module):
    """k levels of (ConvBlock, max-pool), then the bottleneck 1x1 conv + ReLU (eq. 6-8).

    The paper's bottleneck AvgPool is 1x1 with stride 1, i.e. the identity; it is omitted.

    Input ``[B, in_width, *S]``; output ``(h, skips)``: ``h`` is ``[B, latent_width, *S/2^k]``
    and ``skips[i]`` is level i's block output ``[B, widths[i], *S/2^i]`` (before pooling).
    With ``causal=True`` (``dims=1``) sizes round up (``ceil(L / 2^i)``) and bin t of every
    output depends on input bins <= ``2^i * t`` only (see the module docstring).
    """

    def __init__(
        self,
        in_width: int,
        widths: Sequence[int],
        latent_width: int,
        *,
        dims: int,
        make_act: MakeAct,
        causal: bool = False,
    ) -> None:
        super().__init__()
        _check_causal(causal, dims)
        conv, _, pool, _ = _layers(dims)
        ins = [in_width, *widths[:-1]]
        self.causal = causal
        self.blocks = nn.ModuleList(
            ConvBlock(i, o, dims=dims, make_act=make_act, causal=causal)
            for i, o in zip(ins, widths, strict=True)
        )
        self.pool = CausalMaxPool1d() if causal else pool(2)
        self.bottleneck = nn.Sequential(conv(widths[-1], latent_width, kernel_size=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        for block in self.blocks:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        return self.bottleneck(x), skips


class UNetDecoder(nn.Module):
    """k levels of (transposed-conv upsample, concat skip, ConvBlock), then a 1x1 conv head
    (eq. 13-15).

    ``forward(h, skips)`` takes the encoder's outputs (or another branch's of the same
    shapes) and returns ``[B, out_width, *S]``. With ``causal=True`` each upsampled feature is
    cropped to its skip's length and the block convolutions are causal (see module docstring).
    """

    def __init__(
        self,
        out_width: int,
        widths: Sequence[int],
        latent_width: int,
        *,
        dims: int,
        make_act: MakeAct,
        causal: bool = False,
    ) -> None:
        super().__init__()
        _check_causal(causal, dims)
        conv, _, _, up = _layers(dims)
        ups, blocks = [], []
        below = latent_width
        self.causal = causal
        for width in reversed(widths):
            ups.append(up(below, width, kernel_size=2, stride=2))
            blocks.append(ConvBlock(2 * width, width, dims=dims, make_act=make_act, causal=causal))
            below = width
        self.ups = nn.ModuleList(ups)
        self.blocks = nn.ModuleList(blocks)
        self.head = conv(widths[0], out_width, kernel_size=1)

    def forward(self, h: torch.Tensor, skips: Sequence[torch.Tensor]) -> torch.Tensor:
        x = h
        for up, block, skip in zip(self.ups, self.blocks, reversed(skips), strict=True):
            upsampled = up(x)
            if self.causal:
                upsampled = upsampled[..., : skip.shape[-1]]
            x = block(torch.cat([upsampled, skip], dim=1))
        return self.head(x)


class UNet(nn.Module):
    """Encoder + decoder with skip connections (one autoencoder of Figure 3).

    Args:
        in_width: input feature width (C for the temporal spike net; 1 for the 2-D image).
        out_width: output feature width.
        widths: encoder level widths; spatial sizes must be divisible by ``2 ** len(widths)``.
        latent_width: bottleneck width.
        dims: 1 (``[B, W, L]``) or 2 (``[B, W, H, L]``).
        make_act: factory of the activation module used after every BN.
        causal: output bin t from input bins <= t only (``dims=1``; see module docstring).
    """

    def __init__(
        self,
        in_width: int,
        out_width: int,
        *,
        widths: Sequence[int],
        latent_width: int,
        dims: int,
        make_act: MakeAct,
        causal: bool = False,
    ) -> None:
        super().__init__()
        kw: dict[str, Any] = {"dims": dims, "make_act": make_act, "causal": causal}
        self.encoder = UNetEncoder(in_width, widths, latent_width, **kw)
        self.decoder = UNetDecoder(out_width, widths, latent_width, **kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, skips = self.encoder(x)
        return self.decoder(h, skips)
