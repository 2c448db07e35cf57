"""Aligning a new recording day without labels: fit only that day's read-in and read-out.

Everything shared (both U-Nets, heads, batch-norm statistics) is frozen; the network runs in
eval mode. The day's read-in ``W_in [C, N_d]`` and read-out ``W_out [N_d, C]`` minimise

    MSE(W_out . D(E(W_in . x)), x)                    reconstruction through the frozen spike AE
    + kl_weight * KL(N(mu_new, S_new) || N(mu_ref, S_ref)) / K     latent distribution match
    + prior_weight * ||W_in - W_in0||^2 / numel(W_in)              stay near the start

where ``x`` are the day's normalised spikes, ``E``/``D`` the frozen spike encoder/decoder, and
``N(mu, S)`` Gaussians fitted to the bottleneck features (one ``K``-vector per latent bin) of
the new day and of the training days (`latent_statistics`, stored with the model).

This follows NoMAD (Karpowicz et al. 2025): a frozen model, a small per-day input network
fitted by matching the new day's latent distribution to the training days' with a KL term,
plus a reconstruction term (NoMAD's is a Poisson likelihood of the new day's spikes; here it is
the frozen autoencoder's own MSE objective). It needs no behaviour and no trial structure, so
it runs on any unlabelled spikes of the new day; the start ``W_in0`` is the identity when the
day has the model's channel count (the ``electrode`` policy), so the prior keeps an
electrode-wise map unless the data argue otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from alignnet.models.alignnet import AlignNetModel


@dataclass
class LatentStats:
    """Gaussian summary of bottleneck features: ``mean [K]``, ``cov [K, K]`` (float64)."""

    mean: np.ndarray
    cov: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "cov": self.cov.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatentStats:
        return cls(np.asarray(data["mean"], np.float64), np.asarray(data["cov"], np.float64))


@dataclass
class AlignReport:
    """What one alignment did: loss terms per epoch and the wall time, s."""

    day: int
    epochs: int
    loss: list[float] = field(default_factory=list)
    recon: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _features(network: AlignNetModel, spikes: torch.Tensor, day: torch.Tensor) -> torch.Tensor:
    """Bottleneck features ``[n_vectors, K]`` of normalised spikes ``[B, N, L]``."""
    h, _ = network.encode_spikes(spikes, day)
    h = network._to_ann(h)  # [B, K, ...]
    return h.movedim(1, -1).reshape(-1, h.shape[1]).float()


@torch.no_grad()
def latent_statistics(
    network: AlignNetModel, spikes: np.ndarray, day: np.ndarray, *, batch: int = 256
) -> LatentStats:
    """Mean and covariance of the bottleneck features of normalised ``spikes [N, C, L]``."""
    network.eval()
    device = next(network.parameters()).device
    total: torch.Tensor | None = None
    outer: torch.Tensor | None = None
    count = 0
    for start in range(0, spikes.shape[0], batch):
        x = torch.from_numpy(spikes[start : start + batch]).to(device)
        d = torch.from_numpy(day[start : start + batch]).to(device)
        f = _features(network, x, d).double()
        total = f.sum(0) if total is None else total + f.sum(0)
        outer = f.T @ f if outer is None else outer + f.T @ f
        count += f.shape[0]
    if total is None or outer is None:
        raise ValueError("no windows to take latent statistics of")
    mean = total / count
    cov = outer / count - torch.outer(mean, mean)
    return LatentStats(mean.cpu().numpy(), cov.cpu().numpy())


def gaussian_kl(
    mean: torch.Tensor, cov: torch.Tensor, ref_mean: torch.Tensor, ref_cov: torch.Tensor
) -> torch.Tensor:
    """``KL(N(mean, cov) || N(ref_mean, ref_cov))`` (nats), float64."""
    k = mean.shape[0]
    ref_inv = torch.linalg.inv(ref_cov)
    diff = (ref_mean - mean)[:, None]
    return 0.5 * (
        torch.trace(ref_inv @ cov)
        + (diff.T @ ref_inv @ diff).squeeze()
        - k
        + torch.logdet(ref_cov)
        - torch.logdet(cov)
    )


def align_day(
    network: AlignNetModel,
    spikes: np.ndarray,
    *,
    day: int,
    reference: LatentStats,
    epochs: int = 60,
    lr: float = 3e-3,
    batch_size: int = 64,
    kl_weight: float = 1.0,
    prior_weight: float = 10.0,
    seed: int = 0,
    progress: bool = False,
) -> AlignReport:
    """Fit ``day``'s read-in and read-out (which must exist) on its normalised spikes.

    Args:
        network: an `AlignNetModel`; only ``network.adapters`` of ``day`` change.
        spikes: ``[N, N_d, L]`` float32 z-scored spikes of the new day (no labels).
        day: the day index (its adapters are created by the caller).
        reference: latent statistics of the training days.
        epochs: passes over the day's windows (Adam, constant ``lr``).
        kl_weight, prior_weight: weights of the KL and the stay-near-start terms.
        seed: batch order.

    Returns:
        An `AlignReport`.
    """
    from tqdm.auto import tqdm

    start_time = time.perf_counter()
    device = next(network.parameters()).device
    network.eval()
    shared = [p for p in network.parameters()]
    flags = [p.requires_grad for p in shared]
    for p in shared:
        p.requires_grad_(False)
    w_in, w_out, _, _ = network.adapters.day_parameters(day)
    for p in (w_in, w_out):
        p.requires_grad_(True)
    w_in0 = w_in.detach().clone()
    eps = 1e-3
    k = reference.mean.shape[0]
    ref_mean = torch.as_tensor(reference.mean, dtype=torch.float64, device=device)
    ref_cov = torch.as_tensor(reference.cov, dtype=torch.float64, device=device)
    ref_cov = ref_cov + eps * torch.eye(k, dtype=torch.float64, device=device)
    x_all = torch.from_numpy(np.ascontiguousarray(spikes, dtype=np.float32)).to(device)
    days = torch.full((x_all.shape[0],), int(day), dtype=torch.long, device=device)
    optimizer = torch.optim.Adam([w_in, w_out], lr=lr)
    gen = torch.Generator().manual_seed(int(seed))
    report = AlignReport(day=int(day), epochs=epochs)
    try:
        for _ in tqdm(range(epochs), desc=f"align day {day}", disable=not progress):
            order = torch.randperm(x_all.shape[0], generator=gen).to(device)
            sums = np.zeros(3)
            n_batches = 0
            for lo in range(0, x_all.shape[0], batch_size):
                idx = order[lo : lo + batch_size]
                x, d = x_all[idx], days[idx]
                h, skips = network.encode_spikes(x, d)
                recon = network.adapters.read_out(
                    network.decode_spikes(h, skips), d, width_out=x.shape[1]
                )
                recon_loss = torch.mean((recon - x) ** 2)
                f = network._to_ann(h).movedim(1, -1).reshape(-1, h.shape[1]).double()
                mean = f.mean(0)
                cov = torch.cov(f.T) + eps * torch.eye(k, dtype=torch.float64, device=device)
                kl = gaussian_kl(mean, cov, ref_mean, ref_cov) / k
                prior = torch.mean((w_in - w_in0) ** 2)
                loss = recon_loss + kl_weight * kl.float() + prior_weight * prior
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                sums += [loss.item(), recon_loss.item(), kl.item()]
                n_batches += 1
            report.loss.append(sums[0] / n_batches)
            report.recon.append(sums[1] / n_batches)
            report.kl.append(sums[2] / n_batches)
    finally:
        for p, flag in zip(shared, flags, strict=True):
            p.requires_grad_(flag)
    report.wall_s = time.perf_counter() - start_time
    return report
