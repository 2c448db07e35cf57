"""`alignnet pretrain` and `alignnet finetune`: thin layers over `alignnet.api.AlignNet`.

torch is imported inside the commands only (``alignnet --help`` stays fast).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from alignnet.cli.options import (
    DEVICE,
    EPOCHS,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    SEED,
    BehaviorReading,
    channels_option,
    choice_option,
    hidden_alias,
    parse_days,
    refuse_existing,
    value_option,
)
from alignnet.config import ARCHS
from alignnet.names import NEURONS, SNN_LAYOUTS, TASK_NAMES, ChannelPolicy

if TYPE_CHECKING:
    from alignnet.data.windows import Windows

DAYS = click.option(
    "--days", default=None, help="Comma-separated day indices to use (default: all days)."
)


def load_data(
    path: str | Path,
    *,
    channels: ChannelPolicy,
    reading: BehaviorReading | None = None,
    days: list[int] | None = None,
) -> Windows:
    """A windows ``.npz`` (`load_windows`) or a session file/dir/NWB (`load_sessions` +
    `sessions_to_windows` at the bin width of `preprocess_config_for`, the rule every command
    shares), optionally restricted to ``days``. ``channels``: the channel policy of NWB units
    (the command's ``--channels``); ``reading``: its behaviour options (default: the
    defaults)."""
    from alignnet.data.io import load_sessions, load_windows
    from alignnet.errors import FileFormatError

    path = Path(path)
    windows = None
    if path.is_file() and path.suffix == ".npz":
        try:
            windows = load_windows(path)
        except FileFormatError:
            windows = None  # a session .npz
    if windows is None:
        from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows

        sessions = load_sessions(
            path, channels=channels, **(reading or BehaviorReading()).keywords()
        )
        windows = sessions_to_windows(sessions, preprocess_config_for(sessions), progress=True)
    if days is not None:
        from alignnet.errors import DataError

        missing = sorted(set(days) - set(windows.days.tolist()))
        if missing:
            raise DataError(
                f"days {missing} not in the data (present: {windows.days.tolist()})",
                field="days",
                source=path,
            )
        windows = windows.select_days(days)
    return windows


def check_resume_bin_width(checkpoint: Path, windows) -> None:  # Windows
    """``--resume``: refuse data of another bin width than the interrupted run's checkpoint."""
    if not checkpoint.is_file():
        return
    from alignnet.data.checks import check_bin_width
    from alignnet.engine.checkpoint import load_checkpoint

    check_bin_width(load_checkpoint(checkpoint).get("bin_s"), windows.bin_s, source=checkpoint)


