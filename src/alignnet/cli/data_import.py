"""`alignnet data import`: raw acquisition file -> spike detection -> session file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from alignnet.cli.options import (
    SEED,
    FiniteFloat,
    choice_option,
    output_option,
    overwrite_option,
    refuse_existing,
    value_option,
)
from alignnet.utils.limits import MAX_CHANNELS, MAX_DAYS

FORMAT_CHOICES = ("openephys", "spikeglx", "blackrock", "intan", "binary")

if TYPE_CHECKING:
    from alignnet.data.io.raw.open import RawFormat
    from alignnet.data.preprocess.detection import Sign


@click.command("import")
@click.argument("raw_path", type=click.Path(exists=True, path_type=Path))
@output_option("out", folder=False, help="Session file to write (.npz native or .nwb).")
@choice_option(
    "--format",
    "fmt",
    choices=FORMAT_CHOICES,
    default=None,
    help="Raw format; detected from the path if omitted.",
)
@click.option("--dtype", default=None, help="Plain binary: sample type, e.g. int16.")
@value_option(
    "--n-channels",
    type=click.IntRange(1, MAX_CHANNELS),
    default=None,
    help="Plain binary: channels per frame.",
)
@value_option(
    "--rate-hz",
    type=FiniteFloat(positive=True),
    default=None,
    help="Plain binary: sampling rate, Hz.",
)
@value_option("--gain-uv", type=FiniteFloat(), default=1.0, help="Plain binary: uV per unit.")
@value_option("--offset-uv", type=FiniteFloat(), default=0.0, help="Plain binary: uV offset.")
@value_option(
    "--t-start", type=FiniteFloat(), default=0.0, help="Plain binary: time of sample 0, s."
)
@value_option(
    "--behavior",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Behaviour: CSV (time column + values), NWB or .mat, on the recording's clock.",
)
@value_option(
    "--trials",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Trial table CSV: start, stop [, target, success].",
)
@value_option(
    "--chunk-s", type=FiniteFloat(positive=True), default=10.0, help="Detection chunk length, s."
)
@value_option(
    "--threshold",
    type=FiniteFloat(positive=True),
    default=4.5,
    help="Threshold, x MAD noise sigma.",
)
@choice_option("--sign", choices=["neg", "pos", "both"], default="neg")
@value_option("--dead-time-ms", type=FiniteFloat(minimum=0.0), default=1.0)
@value_option(
    "--seed", type=SEED, default=0, help="Seed of the noise-estimation segment positions."
)
@value_option(
    "--units",
    type=click.Choice(["crossings", "sorted", "both"]),
    default="crossings",
    help="Event files (.nev, .plx): threshold crossings per electrode (every sort code but "
    "255 = noise), sorted units (codes 1-254) as channels, or both.",
)
@click.option(
    "--behavior-channel",
    default=None,
    help="Event files: behaviour from these analog channels of the .ns2/.ns3 next to the "
    ".nev (comma-separated labels, e.g. ainp1,ainp2).",
)
@value_option(
    "--nwb",
    "nwb_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the session as NWB here.",
)
@click.option("--subject", default="unknown", show_default=True)
@value_option("--day", type=click.IntRange(0, MAX_DAYS - 1), default=0)
@overwrite_option(help="Replace --out if it exists.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def import_raw(
    raw_path: Path,
    out: Path,
    fmt: RawFormat | None,
    dtype: str | None,
    n_channels: int | None,
    rate_hz: float | None,
    gain_uv: float,
    offset_uv: float,
    t_start: float,
    behavior: Path | None,
    trials: Path | None,
    chunk_s: float,
    threshold: float,
    sign: Sign,
    dead_time_ms: float,
    seed: int,
    units: str,
    behavior_channel: str | None,
    nwb_out: Path | None,
    subject: str,
    day: int,
    overwrite: bool,
    no_progress: bool,
) -> None:
    """Detect spikes in RAW_PATH (Open Ephys folder, SpikeGLX .bin, Blackrock .ns5, Intan .rhd,
    or plain binary with --dtype/--n-channels/--rate-hz) and write a session to --out.

    A spike event file (Blackrock or Ripple .nev, Plexon .plx) is read as it is, no detection:
    threshold crossings per electrode by default (--units), behaviour from an analog channel
    of the .ns2/.ns3 files (--behavior-channel) or a file (--behavior), or none.

    All times are on the recording's clock (t = t_start + sample / rate); behaviour must
    overlap the recording. Nothing is written unless the whole import succeeds.
    """
    from alignnet.data.io.raw import import_raw as run_import
    from alignnet.data.io.raw import open_recording
    from alignnet.data.preprocess.detection import DetectionConfig
    from alignnet.data.session import SessionMeta

    refuse_existing(out, overwrite, inputs=(raw_path, behavior, trials))
    refuse_existing(nwb_out, overwrite, option="--nwb", inputs=(raw_path, behavior, trials))
    meta = SessionMeta(subject=subject, session_id=raw_path.stem, day=day, source=str(raw_path))
    from alignnet.data.io.raw.events import EVENT_SUFFIXES, import_events

    if raw_path.suffix.lower() in EVENT_SUFFIXES:
        from alignnet.data.io.raw import load_behavior, load_trials

        session = import_events(
            raw_path,
            units=units,  # type: ignore[arg-type]
            behavior_channel=behavior_channel,
            behavior=None if behavior is None else load_behavior(behavior),
            trials=None if trials is None else load_trials(trials),
            meta=meta,
        )
        _write(session, out, nwb_out, overwrite)
        return
    binary_kw: dict[str, Any] = {}
    if dtype is not None or n_channels is not None or rate_hz is not None or fmt == "binary":
        binary_kw = {
            "dtype": dtype,
            "n_channels": n_channels,
            "rate_hz": rate_hz,
            "gain_to_uv": gain_uv,
            "offset_to_uv": offset_uv,
            "t_start": t_start,
        }
    recording = open_recording(raw_path, format=fmt, **binary_kw)
    click.echo(f"reading {recording}", err=True)
    config = DetectionConfig(
        threshold=threshold,
        sign=sign,
        dead_time_ms=dead_time_ms,
        noise_seed=seed,
    )
    session = run_import(
        recording,
        behavior=behavior,
        trials=trials,
        config=config,
        chunk_s=chunk_s,
        progress=not no_progress,
        meta=meta,
    )
    _write(session, out, nwb_out, overwrite)


def _write(session, out: Path, nwb_out: Path | None, overwrite: bool) -> None:
    from alignnet.data.io import save_session

    save_session(session, out, overwrite=overwrite)
    if nwb_out is not None:
        save_session(session, nwb_out, overwrite=overwrite)
    n_spikes = sum(t.size for t in session.spike_times or [])
    behavior = ", ".join(session.meta.behavior_names) or "none"
    click.echo(
        f"wrote {out}{f' and {nwb_out}' if nwb_out else ''}: {session.n_channels} channels "
        f"({session.meta.channel_policy}), {n_spikes} spikes, behaviour {behavior}, "
        f"{session.duration:.1f} s ({session.t_start:.3f}..{session.t_stop:.3f} s)"
    )
