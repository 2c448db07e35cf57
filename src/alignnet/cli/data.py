"""`alignnet data ...`: make, inspect, preprocess and import recordings.

Each sub-command lives in its own module (imported on first use)."""

from __future__ import annotations

import importlib

import click

DATA_COMMANDS: dict[str, str] = {
    "synth": "alignnet.cli.data_synth:synth",
    "inspect": "alignnet.cli.data_synth:inspect",
    "preprocess": "alignnet.cli.data_preprocess:preprocess",
    "import": "alignnet.cli.data_import:import_raw",
}


class _LazyDataGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(DATA_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = DATA_COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):  # a command still being built
            return None


@click.group("data", cls=_LazyDataGroup)
def data() -> None:
    """Make, inspect, preprocess and import recordings."""
