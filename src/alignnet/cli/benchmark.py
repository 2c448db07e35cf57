"""`alignnet benchmark` (being built)."""

import click


@click.command("benchmark")
def benchmark() -> None:
    """(not yet implemented)"""
    raise click.ClickException("alignnet benchmark is not implemented yet")
