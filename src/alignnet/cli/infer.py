"""`alignnet decode|simulate|embed` (being built)."""

import click


@click.command("decode")
def decode() -> None:
    """(not yet implemented)"""
    raise click.ClickException("not implemented yet")


@click.command("simulate")
def simulate() -> None:
    """(not yet implemented)"""
    raise click.ClickException("not implemented yet")


@click.command("embed")
def embed() -> None:
    """(not yet implemented)"""
    raise click.ClickException("not implemented yet")
