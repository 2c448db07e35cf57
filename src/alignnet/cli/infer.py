"""`alignnet decode|simulate|embed`: run a checkpoint on data, write an ``.npz``."""

from __future__ import annotations

from pathlib import Path

import click

from alignnet.cli.align import check_electrode_count
from alignnet.cli.options import (
    SEED,
    channels_option,
    choice_option,
    overwrite_option,
    parse_days,
    refuse_existing,
    value_option,
)
from alignnet.cli.train import load_data


def _save_npz(out: Path, overwrite: bool, **arrays) -> None:
    import numpy as np

    from alignnet.utils.atomic import atomic_path

    with atomic_path(out, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def _model_and_data(checkpoint, data, out, days, overwrite, channels, reading):
    """The checkpoint's `AlignNet` and DATA's windows, days counted on its calendar (``--out``
    refused first, before any work)."""
    from alignnet.api import AlignNet

    refuse_existing(out, overwrite, inputs=(checkpoint, data))
    model = AlignNet.load(checkpoint)
    windows = model.days.on_calendar(
        load_data(data, channels=channels, reading=reading, days=parse_days(days))
    )
    return model, windows


def _window_keys(windows) -> dict:
    """Which windows the rows of an output are: ``day``, ``trial``, ``t_start`` ``[N]``."""
    return {"day": windows.day, "trial": windows.trial, "t_start": windows.t_start}


def _need_behavior(windows, data, what: str) -> None:  # windows: Windows
    from alignnet.errors import DataError

    if not windows.n_behavior_dims:
        raise DataError(
            f"{what} needs behaviour and the data have none (an unlabelled day, or "
            "--behavior none); choose a series with --behavior NAME",
            field="behavior",
            source=data,
        )


def _common(f):
    f = overwrite_option(help="Replace an existing --out.")(f)
    f = click.option("--days", default=None, help="Comma-separated days (default: all).")(f)
    f = click.option("--out", required=True, type=click.Path(), help="Output .npz file.")(f)
    f = channels_option(f)
    f = click.argument("data", type=click.Path(exists=True))(f)
    f = click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))(f)
    return f


@click.command("decode")
@_common
def decode(checkpoint, data, out, days, overwrite, channels, reading) -> None:
    """Decode behaviour from the spikes of DATA; write behavior [N, D, L] (+ day, trial).

    Prints R^2 and Pearson r when DATA has behaviour.
    """
    import numpy as np

    from alignnet.evaluation.metrics import pearson_r, r2_score

    model, windows = _model_and_data(checkpoint, data, out, days, overwrite, channels, reading)
    check_electrode_count(model, windows, source=data)
    pred = model.decode(windows)
    _save_npz(Path(out), overwrite, behavior=pred, **_window_keys(windows))
    msg = f"decoded {len(windows)} windows -> {out}"
    if not windows.n_behavior_dims:
        msg += " (the data have no behaviour: nothing to score against)"
    elif windows.behavior.shape != pred.shape:
        msg += (
            f" (the data's behaviour {windows.behavior_names} is not the model's "
            f"{pred.shape[1]}-d output: not scored)"
        )
    elif np.ptp(windows.behavior) > 0:
        msg += (
            f"\nR^2 {r2_score(windows.behavior, pred):.3f}   "
            f"Pearson r {pearson_r(windows.behavior, pred):.3f}"
        )
    click.echo(msg)


@click.command("simulate")
@_common
@click.option(
    "--sample",
    is_flag=True,
    help="Draw spike counts from the full model (rates x shared trial-to-trial gains) "
    "instead of writing rates.",
)
@click.option(
    "--independent",
    is_flag=True,
    help="With --sample: independent Poisson counts of the rates (no shared gains).",
)
@value_option("--seed", type=SEED, default=0, help="Seed of --sample (>= 0).")
@value_option(
    "--day",
    type=int,
    default=None,
    help="Simulate the channels of this day (its read-out), trained on or aligned "
    "(`alignnet align`); default: each window's own day where the model knows it.",
)
def simulate(
    checkpoint, data, out, days, overwrite, channels, reading, sample, independent, seed, day
) -> None:
    """Simulate spikes [N, C, L] (rates in counts/bin, or --sample counts) from DATA's behaviour.

    Prints PCC and bits/spike against DATA's counts and, for synthetic data, the same figures
    of the generator's true rates (the ceiling) and the fraction of it reached.
    """
    from alignnet.errors import DataError

    model, windows = _model_and_data(checkpoint, data, out, days, overwrite, channels, reading)
    _need_behavior(windows, data, "simulate")
    try:
        source = windows if day is None else windows.behavior
        rates = model.simulate(source, day=day)
        sim = rates
        if sample:
            sim = model.simulate(
                source, day=day, sample=True, seed=seed, shared_variability=not independent
            )
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc
    extra = {"rates": rates} if sample else {}
    _save_npz(Path(out), overwrite, spikes=sim, **extra, **_window_keys(windows))
    click.echo(f"simulated {len(windows)} windows -> {out}")
    if rates.shape == windows.spikes.shape:
        click.echo(simulation_report(windows, rates))


def simulation_report(windows, rates) -> str:
    """One line: PCC and bits/spike of ``rates`` against the windows' counts, with the
    true-rate ceiling and the fraction of it where the windows carry true rates."""
    from alignnet.evaluation.simulation_metrics import simulation_scores

    s = simulation_scores(windows, rates, windows.spikes.mean(axis=(0, 2)))
    line = (
        f"simulation (rates vs recorded counts): PCC {s['pcc']:.3f}, "
        f"{s['bits_per_spike']:.3f} bits/spike over the day's mean rates"
    )
    if "ceiling_pcc" in s:
        line += (
            f"; true rates (ceiling): PCC {s['ceiling_pcc']:.3f}, "
            f"{s['ceiling_bits_per_spike']:.3f} bits/spike -> {s['pcc_of_ceiling']:.2f} "
            f"and {s['bits_of_ceiling']:.2f} of the ceiling"
        )
    else:
        line += " (no true rates: recorded data have no ceiling)"
    return line


@click.command("embed")
@_common
@choice_option(
    "--modality",
    choices=["spikes", "behavior"],
    default="spikes",
    help="Which encoder to embed with.",
)
def embed(checkpoint, data, out, days, overwrite, channels, reading, modality) -> None:
    """Embed DATA in the shared latent space: write z [N, E] (L2-normalised) + day, target."""

    model, windows = _model_and_data(checkpoint, data, out, days, overwrite, channels, reading)
    if modality == "behavior":
        _need_behavior(windows, data, "embed --modality behavior")
    z = model.embed(spikes=windows) if modality == "spikes" else model.embed(behavior=windows)
    _save_npz(
        Path(out), overwrite, z=z, day=windows.day, trial=windows.trial, target=windows.target
    )
    click.echo(f"embedded {len(windows)} windows ({modality}) -> {out}  [{z.shape[1]}-d]")
