"""`alignnet decode|simulate|embed`: run a checkpoint on data, write an ``.npz``."""

from __future__ import annotations

from pathlib import Path

import click

from alignnet.cli.align import check_electrode_count
from alignnet.cli.options import SEED, channels_option, choice_option, parse_days, refuse_existing
from alignnet.cli.train import load_data


def _save_npz(out: Path, overwrite: bool, **arrays) -> None:
    import numpy as np

    from alignnet.utils.atomic import atomic_path

    with atomic_path(out, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def _model_and_data(checkpoint, data, out, days, overwrite, channels):
    """The checkpoint's `AlignNet` and DATA's windows, days counted on its calendar (``--out``
    refused first, before any work)."""
    from alignnet.api import AlignNet

    refuse_existing(out, overwrite, inputs=(checkpoint, data))
    model = AlignNet.load(checkpoint)
    windows = model.days.on_calendar(load_data(data, channels=channels, days=parse_days(days)))
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
    f = click.option("--overwrite", is_flag=True, help="Replace an existing --out.")(f)
    f = click.option("--days", default=None, help="Comma-separated days (default: all).")(f)
    f = click.option("--out", required=True, type=click.Path(), help="Output .npz file.")(f)
    f = channels_option(f)
    f = click.argument("data", type=click.Path(exists=True))(f)
    f = click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))(f)
    return f


@click.command("decode")
@_common
def decode(checkpoint, data, out, days, overwrite, channels) -> None:
    """Decode behaviour from the spikes of DATA; write behavior [N, D, L] (+ day, trial).

    Prints R^2 and Pearson r when DATA has behaviour.
    """
    import numpy as np

    from alignnet.evaluation.metrics import pearson_r, r2_score

    model, windows = _model_and_data(checkpoint, data, out, days, overwrite, channels)
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
@click.option("--sample", is_flag=True, help="Draw Poisson counts instead of writing rates.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of --sample.")
def simulate(checkpoint, data, out, days, overwrite, channels, sample, seed) -> None:
    """Simulate spikes [N, C, L] (rates in counts/bin, or --sample counts) from DATA's behaviour."""
    from alignnet.evaluation.metrics import pearson_r, r2_score

    model, windows = _model_and_data(checkpoint, data, out, days, overwrite, channels)
    _need_behavior(windows, data, "simulate")
    sim = model.simulate(windows, sample=sample, seed=seed)
    _save_npz(Path(out), overwrite, spikes=sim, **_window_keys(windows))
    click.echo(
        f"simulated {len(windows)} windows -> {out}\n"
        f"R^2 {r2_score(windows.spikes, sim):.3f}   Pearson r {pearson_r(windows.spikes, sim):.3f}"
        " (per channel vs recorded counts)"
    )


@click.command("embed")
@_common
@choice_option(
    "--modality",
    choices=["spikes", "behavior"],
    default="spikes",
    help="Which encoder to embed with.",
)
def embed(checkpoint, data, out, days, overwrite, channels, modality) -> None:
    """Embed DATA in the shared latent space: write z [N, E] (L2-normalised) + day, target."""

    model, windows = _model_and_data(checkpoint, data, out, days, overwrite, channels)
    if modality == "behavior":
        _need_behavior(windows, data, "embed --modality behavior")
    z = model.embed(spikes=windows) if modality == "spikes" else model.embed(behavior=windows)
    _save_npz(
        Path(out), overwrite, z=z, day=windows.day, trial=windows.trial, target=windows.target
    )
    click.echo(f"embedded {len(windows)} windows ({modality}) -> {out}  [{z.shape[1]}-d]")
