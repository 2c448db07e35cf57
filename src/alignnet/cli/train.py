"""`alignnet pretrain` / `alignnet finetune` (being built)."""

import click


@click.command("pretrain")
def pretrain() -> None:
    """(not yet implemented)"""
    raise click.ClickException("not implemented yet")


@click.command("finetune")
def finetune() -> None:
    """(not yet implemented)"""
    raise click.ClickException("not implemented yet")
