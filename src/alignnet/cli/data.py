"""`alignnet data ...`: make, inspect, preprocess and import recordings.

Each sub-command lives in its own module (imported on first use)."""

from __future__ import annotations

import click

from alignnet.cli.lazy import LazyGroup

DATA_COMMANDS: dict[str, str] = {
    "synth": "alignnet.cli.data_synth:synth",
    "inspect": "alignnet.cli.data_synth:inspect",
    "preprocess": "alignnet.cli.data_preprocess:preprocess",
    "import": "alignnet.cli.data_import:import_raw",
    "place-cells": "alignnet.cli.data_place_cells:place_cells",
}


@click.group("data", cls=LazyGroup, lazy_commands=DATA_COMMANDS)
def data() -> None:
    """Make, inspect, preprocess and import recordings."""
