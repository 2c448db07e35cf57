"""The one lazily importing click group of the command line (`alignnet` and `alignnet data`).

Sub-commands are named as ``"module:attribute"`` and imported on first use, so ``--help`` and
the data commands do not pay for importing torch. A command whose module fails to import
raises that error (a missing dependency or a bug is never turned into "no such command").
"""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyGroup(click.Group):
    """A click group whose sub-commands (``lazy_commands``: name -> ``"module:attribute"``)
    are imported on first use."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.lazy_commands) | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)
