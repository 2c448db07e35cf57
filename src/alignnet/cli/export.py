"""`alignnet export` (being built)."""

import click


@click.command("export")
def export() -> None:
    """(not yet implemented)"""
    raise click.ClickException("alignnet export is not implemented yet")
