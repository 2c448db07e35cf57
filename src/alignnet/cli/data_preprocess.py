"""`alignnet data preprocess`: session file(s) -> one windows file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from alignnet.cli.options import (
    SEED,
    BehaviorReading,
    FiniteFloat,
    channels_option,
    choice_option,
    hidden_alias,
    output_option,
    overwrite_option,
    refuse_existing,
    value_option,
)
from alignnet.names import ChannelPolicy
from alignnet.utils.limits import MAX_WINDOW_BINS

if TYPE_CHECKING:
    from alignnet.data.io.mat import Target
    from alignnet.data.preprocess.behavior import ResampleMethod
    from alignnet.data.preprocess.windowing import Placement


@click.command("preprocess")
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@output_option("out_path", folder=False, help="Windows file to write (.npz).")
@value_option("--bin-ms", type=FiniteFloat(positive=True), default=20.0, help="Bin width, ms.")
@value_option(
    "--window-bins",
    type=click.IntRange(1, MAX_WINDOW_BINS),
    default=100,
    help="Window length, bins.",
)
@choice_option(
    "--placement",
    choices=["trial", "sliding"],
    default="trial",
    help="One window per trial start, or sliding windows inside each trial.",
)
@hidden_alias("--align", "old_placement", of="--placement", choices=["trial", "sliding"])
@value_option(
    "--stride-bins",
    type=click.IntRange(1, MAX_WINDOW_BINS),
    default=None,
    help="Step between sliding windows, bins [default: the window length].",
)
@value_option(
    "--trial-offset-ms",
    type=FiniteFloat(),
    default=0.0,
    help="Window start relative to the trial start, ms (--placement trial).",
)
@value_option(
    "--smooth-sigma-bins",
    type=FiniteFloat(minimum=0.0, maximum=MAX_WINDOW_BINS),
    default=1.0,
    help="Gaussian sigma for behaviour smoothing, bins (0: none).",
)
@value_option(
    "--smooth-truncate",
    type=FiniteFloat(positive=True, maximum=100.0),
    default=4.0,
    help="Gaussian kernel half-width, in sigmas.",
)
@choice_option(
    "--behavior-method",
    choices=["interp", "mean"],
    default="interp",
    help="Behaviour to bins: linear interpolation at bin centres (paper eq. 1) or bin mean.",
)
@click.option(
    "--behavior-fields",
    default=None,
    help="Comma-separated behaviour dimensions to keep, e.g. 'x,y' [default: all].",
)
@click.option("--successful-only", is_flag=True, help="Keep only successful trials.")
@choice_option(
    "--target",
    choices=["vel", "pos"],
    default="vel",
    help="Behaviour of the .mat recordings: velocity or position.",
)
@value_option(
    "--seed",
    type=SEED,
    default=0,
    help="Recorded in the file; preprocessing itself draws no random numbers.",
)
@overwrite_option(help="Replace OUT if it exists.")
@channels_option
def preprocess(
    input_path: Path,
    out_path: Path,
    bin_ms: float,
    window_bins: int,
    placement: Placement,
    old_placement: Placement | None,
    stride_bins: int | None,
    trial_offset_ms: float,
    smooth_sigma_bins: float,
    smooth_truncate: float,
    behavior_method: ResampleMethod,
    behavior_fields: str | None,
    successful_only: bool,
    target: Target,
    seed: int,
    overwrite: bool,
    channels: ChannelPolicy,
    reading: BehaviorReading,
) -> None:
    """Bin, smooth and window INPUT (a session file, a folder of them, or a dataset folder).

    Spikes become counts per bin, behaviour is resampled to the bin centres and Gaussian
    smoothed, and each session is cut into windows (spikes [C, L], behaviour [D, L]).
    Count-only recordings (the 50 ms .mat files) need --bin-ms 50 (or a multiple of 50).
    """
    from alignnet.data.io import load_sessions, save_windows
    from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows

    if out_path.suffix != ".npz":  # refused before the work, not after it
        raise click.BadParameter(
            f"{out_path}: windows files end in .npz (e.g. {out_path.with_suffix('.npz').name})",
            param_hint="--out",
        )
    refuse_existing(out_path, overwrite, inputs=(input_path,))
    try:
        config = PreprocessConfig(
            bin_s=bin_ms / 1000.0,
            window_bins=window_bins,
            placement=old_placement or placement,
            stride_bins=stride_bins,
            trial_offset_s=trial_offset_ms / 1000.0,
            smooth_sigma_bins=smooth_sigma_bins,
            smooth_truncate=smooth_truncate,
            behavior_method=behavior_method,
            behavior_fields=tuple(f.strip() for f in behavior_fields.split(","))
            if behavior_fields
            else None,
            successful_only=successful_only,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc

    sessions = load_sessions(input_path, target=target, channels=channels, **reading.keywords())
    windows = sessions_to_windows(sessions, config, progress=True)
    windows.info["seed"] = seed
    windows.info["input"] = str(input_path)
    save_windows(windows, out_path, overwrite=overwrite)

    click.echo(
        f"wrote {out_path}: {len(windows)} windows, C={windows.n_channels}, "
        f"D={windows.n_behavior_dims}, L={windows.window_len} bins of {bin_ms:g} ms"
    )
    for info in windows.info["sessions"]:
        dropped = {k: v for k, v in info.items() if k.startswith("dropped") and v}
        note = f" (dropped: {dropped})" if dropped else ""
        click.echo(
            f"  day {info['day']:>3} {info['session_id']}: {info['n_windows']} windows{note}"
        )
