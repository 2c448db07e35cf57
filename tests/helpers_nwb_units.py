"""Tiny third-party-style NWB files with sorted units on electrodes (for reader tests)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np


def write_units_nwb(
    path: Path,
    *,
    day: int,
    n_electrodes: int = 8,
    unit_electrodes: list[int] | None = None,
    bad: list[int] | None = None,
    subject: str = "monkeyA",
    seconds: float = 30.0,
    seed: int = 0,
    spike_offset_s: float = 0.0,
    link_units: bool = True,
) -> Path:
    """One day: ``n_electrodes`` electrodes, one unit per entry of ``unit_electrodes``."""
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.behavior import BehavioralTimeSeries
    from pynwb.file import Subject

    rng = np.random.default_rng(seed)
    unit_electrodes = list(range(n_electrodes)) if unit_electrodes is None else unit_electrodes
    nwb = NWBFile(
        session_description="test",
        identifier=f"{subject}-{day}",
        session_start_time=datetime(2026, 1, 5, tzinfo=timezone.utc) + timedelta(days=day),
        session_id=f"day{day}",
        subject=Subject(subject_id=subject),
    )
    device = nwb.create_device(name="utah_array")
    group = nwb.create_electrode_group(
        name="array", description="array", location="M1", device=device
    )
    if bad is not None:
        nwb.add_electrode_column(name="bad", description="dead electrode")
    for e in range(n_electrodes):
        kw = {"bad": e in bad} if bad is not None else {}
        nwb.add_electrode(group=group, location="M1", **kw)
    for e in unit_electrodes:
        times = np.sort(rng.uniform(0, seconds, rng.integers(50, 200))) + spike_offset_s
        if link_units:
            nwb.add_unit(spike_times=times, electrodes=[e])
        else:
            nwb.add_unit(spike_times=times)
    t = np.arange(0, seconds, 0.001)
    vel = np.stack([np.sin(t), np.cos(t)], axis=1)
    module = nwb.create_processing_module(name="behavior", description="behaviour")
    module.add(
        BehavioralTimeSeries(
            time_series=TimeSeries(name="hand_vel", data=vel, timestamps=t, unit="m/s")
        )
    )
    nwb.add_trial_column(name="target", description="target")
    for k in range(int(seconds // 3)):
        nwb.add_trial(start_time=3.0 * k, stop_time=3.0 * k + 2.5, target=k % 4)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path
