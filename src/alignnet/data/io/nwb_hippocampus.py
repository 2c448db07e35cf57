"""Write a place-cell session as a hippocampus lab exports it (NWB, tetrodes, tracked position).

Layout (what tetrode labs' NWB exports look like, nothing AlignNet-specific):

- ``general/devices``: one ``Device`` ``"tetrode_drive"``; one ``ElectrodeGroup`` per
  tetrode (``TT1`` ... ``TT13``, "tetrode"), four electrode rows each (location ``"CA1"``);
- ``units``: one row per sorted unit, its ``spike_times`` (s), its ``electrodes`` link to the
  four wires of its tetrode, its ``electrode_group`` and a ``cell_type`` column
  (``"place"`` / ``"interneuron"``);
- ``processing["behavior"]``: ``Position`` with a ``SpatialSeries`` ``"position"``
  (``[T, D]`` at the camera's time stamps, unit cm or px, dropouts as NaN or 0), and a
  ``BehavioralTimeSeries`` with the discrete ``"region"`` (quadrant / track half);
- no trials table (free foraging: one continuous recording);
- ``subject``, ``session_id``, a timezone-aware ``session_start_time``.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from alignnet.data.io.nwb_write import save_nwbfile
from alignnet.data.synthetic.place_cells import PlaceCellSession


def write_place_cells_nwb(
    session: PlaceCellSession,
    path: str | Path,
    *,
    n_tetrodes: int,
    subject_id: str = "rat01",
    session_id: str = "open-field",
    start: _dt.datetime = _dt.datetime(2026, 3, 2, 10, 0, tzinfo=_dt.timezone.utc),
    notes: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``session`` (from `generate_place_cells`) to ``path`` atomically (layout above)."""
    from pynwb import NWBFile, TimeSeries
    from pynwb.behavior import BehavioralTimeSeries, Position, SpatialSeries
    from pynwb.file import Subject

    path = Path(path)
    nwb = NWBFile(
        session_description="free foraging, place cells on tetrodes (synthetic)",
        identifier=f"{subject_id}-{session_id}",
        session_start_time=start,
        session_id=session_id,
        notes=notes,
        subject=Subject(subject_id=subject_id, species="Rattus norvegicus", sex="M", age="P90D"),
    )
    device = nwb.create_device(name="tetrode_drive", description="microdrive, 13 tetrodes")
    groups = []
    for t in range(n_tetrodes):
        group = nwb.create_electrode_group(
            name=f"TT{t + 1}", description="tetrode", location="CA1", device=device
        )
        groups.append(group)
        for _ in range(4):
            nwb.add_electrode(group=group, location="CA1")
    nwb.add_unit_column(name="cell_type", description="place cell or interneuron (truth)")
    for times, tetrode, label in zip(
        session.unit_times, session.unit_tetrode, session.unit_label, strict=True
    ):
        wires = [4 * int(tetrode) + w for w in range(4)]
        nwb.add_unit(
            spike_times=np.sort(times),
            electrodes=wires,
            electrode_group=groups[int(tetrode)],
            cell_type=label,
        )
    module = nwb.create_processing_module(name="behavior", description="tracked behaviour")
    module.add(
        Position(
            spatial_series=SpatialSeries(
                name="position",
                data=session.position,
                timestamps=session.camera_times,
                reference_frame="arena corner (0, 0)",
                unit=session.unit,
                description="head position from video tracking; dropouts as written",
            )
        )
    )
    module.add(
        BehavioralTimeSeries(
            time_series=TimeSeries(
                name="region",
                data=session.region.astype(np.float64),
                timestamps=session.camera_times,
                unit="n.a.",
                description="arena quadrant (0-3) or track half (0-1)",
            )
        )
    )
    return save_nwbfile(nwb, path, overwrite=overwrite)
