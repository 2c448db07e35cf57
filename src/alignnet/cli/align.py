"""`alignnet align CKPT NEW_DAY --out CKPT2`: align a new recording day without its labels."""

from __future__ import annotations

from pathlib import Path

import click

from alignnet.cli.options import (
    EPOCHS,
    SEED,
    BehaviorReading,
    channels_option,
    overwrite_option,
    refuse_existing,
    value_option,
)


def new_day_index(model, sessions, day: int | None) -> int:
    """The day index of a new recording: ``--day``, else its calendar day counted from the
    checkpoint's day 0 (NWB ``session_start_time``), else one past the model's last day."""
    if day is not None:
        return int(day)
    calendar = model.days.calendar_day(sessions[0].meta.date)
    return model.days.next_day() if calendar is None else calendar


def refuse_training_day(model, day: int) -> None:  # AlignNet
    """Aligning a training day would replace the statistics and read-in it was trained
    with (its decoding gets worse, silently): refused with a `DataError`."""
    from alignnet.errors import DataError

    trained = model.days.trained_days()
    if int(day) in trained:
        raise DataError(
            f"day {day} is a training day of this checkpoint (training days "
            f"{trained}); aligning it would replace what it was trained with. "
            "Decode it directly, or pass the new recording's own --day",
            field="day",
        )


@click.command("align")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.argument("new_day", type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Aligned checkpoint.")
@value_option(
    "--day",
    type=click.IntRange(min=0),
    default=None,
    help="Day index of the new recording (default: its calendar day from the checkpoint's "
    "day 0, from the file's session_start_time).",
)
@value_option("--epochs", type=EPOCHS, default=None, help="Alignment epochs (1..100000).")
@value_option("--seed", type=SEED, default=None, help="Seed (default: the fine-tuning seed).")
@overwrite_option(help="Replace an existing --out.")
@channels_option
def align(
    checkpoint, new_day, out, day, epochs, seed, overwrite, channels, reading: BehaviorReading
) -> None:
    """Fit the read-in, read-out and statistics of NEW_DAY (one recording, no labels used)
    with everything shared frozen, and write the aligned model to OUT.

    Then `alignnet decode OUT NEW_DAY` decodes that day. Its unit count may differ from the
    training days'. The recording must come from the checkpoint's array and channel policy.
    NEW_DAY needs no behaviour (an NWB day without processing/behavior is fine); any it
    has is not read.
    """
    from alignnet.api import AlignNet
    from alignnet.data.io import load_sessions
    from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows
    from alignnet.errors import DataError

    refuse_existing(out, overwrite, inputs=(checkpoint, new_day))
    model = AlignNet.load(checkpoint)
    # Alignment uses no labels: the day is read without behaviour (it may have none, or
    # behaviour with dropouts), so every window of its spikes is used.
    sessions = load_sessions(Path(new_day), channels=channels, **reading.keywords(behavior="none"))
    if len(sessions) != 1:
        raise DataError(
            f"{new_day} holds {len(sessions)} recordings; align one day at a time",
            source=new_day,
        )
    sessions[0].meta.day = new_day_index(model, sessions, day)
    refuse_training_day(model, sessions[0].meta.day)  # before the work
    windows = sessions_to_windows(sessions, preprocess_config_for(sessions))
    check_electrode_count(model, windows, source=new_day)
    report = model.align(windows, epochs=epochs, seed=seed, progress=True)
    model.save(out)
    click.echo(
        f"aligned day {report.day} ({windows.n_channels_of(report.day)} channels, "
        f"{len(windows)} windows) in {report.wall_s:.1f} s: reconstruction "
        f"{report.recon[0]:.3f} -> {report.recon[-1]:.3f}, latent KL {report.kl[0]:.3f} -> "
        f"{report.kl[-1]:.3f}; wrote {out}"
    )


def check_electrode_count(model, windows, *, source) -> None:
    """Refuse electrode-policy data (crossings per electrode, e.g. a ``.nev``) whose electrode
    count differs from the checkpoint's: another array or electrode map, not a new day.

    Raises:
        DataError: naming both counts.
    """
    from alignnet.errors import DataError

    trained = model.days.channel_policy
    want = model.config.model.n_channels
    if trained == "electrode" and windows.channel_policy == "electrode":
        if windows.n_channels != want:
            raise DataError(
                f"{windows.n_channels} electrodes, but the checkpoint was trained on {want} "
                "electrodes: a recording from another array or electrode map (same array, "
                "same electrode count expected)",
                field="channels",
                source=source,
            )
