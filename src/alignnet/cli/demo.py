"""`alignnet demo` (being built)."""

import click


@click.command("demo")
def demo() -> None:
    """(not yet implemented)"""
    raise click.ClickException("alignnet demo is not implemented yet")
