"""GRU baseline: a causal recurrent network run over the window's bins (paper section 4.2)."""

from __future__ import annotations

import torch
from torch import nn

from alignnet.models.baselines.neural import NeuralWindowModel


class _GRUNet(nn.Module):
    def __init__(self, n_in: int, n_out: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        self.gru = nn.GRU(
            n_in, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0
        )
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, K_in, L] -> [B, K_out, L]
        h, _ = self.gru(x.transpose(1, 2))
        return self.head(h).transpose(1, 2)


class GRUBaseline(NeuralWindowModel):
    """Unidirectional GRU: output bin ``t`` sees input bins ``0..t`` of the window (causal).

    Args:
        hidden: GRU state size.
        layers: stacked GRU layers.
        dropout: between GRU layers.
    """

    name = "GRU"
    causal = True
    module_class = _GRUNet
    param_grid = (
        {"hidden": 128, "lr": 3e-3},
        {"hidden": 64, "lr": 3e-3},
        {"hidden": 128, "lr": 1e-3},
        {"hidden": 256, "lr": 1e-3},
    )

    def __init__(self, *, hidden: int = 128, layers: int = 1, dropout: float = 0.0, **train):
        self.hidden, self.layers, self.dropout = hidden, layers, dropout
        super().__init__(**train)
