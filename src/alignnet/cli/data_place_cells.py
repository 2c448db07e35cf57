"""`alignnet data place-cells`: write a synthetic place-cell recording (tetrodes, tracked
position with dropouts) as a hippocampus lab's NWB file."""

from __future__ import annotations

import click

from alignnet.cli.options import (
    POSITIVE_FLOAT,
    SEED,
    output_option,
    overwrite_option,
    value_option,
)


@click.command("place-cells")
@output_option("out_dir", folder=True, help="Output folder (day00.nwb).")
@value_option("--seed", type=SEED, default=0)
@value_option("--minutes", type=POSITIVE_FLOAT, default=10.0)
@value_option("--units", "n_units", type=click.IntRange(min=1), default=40)
@click.option("--track", is_flag=True, help="A 1-D linear track instead of the 2-D arena.")
@value_option(
    "--dropouts",
    type=click.Choice(["nan", "zero"]),
    default="nan",
    help="How the tracker writes a lost frame (zero: read with --missing-value 0).",
)
@value_option(
    "--px-per-cm", type=POSITIVE_FLOAT, default=None, help="Position in pixels (default cm)."
)
@overwrite_option(help="Replace an existing day00.nwb.")
def place_cells(out_dir, seed, minutes, n_units, track, dropouts, px_per_cm, overwrite) -> None:
    """A freely moving rat's place cells on 13 tetrodes (25 % of units interneurons), its
    position tracked at 30 Hz with short and long dropouts, as NWB (units linked to their
    tetrode's 4 wires, position in processing/behavior/Position). Read it with
    --behavior position (or region:discrete for the quadrant)."""
    from alignnet.cli.options import refuse_existing
    from alignnet.data.io.nwb_hippocampus import write_place_cells_nwb
    from alignnet.data.synthetic.place_cells import PlaceCellConfig, generate_place_cells

    refuse_existing(out_dir / "day00.nwb", overwrite, option="--out")  # before any work

    config = PlaceCellConfig(
        seconds=minutes * 60.0,
        track=track,
        n_units=n_units,
        dropout_value=None if dropouts == "nan" else 0.0,
        px_per_cm=px_per_cm,
    )
    session = generate_place_cells(config, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_place_cells_nwb(
        session,
        out_dir / "day00.nwb",
        n_tetrodes=config.n_tetrodes,
        notes=f"alignnet data place-cells --seed {seed} --minutes {minutes:g}"
        + (" --track" if track else "")
        + f" --dropouts {dropouts}",
        overwrite=overwrite,
    )
    import numpy as np

    lost = float(
        np.isnan(session.position).any(axis=1).mean()
        if config.dropout_value is None
        else (session.position == config.dropout_value).all(axis=1).mean()
    )
    click.echo(
        f"wrote {path}: {n_units} units on {config.n_tetrodes} tetrodes, "
        f"{session.camera_times.size} frames ({100 * lost:.1f} % lost), {minutes:g} min"
    )
