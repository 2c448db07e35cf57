"""Option parsing shared by several commands: value types that refuse bad numbers up front
(click error, exit 2) and the ``--overwrite`` check of output paths."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from alignnet.data.behavior_gaps import DEFAULT_MAX_GAP_S
from alignnet.utils.limits import MAX_DAYS, MAX_EPOCHS, MAX_RATE_HZ, MAX_SEED  # noqa: F401

#: Epochs, batch sizes, counts of folds/days/settings: whole numbers >= 1.
POSITIVE_INT = click.IntRange(min=1)
#: Random seeds: whole numbers 0..MAX_SEED (numpy refuses negative seeds).
SEED = click.IntRange(min=0, max=MAX_SEED)
#: ``--epochs``: 1..MAX_EPOCHS (a maximum, the run may stop earlier).
EPOCHS = click.IntRange(min=1, max=MAX_EPOCHS)


class FiniteFloat(click.ParamType):
    """A finite float (no nan/inf), optionally required to be > 0 (``positive``) and within
    ``minimum``..``maximum``."""

    name = "float"

    def __init__(
        self,
        *,
        positive: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> None:
        self.positive = positive
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.positive and number <= 0:
            self.fail(f"{value!r} must be > 0", param, ctx)
        if self.minimum is not None and number < self.minimum:
            self.fail(f"{value!r} must be >= {self.minimum:g}", param, ctx)
        if self.maximum is not None and number > self.maximum:
            self.fail(f"{value!r} must be <= {self.maximum:g}", param, ctx)
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


def refuse_existing(
    path: str | Path | None,
    overwrite: bool,
    *,
    option: str = "--out",
    inputs: tuple[str | Path | None, ...] = (),
    folder: bool = False,
) -> None:
    """Refuse an existing output ``path`` unless ``overwrite`` and claim it (checked before any
    work; `alignnet.utils.outputs.claim_output`: not an input, not another output, writable;
    the final write then replaces only what was there now).

    Raises:
        click.BadParameter: an existing file, naming ``option`` and ``--overwrite`` (exit 2).
        OutputError: the other refusals of `claim_output`.
    """
    from alignnet.utils.outputs import claim_output

    if path is not None and Path(path).exists() and not overwrite and not folder:
        if not any(s is not None and Path(s).exists() and Path(s).samefile(path) for s in inputs):
            raise click.BadParameter(
                f"{path} exists; pass --overwrite to replace it", param_hint=option
            )
    claim_output(path, overwrite=overwrite, inputs=inputs, option=option, folder=folder)
    _release_when_done()


def _release_when_done() -> None:
    """Forget this command's claims when its (root) click context closes, however the
    command was invoked (through ``alignnet`` or as a sub-command object directly)."""
    from alignnet.utils.outputs import release_claims

    ctx = click.get_current_context(silent=True)
    if ctx is not None and not ctx.find_root().meta.get("alignnet.release_claims"):
        ctx.find_root().meta["alignnet.release_claims"] = True
        ctx.find_root().call_on_close(release_claims)


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
            else:
                lo = hi = int(part)
        except ValueError:
            raise click.BadParameter(
                f"{part!r} is not a day or a range like 0-3", param_hint=param_hint
            ) from None
        if hi >= MAX_DAYS or len(days) + (hi - lo + 1) > MAX_DAYS:  # before building the list
            raise click.BadParameter(
                f"{part!r}: days are 0..{MAX_DAYS - 1}, at most {MAX_DAYS} of them",
                param_hint=param_hint,
            )
        days.update(range(lo, hi + 1))
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


def value_option(
    *decls: str,
    type: click.ParamType | type[int] | type[float] | type[str],
    default: Any = None,
    help: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option taking one value of ``type``; its default, if any, is shown in ``--help``
    (click shows no ``None`` default)."""
    return click.option(*decls, type=type, default=default, show_default=True, help=help)


