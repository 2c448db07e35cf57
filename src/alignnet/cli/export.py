"""`alignnet export`: write the decode or simulate path of a checkpoint as TorchScript or ONNX.

A thin layer over `alignnet.realtime.export` (torch is imported only when the command runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from alignnet.cli.options import (
    SEED,
    choice_option,
    output_option,
    overwrite_option,
    refuse_existing,
    value_option,
)
from alignnet.names import (
    EXPORT_FORMATS,
    ONNX_EXPORTERS,
    TASK_NAMES,
    ExportFormat,
    OnnxExporter,
    Task,
)
from alignnet.utils.limits import MAX_DAYS


@click.command("export")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@choice_option(
    "--format",
    "fmt",
    choices=EXPORT_FORMATS,
    required=True,
    help="onnx (run with onnxruntime) or torchscript (torch.jit.load).",
)
@choice_option(
    "--task",
    choices=TASK_NAMES,
    default="decode",
    help="decode: counts [B, C, L] -> behaviour [B, D, L]; simulate: behaviour -> rates.",
)
@output_option("out", folder=False, help="Output file (.onnx / .pt).")
@value_option(
    "--day",
    type=click.IntRange(0, MAX_DAYS - 1),
    default=None,
    help="Recording day whose spike statistics (and read-in) the decode graph folds in.",
)
@value_option(
    "--calibration",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A .npy of [T, C] binned counts of a new day (no behaviour needed): the decode "
    "graph normalises with their per-channel mean/std instead of a stored day's.",
)
@choice_option(
    "--onnx-exporter",
    choices=ONNX_EXPORTERS,
    default="auto",
    help="dynamo (torch.export, needs onnxscript), the older torchscript tracer, or auto.",
)
@overwrite_option("force", help="Replace --out if it exists.")
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Run the exported file on a random batch and print its largest difference from PyTorch.",
)
@value_option("--seed", type=SEED, default=0, help="Seed of the check's input.")
def export(
    checkpoint: Path,
    fmt: ExportFormat,
    task: Task,
    out: Path,
    day: int | None,
    calibration: Path | None,
    onnx_exporter: OnnxExporter,
    force: bool,
    check: bool,
    seed: int,
) -> None:
    """Export CHECKPOINT's decode or simulate path for deployment.

    Normalisation is folded into the graph: decode takes raw counts per 20 ms bin and returns
    behaviour in training units; simulate takes behaviour and returns expected counts per bin.
    The batch axis is dynamic; channels, behaviour dimensions and bins are the model's.
    """
    import numpy as np

    from alignnet.errors import FileFormatError
    from alignnet.realtime.export import check_export, export_model
    from alignnet.realtime.stats import spike_statistics

    refuse_existing(out, force, inputs=(checkpoint, calibration))
    spike_mean = spike_std = None
    if calibration is not None:
        try:
            counts = np.load(calibration, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise FileFormatError(f"not a readable .npy array ({exc})", source=calibration) from exc
        spike_mean, spike_std = spike_statistics(counts)
    stats: dict[str, Any] = {"day": day, "spike_mean": spike_mean, "spike_std": spike_std}
    click.echo(f"exporting {task} path of {checkpoint} to {fmt} ...", err=True)
    path = export_model(
        checkpoint,
        format=fmt,
        path=out,
        task=task,
        onnx_exporter=onnx_exporter,
        overwrite=force,
        **stats,
    )
    click.echo(f"wrote {path}")
    if check:
        try:
            diff = check_export(
                checkpoint,
                path,
                format=fmt,
                task=task,
                seed=seed,
                **(stats if task == "decode" else {}),
            )
        except ImportError as exc:
            click.echo(f"check skipped ({exc})", err=True)
            return
        click.echo(f"max |exported - pytorch| on a random batch: {diff:.3g}")
