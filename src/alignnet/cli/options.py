"""Option parsing shared by several commands: value types that refuse bad numbers up front
(click error, exit 2) and the ``--overwrite`` check of output paths."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

#: Epochs, batch sizes, counts of folds/days/settings: whole numbers >= 1.
POSITIVE_INT = click.IntRange(min=1)
#: Random seeds: whole numbers >= 0 (numpy refuses negative seeds).
SEED = click.IntRange(min=0)


class FiniteFloat(click.ParamType):
    """A finite float (no nan/inf), optionally required to be > 0 (``positive``)."""

    name = "float"

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, float) and math.isfinite(value) and (value > 0 or not self.positive):
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.positive and number <= 0:
            self.fail(f"{value!r} must be > 0", param, ctx)
        return number


#: Learning rates, scales: finite and > 0.
POSITIVE_FLOAT = FiniteFloat(positive=True)


class Device(click.ParamType):
    """``auto``, ``cpu``, ``cuda[:N]`` or ``mps``; a device this machine lacks is refused
    (`alignnet.engine.device.resolve_device` raises the named `DeviceError`)."""

    name = "device"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        from alignnet.engine.device import resolve_device  # imports torch: only when used
        from alignnet.errors import DeviceError

        try:
            resolve_device(str(value))
        except DeviceError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


DEVICE = Device()


def refuse_existing(path: str | Path | None, overwrite: bool, *, option: str = "--out") -> None:
    """Refuse an existing output ``path`` unless ``overwrite`` (checked before any work).

    Raises:
        click.BadParameter: naming ``option`` and the ``--overwrite`` flag (exit 2).
    """
    if path is not None and Path(path).exists() and not overwrite:
        raise click.BadParameter(
            f"{path} exists; pass --overwrite to replace it", param_hint=option
        )


def parse_days(text: str | None, *, param_hint: str = "--days") -> list[int] | None:
    """``"0-3,5"`` -> ``[0, 1, 2, 3, 5]`` (sorted, unique); None or "" -> None (all days).

    A part that is neither a day nor a range ``lo-hi`` with ``lo <= hi`` is a
    `click.BadParameter` naming ``param_hint``.
    """
    if text is None or not text.strip():
        return None
    days: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                days.update(range(lo, hi + 1))
            else:
                days.add(int(part))
        except ValueError:
            raise click.BadParameter(
                f"{part!r} is not a day or a range like 0-3", param_hint=param_hint
            ) from None
    return sorted(days)


def choice_option(
    *decls: str,
    choices: Sequence[str],
    default: str | None = None,
    help: str | None = None,
    **kw: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A ``click.Choice`` option over ``choices`` (a vocabulary tuple of `alignnet.names`);
    its default, if any, is shown in ``--help``."""
    return click.option(
        *decls,
        type=click.Choice(choices),
        default=default,
        show_default=default is not None,
        help=help,
        **kw,
    )


def channels_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--channels auto|electrode|unit`` (the command's ``channels`` parameter, a
    `alignnet.names.ChannelPolicy`): how sorted units in NWB recordings become channels
    (`alignnet.data.io.nwb_channels`). Every command that reads recordings takes it."""
    from alignnet.names import CHANNEL_POLICIES

    return choice_option(
        "--channels",
        "channels",
        choices=CHANNEL_POLICIES,
        default="auto",
        help="Sorted units in NWB files: 'electrode' sums each electrode's units (the same "
        "channels every day), 'unit' keeps one channel per unit (per-day read-ins); 'auto' "
        "is 'electrode' when units are linked to electrodes.",
    )(f)
