"""NWB writer/reader: exact round trips and a third-party (DANDI-style) file."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from alignnet.data import Session, SessionMeta, Trials, Voltage
from alignnet.data.io import load_session, save_session
from alignnet.data.io.nwb import read_nwb
from alignnet.data.io.nwb_write import write_nwb
from alignnet.errors import DataError

pynwb = pytest.importorskip("pynwb")


def spike_time_session() -> Session:
    rng = np.random.default_rng(0)
    duration = 4.0
    spike_times = [np.sort(rng.uniform(0.0, duration, n)) for n in (40, 0, 13)]
    times = np.arange(0.0, duration + 1e-9, 0.001)
    behavior = np.stack([np.sin(times), np.cos(3 * times)], axis=1)
    trials = Trials(
        start=[0.1, 1.5, 3.0],
        stop=[1.4, 2.9, 3.9],
        target=[2, -1, 7],
        success=[True, False, True],
        events={"go_cue": [0.3, 1.8, 3.2], "move_onset": [0.5, 2.0, 3.4]},
    )
    voltage = Voltage(
        data=rng.normal(0, 20, size=(600, 2)).astype(np.float32),
        rate_hz=30000.0,
        t_start=1.0,
        channel_index=[0, 2],
    )
    meta = SessionMeta(
        subject="monkey-J",
        session_id="J-2025-04-02",
        day=3,
        date="2025-04-02",
        channel_ids=["elec1", "elec2", "elec5"],
        behavior_names=["joy_x", "joy_y"],
        behavior_unit="V",
        spike_sampling_rate_hz=30000.0,
        extra={"rig": "A", "gain": [1, 2]},
    )
    return Session(
        0.0, duration, behavior, times, trials, meta, spike_times=spike_times, voltage=voltage
    ).validate()


def assert_sessions_equal(a: Session, b: Session) -> None:
    assert (a.t_start, a.t_stop) == (b.t_start, b.t_stop)
    np.testing.assert_array_equal(a.behavior, b.behavior)
    np.testing.assert_array_equal(a.behavior_times, b.behavior_times)
    for name in ("start", "stop", "target", "success"):
        np.testing.assert_array_equal(getattr(a.trials, name), getattr(b.trials, name))
    assert a.trials.events.keys() == b.trials.events.keys()
    for key in a.trials.events:
        np.testing.assert_array_equal(a.trials.events[key], b.trials.events[key])
    meta_a = {**vars(a.meta), "source": None}
    meta_b = {**vars(b.meta), "source": None}
    assert meta_a == meta_b


def test_round_trip_spike_times_exact(tmp_path: Path):
    session = spike_time_session()
    path = write_nwb(session, tmp_path / "s.nwb")
    back = read_nwb(path)
    assert_sessions_equal(session, back)
    assert back.meta.source == str(path)
    assert back.spike_counts is None and back.spike_times is not None
    assert len(back.spike_times) == 3
    for a, b in zip(session.spike_times, back.spike_times, strict=True):
        np.testing.assert_array_equal(a, b)
    assert back.voltage is not None and session.voltage is not None
    np.testing.assert_array_equal(back.voltage.data, session.voltage.data)
    np.testing.assert_array_equal(back.voltage.channel_index, [0, 2])
    assert (back.voltage.rate_hz, back.voltage.t_start) == (30000.0, 1.0)
    assert read_nwb(path, load_voltage=False).voltage is None


def test_round_trip_counts_exact_and_dispatch(tmp_path: Path):
    counts = np.random.default_rng(2).poisson(2.0, size=(60, 4)).astype(np.uint8)
    times = 12.5 + 0.05 * (np.arange(60) + 0.5)
    session = Session(
        12.5,
        15.5,
        np.stack([times, times**2, -times, 0 * times], axis=1),  # D = 4: a TimeSeries
        times,
        Trials.single(12.5, 15.5),
        SessionMeta(behavior_names=["a", "b", "c", "d"], date=""),
        spike_counts=counts,
        count_bin_s=0.05,
        count_t_start=12.5,
    ).validate()
    path = save_session(session, tmp_path / "counts.nwb")
    back = load_session(path)
    assert_sessions_equal(session, back)
    np.testing.assert_array_equal(back.spike_counts, counts)
    assert back.spike_counts.dtype == np.uint8
    assert (back.count_bin_s, back.count_t_start) == (0.05, 12.5)
    # recognised by content when the suffix is unknown
    renamed = tmp_path / "counts.h5"
    renamed.write_bytes(path.read_bytes())
    np.testing.assert_array_equal(load_session(renamed).spike_counts, counts)
    with pytest.raises(FileExistsError):
        save_session(session, path)


def write_dandi_style(path: Path, *, units: bool = True, behavior: bool = True) -> None:
    """A file as a third party would write it: no AlignNet metadata."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.file import Subject

    nwbfile = NWBFile(
        session_description="center-out reaching",
        identifier="dandi-0001",
        session_start_time=datetime(2024, 5, 17, 9, 30, tzinfo=timezone.utc),
        session_id="sub-Jenkins_ses-full",
        subject=Subject(subject_id="Jenkins", species="Macaca mulatta"),
    )
    if units:
        nwbfile.add_unit(spike_times=[0.05, 0.5, 1.2, 2.7, 5.5])  # 5.5 s: after behaviour ends
        nwbfile.add_unit(spike_times=[1.0, 1.01, 2.0])
    if behavior:
        module = nwbfile.create_processing_module("behavior", "processed behaviour")
        hand = SpatialSeries(
            name="hand",
            data=np.zeros((300, 2)),
            reference_frame="screen centre",
            rate=100.0,
            starting_time=0.0,
            unit="m",
        )
        cursor = SpatialSeries(
            name="cursor",
            data=np.arange(600, dtype=np.float64).reshape(300, 2),
            reference_frame="screen centre",
            rate=100.0,
            starting_time=0.0,
            unit="mm",
            conversion=0.5,
        )
        module.add(Position(spatial_series=[cursor, hand]))
    nwbfile.add_trial_column("go_cue_time", "go cue, s")
    nwbfile.add_trial_column("condition_id", "reach direction")
    nwbfile.add_trial_column("result", "outcome")
    nwbfile.add_trial(start_time=0.0, stop_time=1.0, go_cue_time=0.2, condition_id=4, result="R")
    nwbfile.add_trial(start_time=1.0, stop_time=2.5, go_cue_time=1.3, condition_id=1, result="F")
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def test_dandi_style_file(tmp_path: Path):
    path = tmp_path / "sub-Jenkins_ses-full_behavior+ecephys.nwb"
    write_dandi_style(path)
    session = read_nwb(path)
    assert session.meta.subject == "Jenkins"
    assert session.meta.session_id == "sub-Jenkins_ses-full"
    assert session.meta.date == "2024-05-17"
    assert session.meta.channel_ids == ["unit0", "unit1"]
    assert session.meta.behavior_unit == "mm"
    # behaviour: first series found (cursor), 100 Hz clock, data * conversion
    np.testing.assert_allclose(session.behavior_times, np.arange(300) * 0.01)
    np.testing.assert_array_equal(session.behavior[3], [3.0, 3.5])
    assert (session.t_start, session.t_stop) == (0.0, 2.99)
    np.testing.assert_array_equal(session.spike_times[0], [0.05, 0.5, 1.2, 2.7])
    assert session.meta.extra["spikes_outside_behavior"] == 1
    np.testing.assert_array_equal(session.trials.target, [4, 1])
    np.testing.assert_array_equal(session.trials.success, [True, True])
    np.testing.assert_array_equal(session.trials.events["go_cue_time"], [0.2, 1.3])
    hand = read_nwb(path, behavior="behavior/Position/hand")
    assert not hand.behavior.any() and hand.meta.behavior_unit == "m"
    assert load_session(path).meta.subject == "Jenkins"


