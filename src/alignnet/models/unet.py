"""U-Net encoder/decoder blocks parameterised by their activation (paper eq. 6-9, 13-15).

One class serves both readings of the spike network and the behaviour network:
- ``dims=1``: tensors ``[B, W, L]`` (features x bins), kernel-3 convolutions along L,
  /2 max-pooling, kernel-2 stride-2 transposed convolutions;
- ``dims=2``: tensors ``[B, W, H, L]`` (features x channels x bins), 3x3 convolutions,
  2x2 max-pooling, 2x2 stride-2 transposed convolutions.

The activation is whatever ``make_act()`` returns (ReLU, LIF, bit-plane block); it must map a
tensor to one of the same shape. Encoder and decoder are separate calls so that the AlignNet
model can route one branch's encoder (and its skip features) into the other branch's decoder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

MakeAct = Callable[[], nn.Module]


def _layers(dims: int) -> tuple[type[nn.Module], type[nn.Module], type[nn.Module], type[nn.Module]]:
    if dims == 1:
        return nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.ConvTranspose1d
    if dims == 2:
        return nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.ConvTranspose2d
    raise ValueError(f"dims must be 1 or 2, got {dims}")


class ConvBlock(nn.Sequential):
    """conv -> BN -> act -> conv -> BN -> act (eq. 9 / eq. 14); keeps the spatial size."""

    def __init__(self, in_width: int, out_width: int, *, dims: int, make_act: MakeAct) -> None:
        conv, norm, _, _ = _layers(dims)
        super().__init__(
            conv(in_width, out_width, kernel_size=3, padding=1, bias=False),
            norm(out_width),
            make_act(),
            conv(out_width, out_width, kernel_size=3, padding=1, bias=False),
            norm(out_width),
            make_act(),
        )


class UNetEncoder(nn.Module):
    """k levels of (ConvBlock, max-pool), then the bottleneck 1x1 conv + ReLU (eq. 6-8).

    The paper's bottleneck AvgPool is 1x1 with stride 1, i.e. the identity; it is omitted.

    Input ``[B, in_width, *S]``; output ``(h, skips)``: ``h`` is ``[B, latent_width, *S/2^k]``
    and ``skips[i]`` is level i's block output ``[B, widths[i], *S/2^i]`` (before pooling).
    """

    def __init__(
        self,
        in_width: int,
        widths: Sequence[int],
        latent_width: int,
        *,
        dims: int,
        make_act: MakeAct,
    ) -> None:
        super().__init__()
        conv, _, pool, _ = _layers(dims)
        ins = [in_width, *widths[:-1]]
        self.blocks = nn.ModuleList(
            ConvBlock(i, o, dims=dims, make_act=make_act) for i, o in zip(ins, widths, strict=True)
        )
        self.pool = pool(2)
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
    shapes) and returns ``[B, out_width, *S]``.
    """

    def __init__(
        self,
        out_width: int,
        widths: Sequence[int],
        latent_width: int,
        *,
        dims: int,
        make_act: MakeAct,
    ) -> None:
        super().__init__()
        conv, _, _, up = _layers(dims)
        ups, blocks = [], []
        below = latent_width
        for width in reversed(widths):
            ups.append(up(below, width, kernel_size=2, stride=2))
            blocks.append(ConvBlock(2 * width, width, dims=dims, make_act=make_act))
            below = width
        self.ups = nn.ModuleList(ups)
        self.blocks = nn.ModuleList(blocks)
        self.head = conv(widths[0], out_width, kernel_size=1)

    def forward(self, h: torch.Tensor, skips: Sequence[torch.Tensor]) -> torch.Tensor:
        x = h
        for up, block, skip in zip(self.ups, self.blocks, reversed(skips), strict=True):
            x = block(torch.cat([up(x), skip], dim=1))
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
    ) -> None:
        super().__init__()
        self.encoder = UNetEncoder(in_width, widths, latent_width, dims=dims, make_act=make_act)
        self.decoder = UNetDecoder(out_width, widths, latent_width, dims=dims, make_act=make_act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, skips = self.encoder(x)
        return self.decoder(h, skips)
