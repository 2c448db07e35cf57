"""Several recordings of one subject as days: consistency checks and calendar day indices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from alignnet.data.registry import UNKNOWN_DATE
from alignnet.data.session import Session
from alignnet.errors import DataError

_UNKNOWN_DATES = ("", UNKNOWN_DATE)


def _name(session: Session) -> str:
    return session.meta.source or session.meta.session_id


def check_same_recording_setup(sessions: Sequence[Session]) -> None:
    """Refuse days that cannot be one dataset: other subjects, channel policies or arrays.

    Raises:
        DataError: naming the first two files that differ and how.
    """
    if len(sessions) < 2:
        return
    first = sessions[0]
    for other in sessions[1:]:
        a, b = first.meta, other.meta
        if "unknown" not in (a.subject, b.subject) and a.subject != b.subject:
            raise DataError(
                f"the folder mixes subjects: {a.subject!r} ({_name(first)}) and {b.subject!r} "
                f"({_name(other)})",
                field="subject",
            )
        if a.channel_policy != b.channel_policy:
            raise DataError(
                f"channel policies differ: {a.channel_policy!r} ({_name(first)}) vs "
                f"{b.channel_policy!r} ({_name(other)})",
                field="channels",
            )
        if a.channel_policy == "electrode" and a.array_layout != b.array_layout:
            only_a = sorted(set(a.channel_ids) - set(b.channel_ids))
            only_b = sorted(set(b.channel_ids) - set(a.channel_ids))
            raise DataError(
                f"electrode tables differ between {_name(first)} ({len(a.channel_ids)} "
                f"electrodes) and {_name(other)} ({len(b.channel_ids)} electrodes): only in "
                f"the first {only_a[:5]}, only in the second {only_b[:5]} (or other electrode "
                "groups): the folder mixes arrays",
                field="electrodes",
            )


def assign_calendar_days(sessions: Sequence[Session]) -> None:
    """Give recordings without their own day index (all ``meta.day`` equal) calendar days.

    ``meta.day`` becomes the number of days since the earliest recording's ``meta.date``
    (from NWB ``session_start_time``), so "days apart" are calendar days. Without dates the
    days are numbered in file-name order; some dated and some not is refused. Sessions that already have distinct days (native
    datasets, synthetic data) are left as they are.

    Raises:
        DataError: two recordings share one date (their order in time is unknown).
    """
    if len(sessions) < 2 or len({s.meta.day for s in sessions}) > 1:
        return
    dates = [s.meta.date[:10] for s in sessions]
    if all(d in _UNKNOWN_DATES for d in dates):
        for i, session in enumerate(sessions):
            session.meta.day = i
        return
    undated = [_name(s) for s, d in zip(sessions, dates, strict=True) if d in _UNKNOWN_DATES]
    if undated:  # numbering all in file order would silently change the dated days too
        raise DataError(
            f"{undated} have no recording date (session_start_time empty or 1970-01-01, "
            "NWB's 'unknown') while the other recordings have one; days are calendar days, "
            "so give them their real date or read them separately",
            field="session_start_time",
        )
    seen: dict[str, str] = {}
    for session, day in zip(sessions, dates, strict=True):
        if day in seen:
            raise DataError(
                f"two recordings on {day}: {seen[day]} and {_name(session)}; days are calendar "
                "days from session_start_time, so each day needs its own date",
                field="session_start_time",
            )
        seen[day] = _name(session)
    parsed = [date.fromisoformat(d) for d in dates]
    origin = min(parsed)
    for session, when in zip(sessions, parsed, strict=True):
        session.meta.day = (when - origin).days
