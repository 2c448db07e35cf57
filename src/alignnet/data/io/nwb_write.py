"""Write a `Session` as an NWB 2 file (the layout is in `alignnet.data.io.nwb`'s docstring);
`alignnet.data.io.nwb.read_nwb` reads it back exactly. A day without behaviour is written
without a ``processing["behavior"]`` module."""

from __future__ import annotations

import json
from datetime import date as date_type
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.registry import UNKNOWN_DATE
from alignnet.data.session import Session, SessionMeta, Trials
from alignnet.utils.atomic import atomic_path
from alignnet.utils.plain import json_default

META_KEY = "alignnet_meta"
BEHAVIOR_NAME = "behavior"
_NO_DATE = datetime.fromisoformat(UNKNOWN_DATE).replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------------- writing
def write_nwb(session: Session, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a session to an NWB 2 file (atomically; see the module docstring for the layout).

    Args:
        session: the session (validated before writing).
        path: destination ``.nwb`` file.
        overwrite: replace an existing file; otherwise an existing file raises
            ``FileExistsError``.

    Returns:
        ``path``.
    """
    session.validate()
    return save_nwbfile(_build_nwbfile(session), path, overwrite=overwrite)


def save_nwbfile(nwbfile: Any, path: str | Path, *, overwrite: bool) -> Path:
    """Write a built ``pynwb.NWBFile`` to ``path`` atomically (`atomic_path`); returns
    ``path``. Without ``overwrite`` an existing file raises ``FileExistsError``."""
    from pynwb import NWBHDF5IO

    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        with NWBHDF5IO(str(tmp), mode="w") as io:
            io.write(nwbfile)
    return path


def _start_time(meta: SessionMeta) -> datetime:
    if not meta.date:
        return _NO_DATE
    try:
        day = date_type.fromisoformat(meta.date[:10])
    except ValueError:
        return _NO_DATE
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _build_nwbfile(session: Session) -> Any:
    from pynwb import NWBFile, TimeSeries
    from pynwb.file import Subject

    meta = session.meta
    nwbfile = NWBFile(
        session_description=f"AlignNet session {meta.session_id}",
        identifier=f"{meta.subject}/{meta.session_id}",
        session_start_time=_start_time(meta),
        session_id=meta.session_id,
        subject=Subject(subject_id=meta.subject),
    )
    meta_json = {
        "format": "alignnet-session-nwb",
        "version": 1,
        "t_start": session.t_start,
        "t_stop": session.t_stop,
        "count_bin_s": session.count_bin_s,
        "count_t_start": session.count_t_start,
        "event_names": list(session.trials.events),
        "meta": {
            "subject": meta.subject,
            "session_id": meta.session_id,
            "day": meta.day,
            "date": meta.date,
            "channel_ids": list(meta.channel_ids),
            "behavior_names": list(meta.behavior_names),
            "behavior_unit": meta.behavior_unit,
            "spike_sampling_rate_hz": meta.spike_sampling_rate_hz,
            "extra": meta.extra,
            "channel_policy": meta.channel_policy,
            "flagged_channels": list(meta.flagged_channels),
            "array_layout": meta.array_layout,
        },
    }
    nwbfile.add_scratch(
        json.dumps(meta_json, default=json_default),
        name=META_KEY,
        description="AlignNet SessionMeta and recording extent (JSON)",
    )

    # Electrodes: one per channel, so units and voltage can point at them.
    device = nwbfile.create_device(name="array", description="recording array")
    group = nwbfile.create_electrode_group(
        name="array", description="all channels", location="unknown", device=device
    )
    nwbfile.add_electrode_column(name="channel_id", description="AlignNet channel id")
    for channel_id in meta.channel_ids:
        nwbfile.add_electrode(group=group, location="unknown", channel_id=str(channel_id))

    if session.spike_times is not None:
        nwbfile.add_unit_column(name="channel_id", description="AlignNet channel id")
        for index, (times, channel_id) in enumerate(
            zip(session.spike_times, meta.channel_ids, strict=True)
        ):
            nwbfile.add_unit(spike_times=times, electrodes=[index], channel_id=str(channel_id))
    else:
        assert session.spike_counts is not None and session.count_bin_s is not None
        assert session.count_t_start is not None  # set together with the counts
        ecephys = nwbfile.create_processing_module(name="ecephys", description="binned spikes")
        ecephys.add(
            TimeSeries(
                name="spike_counts",
                data=session.spike_counts,
                unit="count",
                starting_time=float(session.count_t_start),
                rate=1.0 / session.count_bin_s,
                description="spike counts per bin [n_bins, C]",
            )
        )

    if session.has_behavior:
        _add_behavior(nwbfile, session)
    add_trial_table(nwbfile, session.trials)
    if session.voltage is not None:
        _add_voltage(nwbfile, session)
    return nwbfile


def _add_behavior(nwbfile: Any, session: Session) -> None:
    from pynwb import TimeSeries
    from pynwb.behavior import BehavioralTimeSeries, Position, SpatialSeries

    meta = session.meta
    behavior_module = nwbfile.create_processing_module(name="behavior", description="behaviour")
    if session.n_behavior_dims <= 3:
        series = SpatialSeries(
            name=BEHAVIOR_NAME,
            data=session.behavior,
            timestamps=session.behavior_times,
            reference_frame="as recorded",
            unit=meta.behavior_unit,
            description=",".join(meta.behavior_names),
        )
        behavior_module.add(Position(spatial_series=series))
    else:
        series = TimeSeries(
            name=BEHAVIOR_NAME,
            data=session.behavior,
            timestamps=session.behavior_times,
            unit=meta.behavior_unit,
            description=",".join(meta.behavior_names),
        )
        behavior_module.add(BehavioralTimeSeries(time_series=series))


def add_trial_table(
    nwbfile: Any,
    trials: Trials,
    *,
    target_description: str = "target / condition index (-1 unknown)",
    event_column: str = "{}",
    event_description: str = "event time {}, s",
) -> None:
    """Write ``trials`` as the NWB trials table: start/stop times, ``target``, ``success`` and
    one column per event (times in s), named ``event_column.format(event)``."""
    nwbfile.add_trial_column(name="target", description=target_description)
    nwbfile.add_trial_column(name="success", description="rewarded trial")
    columns = {event_column.format(name): name for name in trials.events}
    for column, name in columns.items():
        nwbfile.add_trial_column(name=column, description=event_description.format(name))
    for i in range(len(trials)):
        nwbfile.add_trial(
            start_time=float(trials.start[i]),
            stop_time=float(trials.stop[i]),
            target=int(trials.target[i]),
            success=bool(trials.success[i]),
            **{column: float(trials.events[name][i]) for column, name in columns.items()},
        )


def _add_voltage(nwbfile: Any, session: Session) -> None:
    from pynwb.ecephys import ElectricalSeries

    voltage = session.voltage
    assert voltage is not None
    region = nwbfile.create_electrode_table_region(
        region=[int(c) for c in voltage.channel_index], description="voltage channels"
    )
    nwbfile.add_acquisition(
        ElectricalSeries(
            name="ElectricalSeries",
            data=np.asarray(voltage.data, dtype=np.float32),
            electrodes=region,
            starting_time=float(voltage.t_start),
            rate=float(voltage.rate_hz),
            conversion=1e-6,
            description="raw voltage, microvolts (conversion to volts 1e-6)",
        )
    )
