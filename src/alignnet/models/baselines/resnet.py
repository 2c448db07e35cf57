"""ResNet and ResNet+UNet baselines: 1-D convolutions over the window's bins (paper 4.2).

Both use "same" padding, so an output bin sees input bins on both sides (not causal).
"""

from __future__ import annotations

import torch
from torch import nn

from alignnet.models.baselines.neural import NeuralWindowModel


class ResidualBlock1d(nn.Module):
    """conv-BN-ReLU-conv-BN plus identity (or 1x1 projection) skip; ``stride`` downsamples."""

    def __init__(self, c_in: int, c_out: int, *, kernel: int = 5, stride: int = 1) -> None:
        super().__init__()
        pad = kernel // 2
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=pad, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, padding=pad, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.skip: nn.Module = (
            nn.Identity()
            if c_in == c_out and stride == 1
            else nn.Sequential(
                nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.skip(x))


class _ResNet1d(nn.Module):
    def __init__(self, n_in: int, n_out: int, width: int, blocks: int, kernel: int):
        super().__init__()
        self.stem = nn.Conv1d(n_in, width, kernel, padding=kernel // 2)
        self.blocks = nn.Sequential(
            *[ResidualBlock1d(width, width, kernel=kernel) for _ in range(blocks)]
        )
        self.head = nn.Conv1d(width, n_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, K_in, L] -> [B, K_out, L]
        return self.head(self.blocks(torch.relu(self.stem(x))))


class _ResNetUNet1d(nn.Module):
    """Residual encoder (each stage halves L) and a U-Net decoder that concatenates skips."""

    def __init__(self, n_in: int, n_out: int, width: int, depth: int, kernel: int):
        super().__init__()
        self.stem = nn.Conv1d(n_in, width, kernel, padding=kernel // 2)
        widths = [width * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList(
            [
                ResidualBlock1d(widths[i], widths[i + 1], kernel=kernel, stride=2)
                for i in range(depth)
            ]
        )
        self.up = nn.ModuleList(
            [
                ResidualBlock1d(widths[i + 1] + widths[i], widths[i], kernel=kernel)
                for i in reversed(range(depth))
            ]
        )
        self.head = nn.Conv1d(width, n_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.stem(x))
        skips = []
        for block in self.down:
            skips.append(h)
            h = block(h)
        for block in self.up:
            skip = skips.pop()
            h = nn.functional.interpolate(
                h, size=skip.shape[-1], mode="linear", align_corners=False
            )
            h = block(torch.cat([h, skip], dim=1))
        return self.head(h)


class ResNetBaseline(NeuralWindowModel):
    """1-D ResNet at full time resolution.

    Args:
        width: channels of every residual block.
        blocks: number of residual blocks.
        kernel: temporal kernel size (odd).
    """

    name = "ResNet"
    causal = False
    module_class = _ResNet1d
    param_grid = (
        {"width": 64, "blocks": 3},
        {"width": 32, "blocks": 2},
        {"width": 64, "blocks": 3, "lr": 3e-3},
        {"width": 128, "blocks": 4},
    )

    def __init__(self, *, width: int = 64, blocks: int = 3, kernel: int = 5, **train):
        self.width, self.blocks, self.kernel = width, blocks, kernel
        super().__init__(**train)


class ResNetUNetBaseline(NeuralWindowModel):
    """ResNet encoder + U-Net decoder with skip connections.

    Args:
        width: channels after the stem (doubles at each downsampling stage).
        depth: number of downsampling stages.
        kernel: temporal kernel size (odd).
    """

    name = "ResNet+UNet"
    causal = False
    module_class = _ResNetUNet1d
    param_grid = (
        {"width": 32, "depth": 2},
        {"width": 16, "depth": 2},
        {"width": 32, "depth": 2, "lr": 3e-3},
        {"width": 32, "depth": 3},
    )

    def __init__(self, *, width: int = 32, depth: int = 2, kernel: int = 5, **train):
        self.width, self.depth, self.kernel = width, depth, kernel
        super().__init__(**train)
