"""`alignnet data synth` (make a synthetic multi-day dataset) and `alignnet data inspect`.

Heavy imports (numpy, the generator, loaders) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from alignnet.cli.options import (
    SEED,
    BehaviorReading,
    channels_option,
    choice_option,
    output_option,
    overwrite_option,
    parse_days,
    refuse_existing,
    value_option,
)
from alignnet.names import ChannelPolicy


@click.command("synth")
@choice_option(
    "--preset",
    choices=["demo", "paper", "tiny", "nwb-turnover", "nwb-gain", "nwb-tiny"],
    default="demo",
    help="Size of the dataset: demo (6 days x 150 trials), paper (22 days x 1458 trials), "
    "tiny (3 days x 24 trials, for tests); nwb-turnover / nwb-gain (96-electrode Utah array, "
    "calendar days 0-30, sorted units with turnover + dead electrodes / slow gain drift), "
    "nwb-tiny (for tests); write these with --format nwb.",
)
@value_option("--seed", type=SEED, default=0, help="Random seed.")
@output_option("out_dir", folder=True, help="Output folder (one dayNN.npz per day + dataset.json).")
@click.option("--days", default=None, help="Only these days, e.g. '0-3' or '0,2,5'.")
@click.option("--no-voltage", is_flag=True, help="Do not synthesise raw 30 kHz voltage.")
@choice_option(
    "--format",
    "fmt",
    choices=["native", "nwb"],
    default="native",
    help="native: dayNN.npz + dataset.json (with ground truth); nwb: one DANDI-style dayNN.nwb "
    "per day (NN = calendar day) with sorted units linked to electrodes, no AlignNet metadata.",
)
@overwrite_option("force", help="Write into a non-empty folder, replacing files.")
def synth(
    preset: str,
    seed: int,
    out_dir: Path,
    days: str | None,
    no_voltage: bool,
    fmt: str,
    force: bool,
) -> None:
    """Generate a synthetic multi-day recording (spikes, joystick, trials, ground truth).

    A given day is identical whether it is generated alone or with the others.
    """
    import dataclasses

    from tqdm.auto import tqdm

    from alignnet.data.io.native_dataset import save_dataset
    from alignnet.data.synthetic import SyntheticConfig, iter_sessions, make_config

    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise click.ClickException(
            f"{out_dir} is not empty; choose another --out or pass --overwrite to replace files"
        )
    refuse_existing(out_dir, force, option="--out", folder=True)
    config = make_config(preset)
    if no_voltage and isinstance(config, SyntheticConfig):  # reach data has no voltage
        config = dataclasses.replace(
            config, voltage=dataclasses.replace(config.voltage, enabled=False)
        )
    chosen = parse_days(days)
    recorded = list(getattr(config, "day_indices", range(config.n_days)))  # calendar days
    if chosen is not None and any(d not in recorded for d in chosen):
        where = f"0..{config.n_days - 1}" if recorded == list(range(config.n_days)) else recorded
        raise click.BadParameter(f"preset {preset!r} has days {where}", param_hint="--days")
    n_days = config.n_days if chosen is None else len(chosen)
    sessions = tqdm(
        iter_sessions(config, seed=seed, days=chosen),
        total=n_days,
        desc=f"synth {preset}",
        unit="day",
    )
    if fmt == "nwb":
        _write_nwb_days(sessions, out_dir, preset=preset, seed=seed, overwrite=force)
        click.echo(f"wrote {n_days} day(s) to {out_dir} (dayNN.nwb, NN = calendar day)")
        return
    manifest = save_dataset(
        sessions,
        out_dir,
        config={"preset": preset, "seed": seed, "days": chosen, "config": config.to_dict()},
        overwrite=force,
    )
    click.echo(f"wrote {n_days} day(s) to {out_dir} ({manifest.name})")


def _write_nwb_days(
    sessions: Any, out_dir: Path, *, preset: str, seed: int, overwrite: bool
) -> None:
    """Write each session as ``out_dir/dayNN.nwb`` (atomically), a sorted-units NWB file, and
    its true rates beside it (``dayNN.true_rates``, `alignnet.data.io.truth_sidecar`)."""
    from alignnet.data.io.nwb_sorted import write_synthetic_day_nwb
    from alignnet.data.io.staged import commit_folder, staging_folder
    from alignnet.data.io.truth_sidecar import write_truth_sidecar

    with staging_folder(out_dir) as staging:  # the folder appears complete, or not at all
        for session in sessions:
            path = staging / f"day{session.meta.day:02d}.nwb"
            write_synthetic_day_nwb(
                session,
                path,
                notes=f"{NWB_NOTES} --preset {preset} --seed {seed} --format nwb",
                overwrite=overwrite,
            )
            write_truth_sidecar(session, path, overwrite=overwrite)  # the ceiling, beside it
        commit_folder(staging, out_dir, overwrite=overwrite, stale=_synth_nwb_days(out_dir))


#: How `data synth --format nwb` marks its files (their NWB ``notes`` start with it).
NWB_NOTES = "alignnet data synth"


def _synth_nwb_days(out_dir: Path) -> list[str]:
    """``dayNN.nwb`` files in ``out_dir`` written by `data synth` (their notes say so): the
    previous run's days, replaced as a whole by ``--overwrite``; other NWB files are kept."""
    import h5py

    days = []
    for path in sorted(out_dir.glob("day*.nwb")) if out_dir.is_dir() else []:
        try:
            with h5py.File(path, "r") as handle:
                notes = handle["general/notes"][()]
        except (OSError, KeyError, ValueError):
            continue
        notes = notes.decode() if isinstance(notes, bytes) else str(notes)
        if notes.startswith(NWB_NOTES):
            days.append(path.name)
    return days