def _log_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--log FILE`` (per-epoch CSV) and ``--overwrite`` of the training commands."""
    f = click.option("--overwrite", is_flag=True, help="Replace an existing --out and --log.")(f)
    return click.option(
        "--log",
        "log_csv",
        type=click.Path(dir_okay=False),
        default=None,
        help="Per-epoch CSV log (an existing file needs --overwrite).",
    )(f)


@click.command("pretrain")
@click.argument("data", type=click.Path(exists=True))
@channels_option
@click.option("--out", required=True, type=click.Path(), help="Checkpoint file to write.")
@DAYS
@value_option(
    "--epochs",
    type=EPOCHS,
    default=None,
    help="Maximum epochs, 1..100000 (default: config, 30; early stopping may end sooner).",
)
@value_option(
    "--batch-size", type=POSITIVE_INT, default=None, help="Global batch size (default 64)."
)
@value_option("--lr", type=POSITIVE_FLOAT, default=None, help="Peak learning rate (default 2e-3).")
@choice_option(
    "--neuron",
    choices=NEURONS,
    default="lif",
    help="Activation of the spike U-Net.",
)
@choice_option(
    "--snn-layout",
    choices=SNN_LAYOUTS,
    default="temporal",
    help="How the spiking branch sees time (see docs/model.md).",
)
@hidden_alias("--layout", "old_snn_layout", of="--snn-layout", choices=SNN_LAYOUTS)
@click.option(
    "--causal/--acausal",
    default=None,
    help="Causal model (default; output bin t reads bins <= t, streams bin by bin, "
    "accepted by `alignnet stream` and `falcon-eval`) or the paper's acausal window model "
    "(default with --arch paper).",
)
@value_option(
    "--arch",
    type=click.Choice(sorted(ARCHS)),
    default="default",
    help="Recipe: default (this version's, causal) or paper (the paper's acausal window "
    "model and fine-tuning batch 64).",
)
@click.option(
    "--per-day-readin/--no-per-day-readin",
    default=False,
    show_default=True,
    help="A C x C linear read-in per day before the spike encoder.",
)
@value_option("--device", type=DEVICE, default="auto", help="auto, cpu, cuda, mps.")
@click.option("--amp/--no-amp", default=False, help="bf16 autocast (CUDA).")
@value_option("--seed", type=SEED, default=0)
@click.option("--resume", is_flag=True, help="Continue an interrupted run from --out.")
@_log_options
def pretrain(
    data,
    out,
    days,
    epochs,
    batch_size,
    lr,
    neuron,
    snn_layout,
    old_snn_layout,
    causal,
    arch,
    per_day_readin,
    device,
    amp,
    seed,
    resume,
    log_csv,
    overwrite,
    channels,
    reading,
) -> None:
    """Contrastive pretraining on DATA (windows .npz, session file/dir or NWB).

    Multi-process: torchrun --nproc-per-node N -m alignnet pretrain DATA --out CKPT
    """
    from alignnet.api import AlignNet
    from alignnet.engine import distributed
    from alignnet.engine.device import resolve_device

    out = Path(out)
    # a resumed run continues its own checkpoint and log
    refuse_existing(out, overwrite or resume, inputs=(data,))
    refuse_existing(log_csv, overwrite or resume, option="--log", inputs=(data,))
    distributed.init_from_env(resolve_device(device))
    windows = load_data(data, channels=channels, reading=reading, days=parse_days(days))
    if resume:
        check_resume_bin_width(out, windows)
    overrides = {
        "arch": arch,
        "neuron": neuron,
        "snn_layout": old_snn_layout or snn_layout,
        "per_day_readin": per_day_readin,
        "device": device,
        "amp": amp,
        "seed": seed,
    }
    for key, value in (
        ("causal", causal),
        ("pretrain.epochs", epochs),
        ("batch_size", batch_size),
        ("pretrain.lr", lr),
    ):
        if value is not None:
            overrides[key] = value
    model = AlignNet(**overrides)
    hist = model.pretrain(windows, checkpoint=out, resume=resume, log_csv=log_csv, seed=seed)
    if distributed.rank() == 0:
        model.save(out)
        last = hist.rows[-1]
        click.echo(
            f"pretrained on {len(windows)} windows, days {windows.days.tolist()}: "
            f"{len(hist.rows)} epochs, best epoch {hist.best_epoch} "
            f"(loss {hist.best_score:.4f}), {last['windows_per_s']:.0f} windows/s -> {out}"
        )


@click.command("finetune")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.argument("data", type=click.Path(exists=True))
@channels_option
@choice_option("--task", choices=TASK_NAMES, required=True)
@click.option("--out", required=True, type=click.Path(), help="Fine-tuned checkpoint to write.")
@click.option("--train-days", default=None, help="Comma-separated days to fine-tune on.")
@value_option(
    "--n-trials", type=POSITIVE_INT, default=None, help="Use the first N trials of each day."
)
@click.option("--freeze-encoder", is_flag=True, help="Train the decoder side only.")
@click.option(
    "--causal/--acausal",
    default=None,
    help="Check that CHECKPOINT is causal / acausal (the form is fixed at pretraining: "
    "`alignnet pretrain --acausal` for the paper's window model).",
)
@value_option(
    "--epochs",
    type=EPOCHS,
    default=None,
    help="Maximum epochs, 1..100000: never more are run (default: 30, raised to at least "
    "300 optimiser steps on small data).",
)
@value_option("--lr", type=POSITIVE_FLOAT, default=None, help="Learning rate (default 1e-3).")
@value_option(
    "--device", type=DEVICE, default=None, help="auto, cpu, cuda, mps (default: as trained)."
)
@value_option("--seed", type=SEED, default=0)
@_log_options
def finetune(
    checkpoint,
    data,
    task,
    out,
    train_days,
    n_trials,
    freeze_encoder,
    causal,
    epochs,
    lr,
    device,
    seed,
    log_csv,
    overwrite,
    channels,
    reading,
) -> None:
    """Fine-tune a pretrained CHECKPOINT for decode or simulate on DATA."""
    from alignnet.api import AlignNet

    out = Path(out)
    refuse_existing(out, overwrite, inputs=(checkpoint, data))
    refuse_existing(log_csv, overwrite, option="--log", inputs=(checkpoint, data))
    model = AlignNet.load(checkpoint, device=device)
    if causal is not None and causal != model.config.model.causal:
        kind = "causal" if model.config.model.causal else "acausal (window)"
        flag = "--causal" if causal else "--acausal"
        raise click.BadParameter(
            f"{checkpoint} holds a {kind} model; pretrain with `alignnet pretrain {flag}` "
            "to fine-tune that form",
            param_hint="--causal/--acausal",
        )
    if lr is not None:
        model.config = model.config.with_overrides(**{"finetune.lr": lr})
    if epochs is not None:  # a maximum: the step minimum of small data does not raise it
        model.config = model.config.with_overrides(**{"finetune.min_steps": 0})
    windows = load_data(
        data,
        channels=channels,
        reading=reading,
        days=parse_days(train_days, param_hint="--train-days"),
    )
    hist = model.finetune(
        windows,
        task=task,
        n_trials=n_trials,
        freeze_encoder=freeze_encoder,
        epochs=epochs,
        log_csv=log_csv,
        seed=seed,
    )
    model.save(out)
    click.echo(
        f"fine-tuned ({task}) on {len(windows)} windows: {len(hist.rows)} epochs, best epoch "
        f"{hist.best_epoch} (loss {hist.best_score:.4f}) -> {out}"
    )
