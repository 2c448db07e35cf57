"""`alignnet data ...`: make, inspect, preprocess and import recordings."""

import click


@click.group("data")
def data() -> None:
    """Make, inspect, preprocess and import recordings."""
