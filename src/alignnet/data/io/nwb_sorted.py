"""Write one recording day as a DANDI-style NWB file of *sorted units* (third-party layout).

This is how multi-day Utah-array data arrive from DANDI and similar archives: spike sorting
is redone every day, so every file has its own units table, each unit linked to the
electrode it was recorded on. `write_sorted_units_nwb` writes exactly that, and nothing that
only AlignNet would read (no ``scratch["alignnet_meta"]``), so the project's NWB reader
meets these files as it would meet a real archive's:

- ``general/devices``: one ``Device`` ``"utah_array"``; ``general/extracellular_ephys``: one
  ``ElectrodeGroup`` ``"array"`` on it.
- ``electrodes``: one row per electrode (row ``i`` = electrode ``i``; ``id`` = ``i`` unless
  ``electrode_ids`` says otherwise), columns ``location``, ``group``, ``group_name``,
  ``rel_x`` / ``rel_y`` (position on the array, micrometres) and, only when
  ``bad_electrodes`` is given, a boolean ``bad`` column.
- ``units``: one row per sorted unit (ids ``0..U-1`` in file order, electrode-major), its
  ``spike_times`` (s, sorted) and its ``electrodes`` link (one electrode row).
- ``processing["behavior"]``: a ``Position`` container holding one ``SpatialSeries``
  ``[T, D]`` with explicit ``timestamps`` (s).
- ``intervals/trials``: ``start_time``, ``stop_time``, ``target`` (int), ``success`` (bool)
  and one float column per trial event, named ``<event>_time`` (s).
- ``subject.subject_id`` (plus species, sex, age), ``session_id``, a timezone-aware
  ``session_start_time``.

No voltage is written. `write_synthetic_day_nwb` turns one synthetic `Session` (with its
ground truth) into such a file: the day's units that fired at least one spike on a live
electrode become the units table (noise spikes and dead electrodes are not sorted units),
and the session date + ``start_time_of_day`` is the ``session_start_time``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.io.nwb_channels import check_electrode_rows
from alignnet.data.io.nwb_write import add_trial_table, save_nwbfile
from alignnet.data.session import Session, Trials
from alignnet.errors import DataError

DEVICE_NAME = "utah_array"
GROUP_NAME = "array"
BEHAVIOR_MODULE = "behavior"
BEHAVIOR_SERIES = "joystick_position"
ELECTRODE_PITCH_UM = 400.0
# A fixed UTC offset (no daylight-saving jumps), so calendar gaps are whole days.
DEFAULT_TZ = _dt.timezone(_dt.timedelta(hours=-5))
DEFAULT_TIME_OF_DAY = _dt.time(9, 30)


def utah_layout(n_electrodes: int, *, pitch_um: float = ELECTRODE_PITCH_UM) -> np.ndarray:
    """``[n_electrodes, 2]`` (x, y) positions in micrometres on a square grid.

    Electrodes fill a ``side x side`` grid row by row (``side = ceil(sqrt(n))``), skipping the
    four corners when there is room for that, as on a 96-electrode 10 x 10 Utah array.
    """
    side = int(np.ceil(np.sqrt(max(n_electrodes, 1))))
    cells = [(x, y) for y in range(side) for x in range(side)]
    if side * side - n_electrodes >= 4 and side > 2:
        corners = {(0, 0), (side - 1, 0), (0, side - 1), (side - 1, side - 1)}
        cells = [c for c in cells if c not in corners]
    return np.asarray(cells[:n_electrodes], dtype=np.float64) * pitch_um


def _check_units(
    unit_spike_times: Sequence[np.ndarray], unit_electrodes: np.ndarray, n_electrodes: int
) -> list[np.ndarray]:
    if len(unit_spike_times) != unit_electrodes.shape[0]:
        raise DataError(
            f"{len(unit_spike_times)} spike trains for {unit_electrodes.shape[0]} electrode links",
            field="unit_electrodes",
            source="write_sorted_units_nwb",
        )
    check_electrode_rows(
        unit_electrodes, n_electrodes, field="unit_electrodes", source="write_sorted_units_nwb"
    )
    out = []
    for u, times in enumerate(unit_spike_times):
        t = np.sort(np.asarray(times, dtype=np.float64).ravel())
        if t.size == 0 or not np.isfinite(t).all():
            problem = "no spike times" if t.size == 0 else "NaN or inf spike times"
            raise DataError(
                f"unit {u}: {problem}", field="unit_spike_times", source="write_sorted_units_nwb"
            )
        out.append(t)
    return out


def write_sorted_units_nwb(
    path: str | Path,
    *,
    unit_spike_times: Sequence[np.ndarray],
    unit_electrodes: Sequence[int] | np.ndarray,
    n_electrodes: int,
    behavior: np.ndarray,
    behavior_times: np.ndarray,
    trials: Trials,
    subject_id: str,
    session_id: str,
    session_start_time: _dt.datetime,
    behavior_unit: str = "a.u.",
    behavior_names: Sequence[str] = ("x", "y"),
    bad_electrodes: np.ndarray | None = None,
    electrode_ids: Sequence[int] | None = None,
    location: str = "primary motor cortex (M1)",
    session_description: str = "Centre-out joystick task, Utah array, sorted units",
    notes: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write one day of sorted units, behaviour and trials as a DANDI-style NWB file.

    The file is written atomically (a temporary file renamed into place); see the module
    docstring for the layout.

    Args:
        path: destination ``.nwb`` file.
        unit_spike_times: ``U`` arrays of spike times, s (any order; written sorted). Every
            unit needs at least one finite spike time.
        unit_electrodes: ``[U]`` electrode row (``0..n_electrodes - 1``) of each unit.
        n_electrodes: rows of the electrode table (electrodes without units are kept).
        behavior: ``[T, D]`` behaviour samples (``D <= 3``), in ``behavior_unit``.
        behavior_times: ``[T]`` sample times, s.
        trials: the trial table (times in s); events become ``<event>_time`` columns.
        subject_id, session_id: written to ``subject.subject_id`` and ``session_id``.
        session_start_time: timezone-aware start of the recording.
        behavior_unit: unit of ``behavior``.
        behavior_names: ``D`` names, written into the series' description.
        bad_electrodes: ``[n_electrodes]`` bool; when given, written as a ``bad`` column.
        electrode_ids: ``[n_electrodes]`` ids of the electrode rows (default ``0..n-1``).
        location: brain area of the array.
        session_description: free text.
        notes: free text (e.g. how the file was made).
        overwrite: replace an existing file (otherwise ``FileExistsError``).

    Returns:
        ``path``.

    Raises:
        DataError: inconsistent inputs (unit without spikes, electrode link out of range,
            naive ``session_start_time``, behaviour / trial shapes).
    """
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb import NWBFile
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.file import Subject

    source = "write_sorted_units_nwb"
    path = Path(path)
    electrodes_of_unit = np.asarray(unit_electrodes, dtype=np.int64).ravel()
    spikes = _check_units(unit_spike_times, electrodes_of_unit, n_electrodes)
    if session_start_time.tzinfo is None:
        raise DataError("must be timezone-aware", field="session_start_time", source=source)
    behavior = np.asarray(behavior, dtype=np.float64)
    behavior_times = np.asarray(behavior_times, dtype=np.float64)
    if behavior.ndim != 2 or behavior.shape[0] != behavior_times.shape[0] or behavior.shape[1] > 3:
        raise DataError(
            f"expected [T, D <= 3] with T = {behavior_times.shape[0]}, got {behavior.shape}",
            field="behavior",
            source=source,
        )
    ids = list(range(n_electrodes)) if electrode_ids is None else [int(i) for i in electrode_ids]
    if len(ids) != n_electrodes:
        raise DataError(
            f"{len(ids)} ids for {n_electrodes} electrodes", field="electrode_ids", source=source
        )

    nwbfile = NWBFile(
        session_description=session_description,
        identifier=f"{subject_id}_{session_id}",
        session_start_time=session_start_time,
        session_id=session_id,
        notes=notes,
        subject=Subject(
            subject_id=subject_id, species="Macaca mulatta", sex="M", age="P8Y", description=""
        ),
    )
    device = nwbfile.create_device(
        name=DEVICE_NAME,
        description=f"{n_electrodes}-electrode Utah array (Blackrock Microsystems)",
    )
    group = nwbfile.create_electrode_group(
        name=GROUP_NAME, description="all electrodes of the array", location=location, device=device
    )
    positions = utah_layout(n_electrodes)
    if bad_electrodes is not None:
        bad = np.asarray(bad_electrodes, dtype=bool).ravel()
        if bad.shape != (n_electrodes,):
            raise DataError(
                f"shape {bad.shape}, expected ({n_electrodes},)", field="bad", source=source
            )
        nwbfile.add_electrode_column(name="bad", description="electrode records no signal")
    for row in range(n_electrodes):
        extra: dict[str, Any] = {} if bad_electrodes is None else {"bad": bool(bad[row])}
        nwbfile.add_electrode(
            id=ids[row],
            group=group,
            location=location,
            rel_x=float(positions[row, 0]),
            rel_y=float(positions[row, 1]),
            **extra,
        )

    order = np.lexsort((np.arange(len(spikes)), electrodes_of_unit))  # electrode-major
    for new_id, u in enumerate(order):
        nwbfile.add_unit(id=new_id, spike_times=spikes[u], electrodes=[int(electrodes_of_unit[u])])

    module = nwbfile.create_processing_module(name=BEHAVIOR_MODULE, description="behaviour")
    module.add(
        Position(
            spatial_series=SpatialSeries(
                name=BEHAVIOR_SERIES,
                data=H5DataIO(behavior, compression="gzip", shuffle=True),
                timestamps=H5DataIO(behavior_times, compression="gzip", shuffle=True),
                reference_frame="joystick centre = (0, 0)",
                unit=behavior_unit,
                description="joystick position (" + ", ".join(behavior_names) + ")",
            )
        )
    )

    add_trial_table(
        nwbfile,
        trials,
        target_description="reach target index (0..n_targets-1)",
        event_column="{}_time",
        event_description="time of {}, s",
    )

    return save_nwbfile(nwbfile, path, overwrite=overwrite)


