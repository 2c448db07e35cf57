"""MLP baseline (paper section 4.2): a feed-forward net on a fixed-length vector of lagged bins.

The paper's MLP "tests the efficacy of treating sequences as fixed-dimensional vectors"; we read
it the way the decoding literature the paper follows for its Wiener filter does (Glaser et al.
2020, "feedforward neural network" decoder): each output bin ``t`` is predicted from the
flattened inputs of a short lag history, ``x[:, t - n_lags .. t]`` (``C * (n_lags + 1)``
numbers), by one MLP shared across bins. It sees the same features as `WienerFilter` and adds
non-linearity, so the two are directly comparable.

Why not flatten the whole ``[C, L]`` window into one vector (the first version did): with
``C = 171`` channels and ``L = 100`` bins that is 17 100 inputs and ``D * L`` outputs learned
from ~100 training windows per session, so it memorised the training windows (decode R^2 0.08
on the real M1 recording, first 80 % of windows fitted, against 0.74 for the Wiener filter;
this per-bin MLP scores 0.83 on the same split), and it could not be causal.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from alignnet.models.baselines.base import DECODE
from alignnet.models.baselines.neural import NeuralWindowModel


class LaggedMLP(nn.Module):
    """One MLP applied at every bin to the flattened inputs around it, ``[B, K_in, L] ->
    [B, K_out, L]``.

    Output bin ``t`` sees input bins ``t - lags_before .. t + lags_after``; bins outside the
    window are zero (as in `lagged_features`), so no window sees another. The first layer is a
    convolution with kernel ``lags_before + lags_after + 1`` (the same as a linear layer on the
    flattened lag vector), the rest are 1x1 convolutions (per-bin linear layers).

    Args:
        n_in, n_out: input rows (channels or behaviour dims) and output rows.
        lags_before, lags_after: bins of history and of future each output bin sees.
        hidden: units per hidden layer.
        layers: number of hidden layers (>= 1).
        dropout: dropout after each hidden layer (0 disables).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        lags_before: int,
        lags_after: int,
        hidden: int,
        layers: int,
        dropout: float,
    ) -> None:
        super().__init__()
        if lags_before < 0 or lags_after < 0 or layers < 1:
            raise ValueError(
                f"need lags >= 0 and layers >= 1, got {lags_before}, {lags_after}, {layers}"
            )
        blocks: list[nn.Module] = [nn.ConstantPad1d((lags_before, lags_after), 0.0)]
        width = n_in
        for i in range(layers):
            kernel = lags_before + lags_after + 1 if i == 0 else 1
            blocks += [nn.Conv1d(width, hidden, kernel), nn.ReLU()]
            if dropout > 0:
                blocks.append(nn.Dropout(dropout))
            width = hidden
        blocks.append(nn.Conv1d(width, n_out, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLPBaseline(NeuralWindowModel):
    """Per-bin MLP on lagged inputs; decode (causal) and simulate.

    Decode: bin ``t``'s behaviour from the spike counts of bins ``t - n_lags .. t`` (causal, as
    `WienerFilter`). Simulate: bin ``t``'s rates from the behaviour of bins
    ``t - n_lags .. t + n_lags`` (neural activity leads movement; like the Wiener simulator and
    `BehaviorMLP`, not causal).

    Args:
        n_lags: bins of history (decode); half-width of the lag range (simulate).
        hidden: units per hidden layer.
        layers: number of hidden layers.
        dropout: dropout after each hidden layer.
        (plus the training options of `NeuralWindowModel`)
    """

    name = "MLP"
    causal = True
    param_grid = (
        {"n_lags": 4, "hidden": 256, "dropout": 0.2},
        {"n_lags": 9, "hidden": 256, "dropout": 0.5},
        {"n_lags": 2, "hidden": 128, "dropout": 0.1},
        {"n_lags": 4, "hidden": 512, "dropout": 0.5, "weight_decay": 1e-4},
    )

    def __init__(
        self,
        *,
        n_lags: int = 4,
        hidden: int = 256,
        layers: int = 2,
        dropout: float = 0.2,
        **train: Any,
    ) -> None:
        if n_lags < 0:
            raise ValueError(f"n_lags must be >= 0, got {n_lags}")
        self.n_lags, self.hidden, self.layers, self.dropout = n_lags, hidden, layers, dropout
        super().__init__(**train)

    def build(self, n_in: int, n_out: int, length: int, *, task: str) -> nn.Module:
        a = self.arch
        return LaggedMLP(
            n_in,
            n_out,
            lags_before=a["n_lags"],
            lags_after=0 if task == DECODE else a["n_lags"],
            hidden=a["hidden"],
            layers=a["layers"],
            dropout=a["dropout"],
        )
