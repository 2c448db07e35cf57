"""Channel policy: how the sorted units of an NWB file become the channels of a `Session`.

Spike sorting is redone every recording day, so the number and identity of units change from
one file to the next. Two policies give the model a well-defined input:

- ``"electrode"``: every unit's spikes are added to the electrode its ``units.electrodes`` link
  points at (its first electrode when it lists several), giving one multi-unit channel per row
  of the electrode table, the same channels every day (what closed-loop BCIs decode). An
  electrode with no unit that day is an all-zero channel and is flagged; an electrode that a
  boolean column of the electrode table marks bad (``bad``, ``is_bad``, ``dead``, ``is_dead``,
  ``exclude``, ``noisy``; or ``good``/``valid``/``is_good`` False) is zeroed and flagged.
- ``"unit"``: each sorted unit is its own channel; each day keeps its own list and count.

``"auto"`` decides from what the file says (`alignnet.data.io.nwb_layout.choose_policy`):
``"unit"`` on tetrodes and probes (units spanning several electrodes, small electrode groups,
dense probe geometry, many units per electrode) and when units are not linked to electrodes;
``"electrode"`` on single-electrode arrays (Utah). The policy is decided here, once, and recorded in the `Session`
(``meta.channel_policy``, ``meta.flagged_channels``, ``meta.array_layout``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.io.nwb_layout import choose_policy
from alignnet.errors import DataError
from alignnet.names import ChannelPolicy

_BAD_COLUMNS = ("bad", "is_bad", "dead", "is_dead", "exclude", "noisy")
_GOOD_COLUMNS = ("good", "valid", "is_good")


@dataclass
class ChannelLayout:
    """The channels a file's units were turned into.

    Attributes:
        policy: ``"electrode"`` or ``"unit"`` (never ``"auto"``).
        spike_times: one sorted float64 array of spike times (s) per channel.
        channel_ids: one label per channel.
        flagged: indices of channels without usable signal (no unit, or marked bad).
        flag_reasons: channel label -> why it was flagged.
        fingerprint: hash of the electrode table's identity (ids, groups) for the
            ``"electrode"`` policy; ``""`` for ``"unit"``.
        reason: why this policy (``"auto: ..."`` when decided from the file).
    """

    policy: str
    spike_times: list[np.ndarray]
    channel_ids: list[str]
    flagged: list[int] = field(default_factory=list)
    flag_reasons: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    reason: str = ""


def _column(table: Any, name: str) -> np.ndarray:
    data = table[name].data[:]
    return np.asarray([v.decode() if isinstance(v, bytes) else v for v in data])


def unit_links(nwbfile: Any, path: Path) -> list[np.ndarray] | None:
    """The electrode-table rows each unit is linked to (``U`` int arrays, each non-empty);
    None when the units are not linked to electrodes.

    Raises:
        DataError: a unit without an electrode, or a link to a row the table does not have.
    """
    units = nwbfile.units
    if "electrodes" not in units.colnames or nwbfile.electrodes is None:
        return None
    n_rows = len(nwbfile.electrodes)
    column = units["electrodes"]
    if hasattr(column, "target") and hasattr(column.target, "data"):  # ragged: index + region
        ends = np.asarray(column.data[:], dtype=np.int64)
        flat = np.asarray(column.target.data[:], dtype=np.int64)
    else:  # one row per unit
        flat = np.asarray(column.data[:], dtype=np.int64).reshape(-1)
        ends = np.arange(1, flat.size + 1)
    starts = np.concatenate([[0], ends[:-1]])
    links = []
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        if b <= a:
            raise DataError(
                f"unit {i} is linked to no electrode", field="units.electrodes", source=path
            )
        links.append(flat[a:b])
    owners = np.repeat(np.arange(len(links)), ends - starts)
    check_electrode_rows(flat, n_rows, units=owners, field="units.electrodes", source=path)
    return links


def check_electrode_rows(
    rows: np.ndarray,
    n_rows: int,
    *,
    field: str,
    source: str | Path,
    units: np.ndarray | None = None,
) -> None:
    """Refuse a unit-to-electrode link outside an electrode table of ``n_rows`` rows.

    Args:
        rows: ``[K]`` linked electrode-table rows (int).
        units: ``[K]`` unit of each link (default: link ``k`` is unit ``k``).

    Raises:
        DataError: naming the first such unit and row.
    """
    bad = np.flatnonzero((rows < 0) | (rows >= n_rows))
    if bad.size:
        unit = int(bad[0]) if units is None else int(units[bad[0]])
        raise DataError(
            f"unit {unit} links to electrode row {int(rows[bad[0]])}, but the electrode table "
            f"has {n_rows} rows",
            field=field,
            source=source,
        )


def unit_electrodes(nwbfile: Any, path: Path) -> np.ndarray | None:
    """``[n_units]`` electrode-table row of each unit (its first linked row); None if unlinked.

    Raises:
        DataError: a unit without an electrode, or a link to a row the table does not have.
    """
    links = unit_links(nwbfile, path)
    return None if links is None else np.asarray([int(r[0]) for r in links], dtype=np.int64)


def electrode_ids(nwbfile: Any) -> list[str]:
    """Labels of the electrode table's rows: its ``channel_id``/``label`` column or row id."""
    table = nwbfile.electrodes
    for name in ("channel_id", "label", "channel_name"):
        if name in table.colnames:
            return [str(v) for v in _column(table, name)]
    return [f"e{int(i)}" for i in table.id.data[:]]


