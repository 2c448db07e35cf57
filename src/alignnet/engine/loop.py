"""The one training loop of AlignNet: pretraining, fine-tuning and the neural baselines.

Generic: a module, a loss function of a batch, and the data as a dict of tensors with a
common first axis (windows). Everything random comes from ``config.seed``.

- AdamW, linear warm-up then cosine decay (per step), gradient-norm clipping;
- the data live on the device as contiguous tensors; each epoch draws one seeded permutation
  and slices batches out of it (no DataLoader, no per-window Python work); a last batch
  smaller than half a batch is dropped (InfoNCE and BatchNorm need real batches);
- early stopping on the validation loss (the training loss when there is no validation set)
  with patience, and the best weights restored at the end;
- bf16 autocast (``amp``), ``torch.compile`` (``compile``), DDP when a process group exists;
- a checkpoint after every epoch (atomic) holding the weights, the optimiser, the scheduler,
  the RNG states, the best weights and the early-stopping counter: ``resume=True`` continues
  an interrupted run to the same final weights and losses as an uninterrupted run;
- a NaN/inf loss raises `TrainingError` (epoch, step, loss term) and leaves the last good
  checkpoint in place.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from alignnet.config import TrainConfig
from alignnet.engine import distributed
from alignnet.engine.checkpoint import load_checkpoint, save_checkpoint
from alignnet.engine.device import resolve_device
from alignnet.errors import CheckpointError, DataError, TrainingError
from alignnet.utils.atomic import write_text_atomic

Batch = dict[str, torch.Tensor]
LossFn = Callable[[nn.Module, Batch], tuple[torch.Tensor, dict[str, torch.Tensor]]]
"""``loss_fn(module, batch) -> (loss, terms)``: scalar loss and named scalar terms to log."""


@dataclass
class TrainHistory:
    """Per-epoch log of one run.

    Attributes:
        rows: one dict per epoch: ``epoch``, ``train_loss``, ``val_loss`` (NaN without
            validation), ``train_<term>``/``val_<term>`` for each loss term, ``lr``,
            ``seconds``, ``windows_per_s``.
        best_epoch: epoch whose weights were restored (1-based).
        best_score: its validation loss (training loss without validation).
        stopped_early: True when patience ran out before ``epochs``.
    """

    rows: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = math.inf
    stopped_early: bool = False

    @property
    def train_loss(self) -> list[float]:
        return [r["train_loss"] for r in self.rows]

    @property
    def val_loss(self) -> list[float]:
        return [r["val_loss"] for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [dict(r) for r in self.rows],
            "best_epoch": self.best_epoch,
            "best_score": self.best_score,
            "stopped_early": self.stopped_early,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainHistory:
        return cls(
            rows=[dict(r) for r in d["rows"]],
            best_epoch=int(d["best_epoch"]),
            best_score=float(d["best_score"]),
            stopped_early=bool(d["stopped_early"]),
        )


#: Longest linear warm-up in optimiser steps: a huge planned run (``--epochs 100000``) is not
#: spent warming up (its learning rate would stay near 0 until early stopping ends it).
MAX_WARMUP_STEPS = 2000


def warmup_steps(fraction: float, total_steps: int) -> int:
    """Warm-up steps: ``fraction`` of all planned steps, at most `MAX_WARMUP_STEPS`."""
    return min(int(round(fraction * total_steps)), MAX_WARMUP_STEPS)


def lr_factor(step: int, *, total_steps: int, warmup_steps: int, min_ratio: float) -> float:
    """Linear warm-up to 1, then cosine decay to ``min_ratio`` at ``total_steps``."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def _n_windows(data: Batch, name: str) -> int:
    sizes = {k: v.shape[0] for k, v in data.items()}
    if not sizes:
        raise DataError("no tensors given", source=name)
    if len(set(sizes.values())) != 1:
        raise DataError(f"tensors disagree on the number of windows: {sizes}", source=name)
    n = next(iter(sizes.values()))
    if n == 0:
        raise DataError("empty training set (0 windows)", source=name)
    return n


