"""`DayRegistry`: the recording days a model knows, in one place.

A model (`alignnet.api.AlignNet`) keeps one registry: the channel policy and electrode-array
fingerprint of its training data, the calendar date of day 0, and per day its date, channel
labels, whether it has its own spike statistics (per-day normalisation) and whether it has its
own read-in/read-out (and its input width). The API, the CLI (`align`, `decode`, ...),
`alignnet.realtime` and the estimator ask it instead of recomputing days; checkpoints store it
(``"days"``; older checkpoints are rebuilt from their ``data_layout`` (the recording setup:
channel policy, array fingerprint, day-0 date) and ``adapter_days`` entries).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.errors import DataError
from alignnet.names import applied_policy

#: The date readers write when a file has no session date (NWB's "unknown" start time).
UNKNOWN_DATE = "1970-01-01"


def known_date(text: object) -> str:
    """The ISO date (``YYYY-MM-DD``) in ``text``, or "" when it is empty or `UNKNOWN_DATE`."""
    day = str(text or "")[:10]
    return "" if day in ("", UNKNOWN_DATE) else day


def days_between(origin: str, when: str) -> int:
    """Calendar days from ISO date ``origin`` to ISO date ``when``."""
    return (date.fromisoformat(when) - date.fromisoformat(origin)).days


def day_zero_date(sessions: list[dict[str, Any]]) -> str:
    """ISO date of day 0 from windows' session records (``date`` minus ``day``); "" if none
    has a real date."""
    for s in sessions:
        text = known_date(s.get("date", ""))
        if text:
            try:
                return (date.fromisoformat(text) - timedelta(days=int(s["day"]))).isoformat()
            except (ValueError, KeyError):
                continue
    return ""


@dataclass
class DayRecord:
    """One recording day a model knows.

    Attributes:
        date: ISO date, or "" where unknown.
        channel_ids: the day's channel labels (empty where not recorded).
        stats: the day has its own spike statistics (per-day normalisation).
        adapter: input width ``N_d`` of the day's own read-in/read-out, or None (none).
        aligned: the day was added by `AlignNet.align` (not a training day).
    """

    date: str = ""
    channel_ids: tuple[str, ...] = ()
    stats: bool = False
    adapter: int | None = None
    aligned: bool = False


@dataclass
class DayRegistry:
    """The days of a model and the recording setup they share.

    Attributes:
        channel_policy: how channels were formed (`alignnet.names.AppliedPolicy`); "" before
            the first training data.
        array_layout: fingerprint of the electrode table ("" where unknown or mixed).
        origin_date: ISO date of day 0 ("" without dated recordings).
        days: day index -> `DayRecord`.
    """

    channel_policy: str = ""
    array_layout: str = ""
    origin_date: str = ""
    days: dict[int, DayRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.channel_policy = applied_policy(self.channel_policy)  # "channel" in old files

    # ------------------------------------------------------------------ building
    @staticmethod
    def setup_of(windows: Windows) -> dict[str, str]:
        """Channel policy, array fingerprint and day-0 date of ``windows``."""
        sessions = windows.info.get("sessions", [])
        arrays = {s.get("array_layout", "") for s in sessions} - {""}
        return {
            "channel_policy": windows.channel_policy,
            "array_layout": arrays.pop() if len(arrays) == 1 else "",
            "origin_date": day_zero_date(sessions),
        }

    @property
    def started(self) -> bool:
        """Whether the registry has seen training data (its recording setup is fixed)."""
        return bool(self.channel_policy or self.array_layout or self.origin_date or self.days)

    def check(self, windows: Windows, *, source: str) -> None:
        """Refuse windows from another channel policy or electrode array than the registry's;
        the first windows set them.

        Raises:
            DataError: naming the field that differs.
        """
        setup = self.setup_of(windows)
        if not self.started:
            self.channel_policy = setup["channel_policy"]
            self.array_layout = setup["array_layout"]
            self.origin_date = setup["origin_date"]
            return
        mine = {"channel_policy": self.channel_policy, "array_layout": self.array_layout}
        for key, what in (("channel_policy", "channel policy"), ("array_layout", "array layout")):
            if mine[key] and setup[key] and mine[key] != setup[key]:
                raise DataError(
                    f"this model was trained on data with {what} {mine[key]!r}; these windows "
                    f"have {setup[key]!r}",
                    field=key,
                    source=source,
                )

    def _record(self, day: int) -> DayRecord:
        return self.days.setdefault(int(day), DayRecord())

    def note_windows(self, windows: Windows) -> None:
        """Record the dates and channel labels of the days in ``windows``."""
        dates = {
            int(s["day"]): known_date(s.get("date", ""))
            for s in windows.info.get("sessions", [])
            if "day" in s
        }
        for d in windows.days.tolist():
            rec = self._record(d)
            rec.date = dates.get(int(d), rec.date) or rec.date
            rec.channel_ids = tuple(windows.channel_ids_of(int(d))) or rec.channel_ids

    def note_stats(self, days: list[int] | np.ndarray) -> None:
        """Mark ``days`` as having their own spike statistics."""
        for d in np.asarray(days).tolist():
            self._record(d).stats = True

    def note_adapter(self, day: int, width: int) -> None:
        """Mark ``day`` as having its own read-in of ``width`` inputs."""
        self._record(day).adapter = int(width)

    # ------------------------------------------------------------------ queries
    def knows(self, day: int) -> bool:
        """Whether ``day`` has its own statistics or read-in (seen in training or aligned)."""
        rec = self.days.get(int(day))
        return rec is not None and (rec.stats or rec.adapter is not None)

    def has_adapter(self, day: int) -> bool:
        """Whether ``day`` has its own read-in/read-out."""
        rec = self.days.get(int(day))
        return rec is not None and rec.adapter is not None

    def adapter_days(self) -> dict[int, int]:
        """Day -> read-in width, for every day with its own read-in."""
        return {d: r.adapter for d, r in sorted(self.days.items()) if r.adapter is not None}

    def adapter_width(self, day: int, default: int) -> int:
        """The input width of ``day``'s read-in, or ``default`` (the model's C) without one."""
        rec = self.days.get(int(day))
        return default if rec is None or rec.adapter is None else rec.adapter

    def note_aligned(self, day: int) -> None:
        """Mark ``day`` as added by alignment (it may be aligned again)."""
        self._record(day).aligned = True

    def trained_days(self) -> list[int]:
        """Known days (own statistics or read-in) that alignment did not add, sorted."""
        return sorted(d for d, r in self.days.items() if self.knows(d) and not r.aligned)

    def stats_days(self) -> list[int]:
        """The days with their own spike statistics, sorted."""
        return sorted(d for d, r in self.days.items() if r.stats)

    def calendar_day(self, when: str) -> int | None:
        """Day index of a recording dated ``when`` counted from day 0, or None (no date)."""
        when = known_date(when)
        if not self.origin_date or not when:
            return None
        return days_between(self.origin_date, when)

    def next_day(self) -> int:
        """One past the last known day.

        Raises:
            DataError: the registry knows no day.
        """
        known = [d for d in self.days if self.knows(d)]
        if not known:
            raise DataError("the new day has no date; pass --day", field="day")
        return max(known) + 1

    def on_calendar(self, windows: Windows) -> Windows:
        """``windows`` with day indices counted in calendar days from this registry's day 0.

        A recording read on its own is day 0 of its folder; against a model trained on other
        days its day is its date minus day 0's date. Windows without dates, or a registry
        without a day-0 date, are returned unchanged.
        """
        sessions = windows.info.get("sessions", [])
        if not self.origin_date or not sessions:
            return windows
        mapping = {}
        for s in sessions:
            index = self.calendar_day(str(s.get("date", "")))
            if index is None:
                return windows
            mapping[int(s["day"])] = index
        if all(k == v for k, v in mapping.items()):
            return windows
        day = np.array([mapping.get(int(d), int(d)) for d in windows.day], dtype=np.int64)
        ids = {mapping.get(d, d): v for d, v in windows.day_channel_ids.items()}
        return dataclasses.replace(windows, day=day, day_channel_ids=ids)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON/torch-serialisable form (see `from_dict`)."""
        return {
            "channel_policy": self.channel_policy,
            "array_layout": self.array_layout,
            "origin_date": self.origin_date,
            "days": {
                str(d): {
                    "date": r.date,
                    "channel_ids": list(r.channel_ids),
                    "stats": r.stats,
                    "adapter": r.adapter,
                    "aligned": r.aligned,
                }
                for d, r in sorted(self.days.items())
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DayRegistry:
        """Inverse of `to_dict`."""
        days = {
            int(d): DayRecord(
                date=str(r.get("date", "")),
                channel_ids=tuple(str(c) for c in r.get("channel_ids", [])),
                stats=bool(r.get("stats", False)),
                adapter=None if r.get("adapter") is None else int(r["adapter"]),
                aligned=bool(r.get("aligned", False)),
            )
            for d, r in dict(data.get("days", {})).items()
        }
        return cls(
            channel_policy=str(data.get("channel_policy", "")),
            array_layout=str(data.get("array_layout", "")),
            origin_date=str(data.get("origin_date", "")),
            days=days,
        )

    @classmethod
    def from_legacy(
        cls,
        *,
        setup: dict[str, str] | None,
        adapter_days: dict[Any, Any],
        stats_days: list[int],
    ) -> DayRegistry:
        """A registry for a checkpoint written before registries existed (``setup``: its
        ``data_layout`` entry, the recording setup)."""
        recorded = dict(setup or {})
        out = cls(
            channel_policy=str(recorded.get("channel_policy", "")),
            array_layout=str(recorded.get("array_layout", "")),
            origin_date=str(recorded.get("origin_date", "")),
        )
        out.note_stats(stats_days)
        for d, n in adapter_days.items():
            out.note_adapter(int(d), int(n))
        return out
