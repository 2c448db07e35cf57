"""MLP baseline: the whole window as one fixed-length vector (paper section 4.2).

``[N, K_in, L]`` is flattened to ``K_in * L`` inputs and mapped to ``K_out * L`` outputs, so
every output bin sees every input bin of the window (not causal).
"""

from __future__ import annotations

import torch
from torch import nn

from alignnet.models.baselines.neural import NeuralWindowModel


class _FlatMLP(nn.Module):
    def __init__(
        self, n_in: int, n_out: int, length: int, hidden: int, layers: int, dropout: float
    ):
        super().__init__()
        dims = [n_in * length] + [hidden] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            blocks += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
        blocks.append(nn.Linear(dims[-1], n_out * length))
        self.net = nn.Sequential(*blocks)
        self.n_out, self.length = n_out, length

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, K_in, L] -> [B, K_out, L]
        return self.net(x.flatten(1)).view(-1, self.n_out, self.length)


class MLPBaseline(NeuralWindowModel):
    """Window-flattening MLP; decode and simulate.

    Args:
        hidden: units per hidden layer.
        layers: number of hidden layers.
        dropout: dropout after each hidden layer.
        (plus the training options of `NeuralWindowModel`)
    """

    name = "MLP"
    causal = False

    def __init__(self, *, hidden: int = 256, layers: int = 2, dropout: float = 0.2, **train):
        super().__init__(hidden=hidden, layers=layers, dropout=dropout, **train)

    def build(self, n_in: int, n_out: int, length: int) -> nn.Module:
        a = self.arch
        return _FlatMLP(n_in, n_out, length, a["hidden"], a["layers"], a["dropout"])
