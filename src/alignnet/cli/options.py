"""Option parsing shared by several commands."""

from __future__ import annotations

import click


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
