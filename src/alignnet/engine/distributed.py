"""DistributedDataParallel support: process-group setup, global BatchNorm, global negatives.

Started with ``torchrun --nproc-per-node N -m alignnet pretrain ...``: every process reads
``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT`` from the environment, draws the same
seeded permutation of the windows each epoch and trains on its own contiguous share of every
global batch. Two pieces make N processes compute the same step as one process on the whole
global batch:

- the InfoNCE negatives cover the global batch: `gather_with_grad` all-gathers embeddings with
  gradient (``torch.distributed.nn.functional.all_gather``, whose backward sums the gradient
  contributions of every process);
- gradients are averaged over processes after each backward pass (see `wrap_ddp`);
- BatchNorm statistics are taken over the global batch: ``nn.SyncBatchNorm`` on CUDA; on the
  CPU (where torch 2.13's SyncBatchNorm raises "expected input tensor to be on GPU")
  `GlobalBatchNorm` all-reduces the per-channel sums with a differentiable all-reduce.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
import torch.distributed as dist
from torch import nn


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def init_from_env(device: torch.device | None = None) -> bool:
    """Initialise the default process group from torchrun's environment variables.

    Returns True when running distributed (``WORLD_SIZE`` > 1). Backend: NCCL on CUDA,
    gloo otherwise.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_initialized():
        use_nccl = (device is None or device.type == "cuda") and torch.cuda.is_available()
        dist.init_process_group(backend="nccl" if use_nccl else "gloo")
    return is_distributed()


def gather_with_grad(z: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All-gather ``[n, E]`` embeddings from every process, keeping the gradient.

    Returns ``(all_z [world*n, E], offset)`` where ``offset`` is this process's first row.
    Outside a process group returns ``(z, 0)``.
    """
    if not is_distributed():
        return z, 0
    from torch.distributed.nn.functional import all_gather

    parts = all_gather(z.contiguous())
    return torch.cat(parts, dim=0), rank() * z.shape[0]


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm over the global batch of all processes (CPU replacement of SyncBatchNorm).

    Outside a process group, or in eval mode, it is an ordinary BatchNorm.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input, got {input.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and is_distributed()):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        dims = [0, *range(2, x.dim())]
        count = torch.tensor(float(x.numel() // x.shape[1]), device=x.device)
        stats = torch.cat([x.sum(dim=dims), (x * x).sum(dim=dims), count[None]])
        stats = all_reduce(stats)
        n = stats[-1]
        c = x.shape[1]
        mean = stats[:c] / n
        var = stats[c : 2 * c] / n - mean * mean
        running_mean, running_var = self.running_mean, self.running_var
        batches = self.num_batches_tracked
        if self.track_running_stats and running_mean is not None:
            with torch.no_grad():
                m = self.momentum if self.momentum is not None else 0.1
                assert running_var is not None and batches is not None  # tracked together
                running_mean.mul_(1 - m).add_(m * mean.detach())
                running_var.mul_(1 - m).add_(m * var.detach() * n / (n - 1))
                batches.add_(1)
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + self.eps)
        if self.affine:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y


def convert_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """Swap every BatchNorm for its global-batch version (SyncBatchNorm on CUDA)."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return _swap_bn(module)


def _swap_bn(module: nn.Module) -> nn.Module:
    out = module
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
        module, GlobalBatchNorm
    ):
        out = GlobalBatchNorm(
            module.num_features,
            module.eps,
            module.momentum,
            module.affine,
            module.track_running_stats,
        )
        # Share the very same parameter and buffer objects (optimisers keep working).
        for name, param in module.named_parameters(recurse=False):
            setattr(out, name, param)
        for name, buf in module.named_buffers(recurse=False):
            out.register_buffer(name, buf)
        out.train(module.training)
    for name, child in module.named_children():
        out.add_module(name, _swap_bn(child))
    return out


def wrap_ddp(module: nn.Module, device: torch.device) -> tuple[nn.Module, Callable[[], None]]:
    """Prepare ``module`` for data-parallel training; return ``(model, after_backward)``.

    Outside a process group: ``(module, no-op)``. On CUDA: SyncBatchNorm +
    ``DistributedDataParallel`` (NCCL). On the CPU (gloo): `GlobalBatchNorm`, parameters
    broadcast from rank 0, and ``after_backward()`` averages all gradients with one flat
    all-reduce after the backward pass. (DDP's bucketed asynchronous all-reduces, launched
    while the backward pass still runs the differentiable collectives of the global
    BatchNorm and of the embedding all-gather, were seen to pair up collectives in different
    orders on different gloo ranks and silently give wrong gradients; one all-reduce after
    the backward pass keeps every collective in the same order on every rank.)
    """
    if not is_distributed():
        return module, _no_op
    module = convert_batchnorm(module, device)
    if device.type == "cuda":
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(module, device_ids=[device.index]), _no_op
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)
    params = list(module.parameters())

    def after_backward() -> None:
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= world_size()
        offset = 0
        for p, g in zip(params, grads, strict=True):
            n = g.numel()
            if p.grad is not None:  # None stays None (the same on every rank: same graph)
                p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n

    return module, after_backward


def _no_op() -> None:
    return None


def shard(batch_index: torch.Tensor) -> torch.Tensor:
    """This process's contiguous share of a global batch (sizes equal across processes)."""
    w = world_size()
    if w == 1:
        return batch_index
    n = (batch_index.numel() // w) * w
    return batch_index[:n].reshape(w, -1)[rank()]
