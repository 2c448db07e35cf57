"""NWB files as other labs write them: several behaviour series or none, tetrodes, probes,
Utah arrays (for the reader, channel-policy and CLI tests)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np


def write_lab_nwb(
    path: Path,
    *,
    day: int = 0,
    unit_times: list[np.ndarray],
    unit_links: list[list[int]],
    groups: list[tuple[str, str, int]] | None = None,
    positions: np.ndarray | None = None,
    device: tuple[str, str] = ("array", "recording array"),
    behavior: dict[str, tuple[np.ndarray, np.ndarray, str]] | None = None,
    module: str = "behavior",
    trials: list[tuple[float, float]] | None = None,
    acquisition_span: tuple[float, float] | None = None,
    subject: str = "lab",
) -> Path:
    """Write one day.

    Args:
        unit_times: spike times (s) of each unit.
        unit_links: electrode rows of each unit (one row, or a tetrode's four).
        groups: ``(name, description, n_electrodes)`` per electrode group, in row order
            (default: one group ``"array"`` of ``max(link) + 1`` electrodes).
        positions: ``[n_electrodes, 2]`` ``rel_x``/``rel_y`` (µm), or None.
        device: name and description of the one device.
        behavior: series name -> ``(data [T, D], timestamps [T], unit)``; each series goes
            in its own ``Position`` (``SpatialSeries``) in ``processing[module]``; None: no
            behaviour module at all (an unlabelled day).
        trials: ``(start, stop)`` s per trial; None: no trials table.
        acquisition_span: ``(t0, t1)``: a 1 kHz ``TimeSeries`` in ``acquisition`` (a sync
            channel) stating the recording's extent.
    """
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.file import Subject

    nwb = NWBFile(
        session_description="lab file",
        identifier=f"{subject}-{day}-{path.stem}",
        session_start_time=datetime(2026, 2, 2, 10, tzinfo=timezone.utc) + timedelta(days=day),
        session_id=f"day{day}",
        subject=Subject(subject_id=subject),
    )
    dev = nwb.create_device(name=device[0], description=device[1])
    n_rows = max(max(links) for links in unit_links) + 1
    groups = groups or [("array", "all electrodes", n_rows)]
    if positions is not None:
        nwb.add_electrode_column(name="rel_x", description="x on the array, um")
        nwb.add_electrode_column(name="rel_y", description="y on the array, um")
    row = 0
    for name, description, n in groups:
        group = nwb.create_electrode_group(
            name=name, description=description, location="CA1", device=dev
        )
        for _ in range(n):
            extra = {}
            if positions is not None:
                extra = {"rel_x": float(positions[row, 0]), "rel_y": float(positions[row, 1])}
            nwb.add_electrode(group=group, location="CA1", **extra)
            row += 1
    for times, links in zip(unit_times, unit_links, strict=True):
        nwb.add_unit(spike_times=np.sort(np.asarray(times, float)), electrodes=list(links))
    if behavior is not None:
        mod = nwb.create_processing_module(name=module, description="behaviour")
        for name, (data, stamps, unit) in behavior.items():
            mod.add(
                Position(
                    name=f"Position_{name}",
                    spatial_series=SpatialSeries(
                        name=name,
                        data=np.asarray(data, float),
                        timestamps=np.asarray(stamps, float),
                        reference_frame="arena corner",
                        unit=unit,
                    ),
                )
            )
    if acquisition_span is not None:
        t0, t1 = acquisition_span
        n = int(round((t1 - t0) * 1000))
        nwb.add_acquisition(
            TimeSeries(
                name="sync", data=np.zeros(n), unit="V", starting_time=float(t0), rate=1000.0
            )
        )
    if trials is not None:
        for start, stop in trials:
            nwb.add_trial(start_time=float(start), stop_time=float(stop))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def tuned_units(
    latent: np.ndarray, times: np.ndarray, n_units: int, *, seed: int, rate_hz: float = 20.0
) -> list[np.ndarray]:
    """Poisson spike trains of ``n_units`` units, each a random positive mix of ``latent``
    ``[T, K]`` sampled at ``times`` ``[T]`` (s) (so behaviour built from it is decodable)."""
    rng = np.random.default_rng(seed)
    dt = float(np.median(np.diff(times)))
    weights = rng.normal(size=(latent.shape[1], n_units))
    drive = latent @ weights
    rates = rate_hz * np.exp(drive - drive.max(axis=0, keepdims=True) + 1.0) / np.e
    counts = rng.poisson(rates * dt)
    out = []
    for u in range(n_units):
        idx = np.repeat(np.arange(times.size), counts[:, u])
        out.append(np.sort(times[idx] + rng.uniform(0, dt, idx.size)))
    return out
