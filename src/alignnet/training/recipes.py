"""Pretraining and fine-tuning recipes: what each feeds the one training loop.

Each recipe is a loss function of ``(module, batch)`` (see `alignnet.engine.loop.LossFn`)
plus the parameters it optimises. Batches hold normalised tensors: ``spikes [b, C, L]``
(z-scores), ``behavior [b, D, L]`` (z-scores), ``day [b]`` and, for simulation, ``counts
[b, C, L]`` (raw counts per bin, the simulate target).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from alignnet.engine import distributed
from alignnet.engine.loop import Batch, LossFn
from alignnet.models.alignnet import AlignNetModel
from alignnet.models.day_adapters import DayAdapters
from alignnet.models.losses import mse, poisson_nll, symmetric_info_nce
from alignnet.names import Task


def pretrain_loss(
    *, contrastive_weight: float = 1.0, spike_weight: float = 1.0, behavior_weight: float = 1.0
) -> LossFn:
    """Contrastive + w_s * MSE(spike reconstruction) + w_b * MSE(behaviour reconstruction).

    Under DDP (training mode) the InfoNCE negatives are the embeddings of the global batch.
    """

    def loss_fn(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        out = module(
            spikes=batch["spikes"], behavior=batch["behavior"], day=batch["day"], mode="pretrain"
        )
        zs, zb = out["z_spikes"], out["z_behavior"]
        if module.training:
            all_s, offset = distributed.gather_with_grad(zs)
            all_b, _ = distributed.gather_with_grad(zb)
        else:
            all_s, all_b, offset = zs, zb, 0
        contrastive = symmetric_info_nce(
            zs,
            zb,
            out["temperature"],
            candidates_spikes=all_s,
            candidates_behavior=all_b,
            offset=offset,
        )
        spike_recon = mse(out["spike_recon"], batch["spikes"])
        behavior_recon = mse(out["behavior_recon"], batch["behavior"])
        total = (
            contrastive_weight * contrastive
            + spike_weight * spike_recon
            + behavior_weight * behavior_recon
        )
        terms = {
            "contrastive": contrastive.detach(),
            "spike_recon": spike_recon.detach(),
            "behavior_recon": behavior_recon.detach(),
            "temperature": out["temperature"].detach(),
        }
        return total, terms

    return loss_fn


def decode_loss() -> LossFn:
    """MSE of the decoded behaviour (spike encoder -> behaviour decoder), normalised units."""

    def loss_fn(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        pred = module(spikes=batch["spikes"], day=batch["day"], mode="decode")["behavior"]
        loss = mse(pred, batch["behavior"])
        return loss, {"decode_mse": loss.detach()}

    return loss_fn


def simulate_loss(kind: Literal["mse", "poisson"] = "mse") -> LossFn:
    """Rates (behaviour encoder -> spike decoder) against counts: MSE (paper) or Poisson NLL."""

    def loss_fn(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        rates = module(
            behavior=batch["behavior"],
            day=batch["day"],
            mode="simulate",
            n_out=batch["counts"].shape[1],
        )["rates"]
        if kind == "poisson":
            loss = poisson_nll(rates, batch["counts"])
        else:
            loss = mse(rates, batch["counts"])
        return loss, {f"simulate_{kind}": loss.detach()}

    return loss_fn


def finetune_parameters(network: AlignNetModel, *, task: Task, freeze_encoder: bool) -> list:
    """Parameters fine-tuning optimises: all, or all but the task's encoder."""
    params = list(network.parameters())
    if not freeze_encoder:
        return params
    frozen = {id(p) for p in network.encoder_parameters(task)}
    return [p for p in params if id(p) not in frozen]


@torch.no_grad()
def init_rate_head(network: AlignNetModel, *, count_mean, count_std) -> None:
    """Start the simulate head at rates ~= mean + std * (normalised spike reconstruction):
    ``softplus(std * y + softplus^-1(mean))``."""
    mean = torch.as_tensor(count_mean, dtype=torch.float32).clamp_min(1e-3)
    std = torch.as_tensor(count_std, dtype=torch.float32)
    network.rate_bias.copy_(mean + torch.log(-torch.expm1(-mean)))
    network.rate_scale.copy_(std)


@torch.no_grad()
def init_day_rate_head(adapters: DayAdapters, day: int, *, count_mean, count_std) -> None:
    """As `init_rate_head`, for the rate head of one day's adapters (``[N_d]`` statistics)."""
    mean = torch.as_tensor(count_mean, dtype=torch.float32).clamp_min(1e-3)
    std = torch.as_tensor(count_std, dtype=torch.float32)
    _, _, scale, bias = adapters.day_parameters(day)
    bias.copy_(mean + torch.log(-torch.expm1(-mean)))
    scale.copy_(std)
