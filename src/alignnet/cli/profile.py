"""`alignnet profile` (being built)."""

import click


@click.command("profile")
def profile() -> None:
    """(not yet implemented)"""
    raise click.ClickException("alignnet profile is not implemented yet")
