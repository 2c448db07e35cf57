"""`alignnet falcon-eval`: score a causal AlignNet checkpoint with FALCON's own evaluator."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from alignnet.cli.options import choice_option, value_option
from alignnet.names import FALCON_TASKS


@click.command("falcon-eval")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--data",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Folder holding the task's data folder: m1/ (or the DANDI set 000941/), m2/ "
    "(000953/), h1/ (000954/), as FALCON's evaluator expects (its EVAL_DATA_PATH).",
)
@choice_option("--task", choices=FALCON_TASKS, required=True)
@choice_option(
    "--phase",
    choices=["minival", "test"],
    default="minival",
    help="FALCON phase: minival (held-in sessions' minival files) or test (local copies of "
    "the eval files).",
)
@click.option(
    "--calibration",
    type=click.Path(exists=True),
    multiple=True,
    help="Calibration NWB files or folders (searched for *calib*.nwb); each session is "
    "normalised with its calibration counts' statistics. Default: every *calib*.nwb under "
    "--data.",
)
@value_option(
    "--day",
    type=int,
    default=None,
    help="Checkpoint day whose statistics a session without calibration uses.",
)
@value_option("--batch-size", type=int, default=1)
@value_option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for FALCON's prediction / ground-truth pickles (default: a temporary one).",
)
def falcon_eval(checkpoint, data, task, phase, calibration, day, batch_size, out) -> None:
    """Run FALCON's evaluator locally on CHECKPOINT (a causal AlignNet fine-tuned for the
    task's outputs), streaming every evaluation file bin by bin."""
    try:
        from falcon_challenge.config import FalconConfig
        from falcon_challenge.evaluator import FalconEvaluator

        from alignnet.realtime.falcon import (
            AlignNetFalconDecoder,
            calibration_statistics,
            falcon_task,
        )
    except ImportError as exc:
        raise click.ClickException(
            f"{exc}. Install the FALCON extra: pip install 'alignnet[falcon]'"
        ) from exc

    falcon = falcon_task(task)
    files: list[Path] = []
    for item in calibration or (data,):
        item = Path(item)
        files.extend(sorted(item.rglob("*calib*.nwb")) if item.is_dir() else [item])
    stats = calibration_statistics(files, falcon) if files else {}
    click.echo(f"calibration: {len(files)} file(s), {len(stats)} session(s): {sorted(stats)}")
    decoder = AlignNetFalconDecoder(
        FalconConfig(task=falcon), checkpoint, calibration=stats, day=day, batch_size=batch_size
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        env = {
            "EVAL_DATA_PATH": str(Path(data).resolve()),
            "PREDICTION_PATH_LOCAL": str(folder / "prediction.pkl"),
            "GT_PATH": str(folder / "ground_truth.pkl"),
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            evaluator = FalconEvaluator(eval_remote=False, split=task, dataloader_workers=0)
            result = evaluator.evaluate(decoder, phase=phase)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    scores = result["submission_result"] if "submission_result" in result else result
    for split, metrics in scores.items():
        click.echo(f"\n{split}")
        for name, value in metrics.items():
            click.echo(f"  {name:<24} {float(value):.4f}")