def hidden_alias(
    old: str, dest: str, *, of: str, choices: Sequence[str] | None = None, type: Any = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An old option name kept working for scripts (not shown in ``--help``): the command
    receives it as ``dest`` (None when not given) and uses it in place of option ``of``."""
    kind = click.Choice(choices) if choices is not None else type
    return click.option(old, dest, type=kind, default=None, hidden=True, help=f"Old name of {of}.")


def output_option(
    dest: str, *, folder: bool, help: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The required ``--out`` of a command that writes a file (``folder=False``) or a folder;
    the command receives it as a `Path` named ``dest``."""
    kind = click.Path(file_okay=not folder, dir_okay=folder, path_type=Path)
    return click.option("--out", dest, type=kind, required=True, help=help)


def overwrite_option(
    dest: str = "overwrite", *, help: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--overwrite`` flag (``help`` says what it replaces), passed on as ``dest``;
    the command checks its outputs with `refuse_existing`."""
    return click.option("--overwrite", dest, is_flag=True, help=help)


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
        "decides from the file (units apart on tetrodes/probes, summed on single-electrode "
        "arrays; `data inspect --channels auto` says why).",
    )(behavior_options(f))


@dataclass(frozen=True)
class BehaviorReading:
    """The behaviour reading options of a command (``--behavior``, ``--max-gap-ms``,
    ``--missing-value``), its ``reading`` parameter; `keywords` gives them as
    `alignnet.data.io.load_sessions` keywords.

    Attributes:
        behavior: behaviour spec (`alignnet.data.io.nwb_behavior`): None (the file's first
            series), ``"none"``, ``"NAME"``, ``"NAME:velocity"`` or ``"NAME:discrete"``.
        max_gap_s: missing behaviour over gaps up to this long (s) is interpolated.
        missing_value: a tracker's dropout value; None: only NaN is missing.
    """

    behavior: str | None = None
    max_gap_s: float = DEFAULT_MAX_GAP_S
    missing_value: float | None = None

    def keywords(self, **override: Any) -> dict[str, Any]:
        """``behavior``, ``max_gap_s`` and ``missing_value`` for `load_sessions`;
        ``override`` replaces some (e.g. ``behavior="none"``)."""
        return {**dataclasses.asdict(self), **override}

    def changed(self) -> dict[str, Any]:
        """The options that differ from the defaults (what a benchmark records)."""
        return {k: v for k, v in self.keywords().items() if getattr(BehaviorReading(), k) != v}


def behavior_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--behavior NAME[:velocity|:discrete]|none`` (which behaviour series,
    `alignnet.data.io.nwb_behavior`), ``--max-gap-ms`` (missing behaviour interpolated over
    shorter gaps, windows over longer ones dropped) and ``--missing-value`` (a tracker's
    dropout value), passed to the command as one typed parameter ``reading``
    (`BehaviorReading`); added with ``--channels`` to every command that reads recordings."""

    @functools.wraps(f)
    def command(
        *args: Any,
        behavior: str | None,
        max_gap_ms: float,
        missing_value: float | None,
        **kwargs: Any,
    ) -> Any:
        reading = BehaviorReading(
            behavior=behavior, max_gap_s=float(max_gap_ms) / 1e3, missing_value=missing_value
        )
        return f(*args, reading=reading, **kwargs)

    decorate: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        value_option(
            "--missing-value",
            type=FiniteFloat(),
            default=None,
            help="Behaviour samples equal to this on every dimension are tracking dropouts "
            "(e.g. 0); default: only NaN is.",
        ),
        value_option(
            "--max-gap-ms",
            type=click.FloatRange(min=0),
            default=DEFAULT_MAX_GAP_S * 1e3,
            help="Missing behaviour is interpolated over gaps up to this long; windows over "
            "longer gaps are dropped from training and scoring.",
        ),
        click.option(
            "--behavior",
            default=None,
            metavar="NAME[:velocity|:discrete]",
            help="Behaviour series to use (default: the first SpatialSeries under "
            "processing/behavior); NAME:velocity for the derivative of a position series, "
            "NAME:discrete for a discrete variable (one-hot), 'none' for no behaviour. A wrong "
            "name lists the existing ones.",
        ),
    ]
    wrapped: Callable[..., Any] = command
    for option in decorate:
        wrapped = option(wrapped)
    return wrapped
