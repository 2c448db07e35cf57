"""Losses of AlignNet (paper eq. 16-17) and of its fine-tuning tasks.

All losses are computed in float32 even under bf16 autocast (``logsumexp`` /
``cross_entropy`` on upcast logits), so the contrastive term stays stable.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class LearnableTemperature(nn.Module):
    """InfoNCE temperature tau, stored as log(tau) and clamped to ``[low, high]``."""

    def __init__(self, init: float = 0.1, *, low: float = 0.01, high: float = 1.0) -> None:
        super().__init__()
        if not low <= init <= high:
            raise ValueError(f"initial temperature {init} outside [{low}, {high}]")
        self.low, self.high = float(low), float(high)
        self.log_tau = nn.Parameter(torch.tensor(math.log(init), dtype=torch.float32))

    def forward(self) -> torch.Tensor:
        """Scalar tau (float32)."""
        return self.log_tau.float().clamp(math.log(self.low), math.log(self.high)).exp()


def symmetric_info_nce(
    z_spikes: torch.Tensor,
    z_behavior: torch.Tensor,
    temperature: torch.Tensor | float,
    *,
    candidates_spikes: torch.Tensor | None = None,
    candidates_behavior: torch.Tensor | None = None,
    offset: int = 0,
) -> torch.Tensor:
    """CLIP-style symmetric InfoNCE (eq. 16-17): ``(L_spike + L_behaviour) / 2``.

    Args:
        z_spikes: ``[N, E]`` L2-normalised spike embeddings (the anchors of this process).
        z_behavior: ``[N, E]`` L2-normalised behaviour embeddings; row i pairs with row i.
        temperature: tau (scalar).
        candidates_spikes, candidates_behavior: ``[M, E]`` embeddings to contrast against
            (under DDP, the embeddings gathered from every process); default: the batch itself.
        offset: row of ``candidates_*`` that pairs with anchor 0 (this process's first row
            in the global batch).

    Returns:
        Scalar float32 loss: the mean over the N anchors of the two cross-entropies.
    """
    cand_s = z_spikes if candidates_spikes is None else candidates_spikes
    cand_b = z_behavior if candidates_behavior is None else candidates_behavior
    tau = torch.as_tensor(temperature, dtype=torch.float32, device=z_spikes.device)
    zs, zb = z_spikes.float(), z_behavior.float()
    target = torch.arange(offset, offset + zs.shape[0], device=zs.device)
    loss_s2b = F.cross_entropy(zs @ cand_b.float().T / tau, target)
    loss_b2s = F.cross_entropy(zb @ cand_s.float().T / tau, target)
    return 0.5 * (loss_s2b + loss_b2s)


def mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error in float32 (reconstruction, decoding and the paper's simulation)."""
    return F.mse_loss(prediction.float(), target.float())


def poisson_nll(rates: torch.Tensor, counts: torch.Tensor, *, eps: float = 1e-6) -> torch.Tensor:
    """Mean Poisson negative log-likelihood of ``counts`` under non-negative ``rates``
    (counts per bin), dropping the ``log(k!)`` constant: ``mean(rate - k * log(rate + eps))``."""
    r = rates.float()
    return (r - counts.float() * torch.log(r + eps)).mean()