def test_dandi_style_missing_parts(tmp_path: Path):
    write_dandi_style(tmp_path / "no_beh.nwb", behavior=False)
    unlabelled = read_nwb(tmp_path / "no_beh.nwb")  # an unlabelled day: spikes only
    assert not unlabelled.has_behavior and unlabelled.meta.behavior_names == []
    # extent: no acquisition, so from the first spike / trial start to the last spike
    assert unlabelled.meta.extra["extent_from"] == "spikes+trials"
    assert (unlabelled.t_start, unlabelled.t_stop) == (0.0, pytest.approx(5.501))
    write_dandi_style(tmp_path / "no_units.nwb", units=False)
    with pytest.raises(DataError, match="no spikes: the file has no units table"):
        read_nwb(tmp_path / "no_units.nwb")
    with pytest.raises(DataError, match=r"no behaviour series named 'eye'; the file has \["):
        read_nwb(tmp_path / "no_units.nwb", behavior="eye")


def test_load_sessions_folder_sorted_by_day(tmp_path: Path):
    session = spike_time_session()
    for name, day in (("a.nwb", 5), ("b.nwb", 1)):
        meta = SessionMeta(**{**vars(session.meta), "day": day, "session_id": name})
        save_session(session.replace(meta=meta, voltage=None), tmp_path / name)
    from alignnet.data.io import load_sessions

    loaded = load_sessions(tmp_path)
    assert [(s.meta.day, s.meta.session_id) for s in loaded] == [(1, "b.nwb"), (5, "a.nwb")]