def layout_fingerprint(nwbfile: Any) -> str:
    """A short hash of the electrode table's identity (row ids, labels and groups)."""
    table = nwbfile.electrodes
    groups = (
        [str(getattr(g, "name", g)) for g in table["group"].data[:]]
        if ("group" in table.colnames)
        else []
    )
    key = repr((electrode_ids(nwbfile), groups))
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def bad_electrodes(nwbfile: Any) -> dict[int, str]:
    """Row -> reason, for electrodes a boolean column of the electrode table marks unusable."""
    table = nwbfile.electrodes
    out: dict[int, str] = {}
    for name in table.colnames:
        lower = name.lower()
        if lower not in _BAD_COLUMNS and lower not in _GOOD_COLUMNS:
            continue
        values = _column(table, name)
        if values.dtype.kind not in "biu":
            continue
        marks = values.astype(bool)
        if lower in _GOOD_COLUMNS:
            marks = ~marks
        for row in np.flatnonzero(marks).tolist():
            out.setdefault(int(row), f"electrode table column {name!r}")
    return out


def units_to_channels(
    nwbfile: Any, unit_times: list[np.ndarray], *, policy: ChannelPolicy, path: Path
) -> ChannelLayout:
    """Apply a channel policy to a file's units (see the module docstring).

    Args:
        nwbfile: the open pynwb ``NWBFile``.
        unit_times: each unit's sorted spike times, s, in units-table order.
        policy: ``"auto"``, ``"electrode"`` or ``"unit"``.
        path: the file (for error messages).

    Raises:
        DataError: ``"electrode"`` asked for units without an electrode link, or a unit
            linked to an electrode row that does not exist.
    """
    links = unit_links(nwbfile, path)
    rows = None if links is None else np.asarray([int(r[0]) for r in links], dtype=np.int64)
    reason = f"asked for channels={policy!r}"
    chosen: str = policy
    if policy == "auto":
        chosen, reason = choose_policy(nwbfile, links)
        reason = f"auto: {reason}"
    if chosen == "unit":
        units = nwbfile.units
        if "unit_name" in units.colnames:
            ids = [str(v) for v in _column(units, "unit_name")]
        else:
            ids = [f"unit{int(u)}" for u in units.id.data[:]]
        return ChannelLayout(
            policy="unit", spike_times=list(unit_times), channel_ids=ids, reason=reason
        )
    if rows is None:
        raise DataError(
            "channels='electrode' needs units linked to the electrode table (a units "
            "'electrodes' column); this file has none: use channels='unit'",
            field="units.electrodes",
            source=path,
        )
    ids = electrode_ids(nwbfile)
    bad = bad_electrodes(nwbfile)
    spike_times: list[np.ndarray] = []
    flagged: list[int] = []
    reasons: dict[str, str] = {}
    for row in range(len(ids)):
        mine = [unit_times[u] for u in np.flatnonzero(rows == row)]
        if row in bad:
            spike_times.append(np.zeros(0))
            flagged.append(row)
            reasons[ids[row]] = f"marked bad by the {bad[row]}"
            continue
        if not mine:
            flagged.append(row)
            reasons[ids[row]] = "no sorted unit on this electrode"
        spike_times.append(np.sort(np.concatenate(mine)) if mine else np.zeros(0))
    return ChannelLayout(
        policy="electrode",
        spike_times=spike_times,
        channel_ids=ids,
        flagged=flagged,
        flag_reasons=reasons,
        fingerprint=layout_fingerprint(nwbfile),
        reason=reason,
    )