def sorted_units_of(session: Session) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The sorted units of one synthetic day, rebuilt from its ground truth.

    Units on dead electrodes and units without a spike that day are left out (a spike
    sorter finds neither); noise spikes (``spike_unit == -1``) belong to no unit.

    Args:
        session: a session made by `alignnet.data.synthetic` (needs ``ground_truth`` with
            ``spike_unit``, ``unit_channel``, ``unit_id`` and ``dead_channels``).

    Returns:
        ``(spike_times, electrode, unit_id)``: ``U`` sorted arrays of spike times (s),
        ``[U]`` electrode (channel) index of each unit, ``[U]`` generator unit id (the
        identity across days, not written to the file).
    """
    gt = session.ground_truth or {}
    needed = ("spike_unit", "unit_channel", "unit_id", "dead_channels")
    missing = [k for k in needed if k not in gt]
    if missing or session.spike_times is None:
        raise DataError(
            f"not a synthetic session with ground truth (missing {missing or ['spike_times']})",
            field="ground_truth",
            source=session.meta.session_id,
        )
    times = np.concatenate([np.asarray(t, dtype=np.float64) for t in session.spike_times])
    labels = np.asarray(gt["spike_unit"], dtype=np.int64)
    channel = np.asarray(gt["unit_channel"], dtype=np.int64)
    dead = np.asarray(gt["dead_channels"], dtype=bool)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(channel.shape[0] + 1))
    spike_times, electrode, unit_id = [], [], []
    for row in range(channel.shape[0]):
        t = np.sort(times[order[bounds[row] : bounds[row + 1]]])
        if t.size == 0 or dead[channel[row]]:
            continue
        spike_times.append(t)
        electrode.append(int(channel[row]))
        unit_id.append(int(gt["unit_id"][row]))
    return spike_times, np.asarray(electrode, dtype=np.int64), np.asarray(unit_id, dtype=np.int64)


def write_synthetic_day_nwb(
    session: Session,
    path: str | Path,
    *,
    mark_bad_electrodes: bool = False,
    time_of_day: _dt.time = DEFAULT_TIME_OF_DAY,
    tz: _dt.tzinfo = DEFAULT_TZ,
    notes: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a synthetic day (from `alignnet.data.synthetic`) as a sorted-units NWB file.

    Args:
        session: one generated day; its ``meta.date`` (the generator's start date + the
            calendar day) gives the date of ``session_start_time``.
        path: destination ``.nwb`` file.
        mark_bad_electrodes: also write the ``bad`` electrode column (the day's dead
            electrodes); off by default, as most archive files do not have one (a dead
            electrode is then simply one without units).
        time_of_day, tz: clock time and timezone of ``session_start_time``.
        notes: free text stored in the file's ``notes``.
        overwrite: replace an existing file.

    Returns:
        ``path``.
    """
    meta = session.meta
    spike_times, electrode, _ = sorted_units_of(session)
    if not meta.date:
        raise DataError("synthetic session without a date", field="date", source=meta.session_id)
    start = _dt.datetime.combine(_dt.date.fromisoformat(meta.date[:10]), time_of_day, tzinfo=tz)
    dead = np.asarray(session.ground_truth["dead_channels"], dtype=bool)
    return write_sorted_units_nwb(
        path,
        unit_spike_times=spike_times,
        unit_electrodes=electrode,
        n_electrodes=session.n_channels,
        behavior=session.behavior,
        behavior_times=session.behavior_times,
        trials=session.trials,
        subject_id=meta.subject,
        session_id=meta.session_id,
        session_start_time=start,
        behavior_unit=meta.behavior_unit,
        behavior_names=meta.behavior_names,
        bad_electrodes=dead if mark_bad_electrodes else None,
        notes=notes,
        overwrite=overwrite,
    )
