"""`alignnet stream` and `alignnet stream-replay`: the closed loop on Lab Streaming Layer.

    alignnet stream-replay data/demo --day 5            # a recording as a live spike stream
    alignnet stream runs/demo/model.ckpt --input-name AlignNet-replay --day 5

Both use the lab's normal LSL configuration (liblsl's ``lsl_api.cfg`` search, or the
``LSLAPICFG`` environment variable), or the file given with ``--lsl-config``.
"""

from __future__ import annotations

import click

from alignnet.cli.options import POSITIVE_FLOAT, POSITIVE_INT, value_option

#: ``--progress`` of both streaming commands.
PROGRESS = value_option(
    "--progress",
    type=float,
    default=5.0,
    help="Seconds between progress lines on stderr (0: none).",
)
LSL_CONFIG = click.option(
    "--lsl-config",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="liblsl configuration file (default: LSLAPICFG, then liblsl's usual places: "
    "./lsl_api.cfg, ~/lsl_api/lsl_api.cfg, /etc/lsl_api/lsl_api.cfg).",
)


def _split(text: str | None) -> list[str]:
    return [] if not text else [part.strip() for part in text.split(",")]


@click.command("stream")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.option("--input-name", default=None, help="Name of the input (spike) stream.")
@click.option("--input-source-id", default=None, help="Source id of the input stream.")
@click.option("--input-type", default=None, help="Type of the input stream (e.g. SpikeCounts).")
@click.option("--output-name", default="AlignNet-decoded", show_default=True)
@click.option("--output-source-id", default="", help="Source id of the output stream.")
@value_option("--day", type=int, default=None, help="Recording day whose statistics to use.")
@value_option(
    "--align-first",
    type=POSITIVE_FLOAT,
    default=None,
    help="Collect this many seconds of unlabelled spikes, align the model to them "
    "(`alignnet align`), then decode (a new day; --day names it).",
)
@value_option(
    "--duration",
    type=POSITIVE_FLOAT,
    default=None,
    help="Seconds to run (default: until the input ends).",
)
@value_option(
    "--resolve-timeout",
    type=POSITIVE_FLOAT,
    default=30.0,
    help="Seconds to look for the input stream.",
)
@value_option(
    "--reconnect-timeout",
    type=POSITIVE_FLOAT,
    default=10.0,
    help="Without --duration: seconds to wait for a vanished input before ending.",
)
@click.option("--behavior-names", default=None, help="Comma-separated output channel labels.")
@click.option("--behavior-units", default=None, help="Comma-separated output channel units.")
@PROGRESS
@LSL_CONFIG
def stream(
    checkpoint,
    input_name,
    input_source_id,
    input_type,
    output_name,
    output_source_id,
    day,
    align_first,
    duration,
    resolve_timeout,
    reconnect_timeout,
    behavior_names,
    behavior_units,
    progress,
    lsl_config,
) -> None:
    """Decode a live LSL spike stream with the causal CHECKPOINT, one output sample per bin."""
    from alignnet.realtime.lsl_config import use_config

    use_config(lsl_config)
    from alignnet.api import AlignNet
    from alignnet.errors import DataError
    from alignnet.realtime.causal import CausalStreamingDecoder
    from alignnet.realtime.lsl_stream import StreamLoop, StreamOptions, check_causal

    model = AlignNet.load(checkpoint, device="cpu")
    check_causal(model)
    bin_s = getattr(model, "bin_s", None) or 0.02
    options = StreamOptions(
        input_name=input_name,
        input_source_id=input_source_id,
        input_type=input_type,
        output_name=output_name,
        output_source_id=output_source_id,
        behavior_names=_split(behavior_names) or list(getattr(model, "behavior_names", []) or []),
        behavior_units=_split(behavior_units),
        duration_s=duration,
        resolve_timeout_s=resolve_timeout,
        reconnect_timeout_s=reconnect_timeout,
        progress_s=progress,
    )
    options.predicate()  # refuse a missing input name before any work
    if align_first is not None:
        from alignnet.realtime.lsl_align import align_from_stream

        day = align_from_stream(model, seconds=align_first, day=day, bin_s=bin_s, options=options)
    norm = model.normalizer
    if norm is not None and norm.per_day and day is None:
        raise DataError(
            f"this model normalises each day with its own statistics: pass --day (one of "
            f"{sorted(norm.day_spike_mean)}) or --align-first SECONDS for a new day",
            field="day",
        )
    decoder = CausalStreamingDecoder(model, day=day)
    click.echo(
        f"decoding with {checkpoint} (day {day}, {decoder.n_channels} channels -> "
        f"{decoder.n_behavior} dims, {bin_s * 1000:g} ms bins)",
        err=True,
    )
    StreamLoop(decoder, bin_s=bin_s, options=options).run()