def _load_any(path: Path, channels: ChannelPolicy, reading: BehaviorReading) -> Any:
    """Sessions of ``path``: native dataset folders stream one day at a time; anything else
    goes through `alignnet.data.io.load_sessions` with the command's reading options."""
    from alignnet.data.io import load_sessions
    from alignnet.data.io.native_dataset import MANIFEST_NAME, iter_dataset

    if path.is_dir() and (path / MANIFEST_NAME).is_file():
        return iter_dataset(path)
    return load_sessions(path, channels=channels, **reading.keywords())


def describe_session(session: Any) -> list[str]:
    """Human-readable lines summarising one `Session`."""
    import numpy as np

    rates = session.firing_rates()
    silent = int(np.sum(rates < 0.1))
    trials = session.trials
    lines = [
        f"day {session.meta.day} ({session.meta.session_id}, {session.meta.date or 'no date'})",
        f"  trials: {len(trials)} ({int(trials.success.sum())} successful), "
        f"channels: {session.n_channels}, duration: {session.duration:.1f} s",
        f"  firing rate (Hz): min {rates.min():.2f}, median {np.median(rates):.2f}, "
        f"max {rates.max():.2f}; silent channels (< 0.1 Hz): {silent}",
    ]
    unit = session.meta.behavior_unit
    for d, name in enumerate(session.meta.behavior_names):
        col = session.behavior[:, d]
        lines.append(
            f"  behaviour {name}: {np.nanmin(col):.3f} .. {np.nanmax(col):.3f} {unit} "
            f"at {session.behavior_rate_hz:.0f} Hz"
        )
    if not session.has_behavior:
        lines.append(f"  behaviour: none (unlabelled day; extent from {extra_of(session)})")
    elif session.meta.extra.get("behavior_series"):
        gaps = session.meta.extra.get("behavior_gaps")
        lines.append(
            f"  behaviour series: {session.meta.extra['behavior_series']}"
            + (f"; dropouts {gaps}" if gaps else "")
        )
    if session.meta.channel_policy in ("electrode", "unit"):
        why = session.meta.extra.get("channel_policy_reason", "")
        lines.append(f"  channels: {session.meta.channel_policy} ({why})")
    if session.voltage is None:
        lines.append("  voltage: none")
    else:
        v = session.voltage
        lines.append(
            f"  voltage: {v.data.shape[1]} channels x {v.data.shape[0] / v.rate_hz:.2f} s "
            f"at {v.rate_hz:.0f} Hz"
        )
    return lines


def extra_of(session: Any) -> str:
    """Where an unlabelled day's extent came from (``meta.extra["extent_from"]``)."""
    return str(session.meta.extra.get("extent_from", "the file"))


def _windows_or_none(path: Path) -> Any:
    """The `Windows` of ``path`` if it is a windows file, else None (a session file or
    folder); a damaged windows file raises its own error."""
    import json
    import zipfile

    import numpy as np

    from alignnet.data.io.windows_file import FORMAT, load_windows

    if not (path.is_file() and zipfile.is_zipfile(path)):
        return None
    try:
        with zipfile.ZipFile(path) as archive, archive.open("header.npy") as member:
            header = json.loads(str(np.lib.format.read_array(member, allow_pickle=False)))
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return None
    return load_windows(path)


def describe_windows(windows: Any) -> list[str]:
    """Human-readable lines summarising a windows file's `Windows`."""
    import numpy as np

    days = windows.days.tolist()
    counts = [int(np.sum(windows.day == d)) for d in days]
    return [
        f"windows file: {len(windows)} windows of {windows.n_channels} channels x "
        f"{windows.window_len} bins of {windows.bin_s * 1000:g} ms, "
        f"behaviour {', '.join(windows.behavior_names) or '-'} ({windows.n_behavior_dims}-d)",
        f"  days {days} (windows per day: {counts})",
        f"  spike counts per bin: mean {float(windows.spikes.mean()):.3f}, "
        f"max {float(windows.spikes.max()) if windows.spikes.size else 0.0:g}",
    ]


@click.command("inspect")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@channels_option
def inspect(path: Path, channels: ChannelPolicy, reading: BehaviorReading) -> None:
    """Summarise a session file or dataset folder: days, trials, channels, duration,
    firing rates, behaviour ranges and whether raw voltage is present. A windows file
    (`alignnet data preprocess` output) is summarised as such. For NWB units it says which
    channel policy ``--channels`` gave (``auto``: decided from the file) and why."""
    windows = _windows_or_none(path)
    if windows is not None:
        for line in describe_windows(windows):
            click.echo(line)
        return
    n = 0
    for session in _load_any(path, channels, reading):
        for line in describe_session(session):
            click.echo(line)
        n += 1
    click.echo(f"{n} day(s) in {path}")