def _batches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    perm = torch.randperm(n, generator=generator)
    size = min(batch_size, n)
    out = list(perm.split(size))
    if len(out) > 1 and out[-1].numel() < max(2, size // 2):
        out.pop()
    return out


def _rng_state(generator: torch.Generator) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state(), "perm": generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def _set_rng_state(state: dict[str, torch.Tensor], generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    generator.set_state(state["perm"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def _clone_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _write_csv(path: Path, rows: list[dict[str, float]]) -> None:
    if not rows:
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def _check_finite(
    loss: torch.Tensor, terms: dict[str, torch.Tensor], *, epoch: int, step: int, ckpt: Any
) -> None:
    if torch.isfinite(loss).item():
        return
    bad = [k for k, v in terms.items() if not torch.isfinite(v).all().item()]
    where = f"loss term(s) {bad}" if bad else "the total loss"
    kept = f"; the last good checkpoint {ckpt} is kept" if ckpt else ""
    raise TrainingError(
        f"non-finite loss at epoch {epoch}, step {step}: {where} is NaN/inf "
        f"(try a lower learning rate, or check the inputs for extreme values){kept}"
    )


def fit(
    module: nn.Module,
    loss_fn: LossFn,
    train: Batch,
    *,
    config: TrainConfig,
    val: Batch | None = None,
    parameters: Iterable[nn.Parameter] | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_extra: Callable[[], dict[str, Any]] | None = None,
    resume: bool = False,
    log_csv: str | Path | None = None,
    progress: bool = True,
    desc: str = "train",
) -> TrainHistory:
    """Train ``module`` in place; return the per-epoch history (best weights restored).

    Args:
        module: the network; moved to the training device.
        loss_fn: ``loss_fn(module, batch) -> (loss, terms)``; ``batch`` holds the same keys as
            ``train``, each sliced to ``[b, ...]``. Under DDP ``module`` is the DDP wrapper.
        train: tensors ``[N, ...]`` sharing the window axis (e.g. ``spikes [N, C, L]``,
            ``behavior [N, D, L]``, ``day [N]``); copied once to the device.
        config: epochs (raised to cover ``min_steps`` optimiser steps), batch size, optimiser,
            schedule, early stopping, amp, device, seed.
        val: validation tensors (same keys), for early stopping and best-weight selection.
        parameters: parameters to optimise (default: all with ``requires_grad``).
        checkpoint: file written atomically after every epoch (rank 0 only).
        checkpoint_extra: returns extra payload stored in every checkpoint (config, stats).
        resume: continue from ``checkpoint`` if it holds an unfinished run of this loop.
        log_csv: per-epoch CSV log (rewritten atomically every epoch).
        progress: show a tqdm progress bar.
        desc: label of the progress bar.
    """
    from tqdm.auto import tqdm

    device = resolve_device(config.device)
    n = _n_windows(train, "training data")
    module.to(device)
    train = {k: v.to(device).contiguous() for k, v in train.items()}
    if val is not None:
        _n_windows(val, "validation data")
        val = {k: v.to(device).contiguous() for k, v in val.items()}
    params = [p for p in (parameters or module.parameters()) if p.requires_grad]
    if not params:
        raise TrainingError("no trainable parameters (everything is frozen)")

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = len(_batches(n, config.batch_size, torch.Generator().manual_seed(0)))
    epochs = max(config.epochs, math.ceil(config.min_steps / steps_per_epoch))
    total_steps = steps_per_epoch * epochs
    warmup = warmup_steps(config.warmup_fraction, total_steps)
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: lr_factor(
            s, total_steps=total_steps, warmup_steps=warmup, min_ratio=config.min_lr_ratio
        ),
    )
    history = TrainHistory()
    best_state = _clone_state(module)
    bad_epochs, start_epoch, finished = 0, 0, False
    ckpt_path = Path(checkpoint) if checkpoint is not None else None

    if resume and ckpt_path is not None and ckpt_path.is_file():
        saved = load_checkpoint(ckpt_path, map_location=device)
        state = saved.get("train_state")
        if state is None:
            raise CheckpointError(f"{ckpt_path}: holds no training state to resume from")
        module.load_state_dict(saved["model_state"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"], generator)
        history = TrainHistory.from_dict(state["history"])
        best_state = state["best_state"]
        bad_epochs, start_epoch = int(state["bad_epochs"]), int(state["epoch"])
        finished = bool(state["finished"])

    is_main = distributed.rank() == 0
    model, after_backward = distributed.wrap_ddp(module, device)
    if config.compile:
        model = cast(nn.Module, torch.compile(model))
    autocast = (
        torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        if config.amp
        else contextlib.nullcontext()
    )

    def save(epoch: int, done: bool) -> None:
        if ckpt_path is None or not is_main:
            return
        payload = dict(checkpoint_extra() if checkpoint_extra else {})
        payload["model_state"] = module.state_dict()
        payload["train_state"] = {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": _rng_state(generator),
            "history": history.to_dict(),
            "best_state": best_state,
            "bad_epochs": bad_epochs,
            "epoch": epoch,
            "finished": done,
            "config": dict(vars(config)),
        }
        save_checkpoint(ckpt_path, payload)

    bar = tqdm(
        total=total_steps,
        initial=start_epoch * steps_per_epoch,
        desc=desc,
        disable=not (progress and is_main),
        unit="step",
        leave=False,
    )
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            if finished:
                break
            t0 = time.perf_counter()
            module.train()
            sums: dict[str, float] = {}
            seen = 0
            for step, index in enumerate(_batches(n, config.batch_size, generator), 1):
                local = distributed.shard(index.to(device))
                batch = {k: v[local] for k, v in train.items()}
                with autocast:
                    loss, terms = loss_fn(model, batch)
                _check_finite(loss, terms, epoch=epoch, step=step, ckpt=ckpt_path)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                after_backward()
                if config.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
                optimizer.step()
                scheduler.step()
                b = int(local.numel())
                seen += b
                sums["loss"] = sums.get("loss", 0.0) + loss.item() * b
                for k, v in terms.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach()) * b
                bar.update(1)
            seconds = time.perf_counter() - t0
            row: dict[str, float] = {"epoch": epoch, "train_loss": sums.pop("loss") / seen}
            row.update({f"train_{k}": v / seen for k, v in sums.items()})
            val_terms = evaluate(model, loss_fn, val, config=config) if val is not None else {}
            row["val_loss"] = val_terms.pop("loss", math.nan)
            row.update({f"val_{k}": v for k, v in val_terms.items()})
            row["lr"] = optimizer.param_groups[0]["lr"]
            row["seconds"] = seconds
            row["windows_per_s"] = seen * distributed.world_size() / max(seconds, 1e-9)
            history.rows.append(row)
            score = row["val_loss"] if val is not None else row["train_loss"]
            if not math.isfinite(score):
                raise TrainingError(
                    f"non-finite validation loss at epoch {epoch}; the last good checkpoint "
                    f"{ckpt_path} is kept"
                )
            if score < history.best_score - config.min_delta:
                history.best_score, history.best_epoch = score, epoch
                best_state = _clone_state(module)
                bad_epochs = 0
            else:
                bad_epochs += 1
            stop = config.patience > 0 and bad_epochs >= config.patience
            history.stopped_early = stop and epoch < epochs
            bar.set_postfix(epoch=epoch, loss=f"{row['train_loss']:.4f}", val=f"{score:.4f}")
            done = stop or epoch == epochs
            if done:
                module.load_state_dict(best_state)
            save(epoch, done)
            if log_csv is not None and is_main:
                _write_csv(Path(log_csv), history.rows)
            if done:
                break
    finally:
        bar.close()
    if finished:
        module.load_state_dict(best_state)
    return history


@torch.no_grad()
def evaluate(
    model: nn.Module, loss_fn: LossFn, data: Batch, *, config: TrainConfig
) -> dict[str, float]:
    """Mean loss and terms over ``data`` in eval mode (batches of ``config.batch_size``)."""
    was_training = model.training
    model.eval()
    n = _n_windows(data, "validation data")
    sums: dict[str, float] = {}
    autocast = (
        torch.autocast(device_type=next(iter(data.values())).device.type, dtype=torch.bfloat16)
        if config.amp
        else contextlib.nullcontext()
    )
    for start in range(0, n, config.batch_size):
        batch = {k: v[start : start + config.batch_size] for k, v in data.items()}
        b = next(iter(batch.values())).shape[0]
        with autocast:
            loss, terms = loss_fn(model, batch)
        sums["loss"] = sums.get("loss", 0.0) + loss.item() * b
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + float(v) * b
    model.train(was_training)
    return {k: v / n for k, v in sums.items()}