@click.command("stream-replay")
@click.argument("data", type=click.Path(exists=True))
@value_option("--day", type=int, default=None, help="Day to replay (default: the last).")
@value_option(
    "--form",
    type=click.Choice(["counts", "events"]),
    default="counts",
    help="Binned counts (one sample per bin) or spike events (one sample per spike).",
)
@click.option("--behavior", is_flag=True, help="Also publish the behaviour (NAME-behavior).")
@click.option("--name", default="AlignNet-replay", show_default=True)
@click.option("--source-id", default="alignnet-replay", show_default=True)
@value_option(
    "--speed", type=float, default=1.0, help="Multiple of real time (0: as fast as possible)."
)
@value_option(
    "--bin-ms",
    type=POSITIVE_FLOAT,
    default=None,
    help="Bin width in ms (default: the one preprocessing uses for DATA, 20).",
)
@value_option("--max-bins", type=POSITIVE_INT, default=None, help="Publish at most N bins.")
@value_option(
    "--wait-consumer",
    type=float,
    default=0.0,
    help="Seconds to wait for a first consumer (e.g. `alignnet stream`) before publishing.",
)
@value_option(
    "--linger",
    type=float,
    default=None,
    help="Seconds to keep the streams up after the last sample, so consumers read the rest "
    "(default 2; plus 2 ms per bin with --speed 0).",
)
@PROGRESS
@LSL_CONFIG
def stream_replay(
    data,
    day,
    form,
    behavior,
    name,
    source_id,
    speed,
    bin_ms,
    max_bins,
    wait_consumer,
    linger,
    progress,
    lsl_config,
) -> None:
    """Publish one day of DATA (session file/folder, NWB) as LSL streams."""
    from alignnet.realtime.lsl_config import use_config

    use_config(lsl_config)
    import dataclasses

    from alignnet.data.io import load_sessions
    from alignnet.data.preprocess import bin_session_spikes, preprocess_config_for
    from alignnet.errors import DataError
    from alignnet.realtime.lag0 import continuous_day
    from alignnet.realtime.lsl_replay import ReplayOptions, replay

    if speed < 0:
        raise click.BadParameter("must be >= 0", param_hint="--speed")
    sessions = load_sessions(data)
    days = [int(s.meta.day) for s in sessions]
    pick = days[-1] if day is None else day
    if pick not in days:
        raise DataError(f"day {pick} not in the data (days {days})", field="day", source=data)
    session = sessions[days.index(pick)]
    config = preprocess_config_for(sessions)
    if bin_ms is not None:
        config = dataclasses.replace(config, bin_s=bin_ms / 1000)
    counts, beh = continuous_day(session, config)
    _, edges = bin_session_spikes(session, bin_s=config.bin_s)
    replay(
        counts,
        edges,
        behavior=beh,
        behavior_names=list(session.meta.behavior_names),
        behavior_unit=session.meta.behavior_unit,
        spike_times=session.spike_times,
        options=ReplayOptions(
            name=name,
            source_id=source_id,
            form=form,
            behavior=behavior,
            speed=speed,
            wait_consumer_s=wait_consumer,
            linger_s=linger,
            max_bins=max_bins,
            progress_s=progress,
        ),
    )
