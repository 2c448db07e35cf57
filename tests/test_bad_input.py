"""Every bad input raises a DataError that names the problem (and loaders validate)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from alignnet.data import Session, SessionMeta, Trials
from alignnet.data.io import load_session, load_sessions, load_windows
from alignnet.data.io.mat import load_mat_session, load_stevenson_m1
from alignnet.data.io.nwb import read_nwb
from alignnet.data.io.nwb_write import write_nwb
from alignnet.data.preprocess import PreprocessConfig, resample_behavior, session_to_windows
from alignnet.errors import DataError, FileFormatError


def session(**changes) -> Session:
    times = np.arange(0.0, 2.0 + 1e-9, 0.01)
    base = Session(
        0.0,
        2.0,
        np.stack([times, times], axis=1),
        times,
        Trials(start=[0.0, 1.0], stop=[1.0, 2.0], target=[0, 1], success=[True, True]),
        SessionMeta(source="hand-built"),
        spike_times=[np.array([0.1, 0.5, 1.5]), np.array([0.2])],
    )
    return base.replace(**changes)


def write_third_party(path: Path, *, spike_times, behavior, timestamps, trials=True) -> None:
    """An NWB file written with pynwb directly (write_nwb would refuse bad data)."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.behavior import Position, SpatialSeries

    nwbfile = NWBFile("bad", "bad-1", datetime(2024, 1, 1, tzinfo=timezone.utc))
    nwbfile.add_unit(spike_times=spike_times)
    module = nwbfile.create_processing_module("behavior", "behaviour")
    module.add(
        Position(
            spatial_series=SpatialSeries(
                name="cursor", data=behavior, timestamps=timestamps, reference_frame="centre"
            )
        )
    )
    if trials:
        nwbfile.add_trial(start_time=0.0, stop_time=0.5)
    else:  # an empty trials table
        from hdmf.common import VectorData
        from pynwb.epoch import TimeIntervals

        nwbfile.trials = TimeIntervals(
            name="trials",
            description="no rows",
            columns=[
                VectorData(name=name, description="s", data=np.zeros(0))
                for name in ("start_time", "stop_time")
            ],
        )
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


GOOD_TIMES = np.arange(100) * 0.01
GOOD_BEHAVIOR = np.zeros((100, 2))


def test_inf_in_behaviour_is_refused_and_a_nan_sample_is_a_filled_dropout(tmp_path: Path):
    behavior = GOOD_BEHAVIOR.copy()
    behavior[40, 1] = np.inf
    path = tmp_path / "bad_inf.nwb"
    write_third_party(path, spike_times=[0.1], behavior=behavior, timestamps=GOOD_TIMES)
    with pytest.raises(DataError, match=r"field 'behavior': .*cursor: inf values"):
        read_nwb(path)
    behavior = GOOD_BEHAVIOR.copy()
    behavior[:, 1] = np.arange(100.0)
    behavior[40, 1] = np.nan  # one dropped sample (10 ms): interpolated
    path = tmp_path / "nan.nwb"
    write_third_party(path, spike_times=[0.1], behavior=behavior, timestamps=GOOD_TIMES)
    read = read_nwb(path)
    assert read.behavior[40, 1] == pytest.approx(40.0)
    assert read.meta.extra["behavior_gaps"] == {
        "missing_samples": 1,
        "filled_samples": 1,
        "gaps_left": 0,
    }


def test_unsorted_spike_times(tmp_path: Path):
    path = tmp_path / "unsorted.nwb"
    write_third_party(path, spike_times=[0.3, 0.1], behavior=GOOD_BEHAVIOR, timestamps=GOOD_TIMES)
    with pytest.raises(DataError, match="spike times not sorted"):
        read_nwb(path)
    with pytest.raises(DataError, match="spike times not sorted"):
        session(spike_times=[np.array([0.1]), np.array([0.5, 0.2])]).validate()


def test_negative_spike_times():
    with pytest.raises(DataError, match=r"channel 1: negative spike time -0\.100000 s"):
        session(spike_times=[np.array([0.1]), np.array([-0.1, 0.5])]).validate()


def test_spikes_past_recording_end(tmp_path: Path):
    bad = session(spike_times=[np.array([0.1, 2.5]), np.array([0.2])])
    with pytest.raises(DataError, match=r"fall outside the recording 0\.000000\.\.2\.000000 s"):
        bad.validate()
    with pytest.raises(DataError, match="fall outside the recording"):
        write_nwb(bad, tmp_path / "never.nwb")
    assert not (tmp_path / "never.nwb").exists()


def test_behaviour_and_spikes_of_different_durations():
    times = np.arange(0.0, 1.0, 0.01)
    with pytest.raises(DataError, match=r"different durations"):
        session(behavior=np.zeros((100, 2)), behavior_times=times).validate()


def test_zero_trials(tmp_path: Path):
    with pytest.raises(DataError, match="field 'trials': zero trials"):
        session(trials=Trials(start=[], stop=[], target=[], success=[])).validate()
    path = tmp_path / "no_trials.nwb"
    write_third_party(
        path, spike_times=[0.1], behavior=GOOD_BEHAVIOR, timestamps=GOOD_TIMES, trials=False
    )
    with pytest.raises(DataError, match="zero trials"):
        read_nwb(path)


def test_behaviour_timestamps_not_increasing(tmp_path: Path):
    times = GOOD_TIMES.copy()
    times[50] = times[49]
    path = tmp_path / "stamps.nwb"
    write_third_party(path, spike_times=[0.1], behavior=GOOD_BEHAVIOR, timestamps=times)
    with pytest.raises(
        DataError,
        match="field 'behavior_times': time stamps must be finite and strictly increasing",
    ):
        read_nwb(path)
    with pytest.raises(DataError, match="strictly increasing"):
        resample_behavior(times, GOOD_BEHAVIOR, np.array([0.0, 0.5, 1.0]))


def test_missing_files(tmp_path: Path):
    missing = tmp_path / "nope.nwb"
    for loader in (load_session, load_sessions, read_nwb, load_windows, load_stevenson_m1):
        with pytest.raises(FileFormatError, match="not found"):
            loader(missing)


def test_truncated_and_corrupt_files(tmp_path: Path):
    good = write_nwb(session(), tmp_path / "good.nwb")
    data = good.read_bytes()
    (tmp_path / "cut.nwb").write_bytes(data[: len(data) // 3])
    with pytest.raises(
        FileFormatError, match=r"cut\.nwb: .*(not a readable|truncated or corrupt) NWB"
    ):
        load_session(tmp_path / "cut.nwb")
    (tmp_path / "junk.mat").write_bytes(b"this is not a MATLAB file" * 10)
    with pytest.raises(FileFormatError, match="not a readable MATLAB file"):
        load_session(tmp_path / "junk.mat")
    (tmp_path / "junk.xyz").write_bytes(b"\x00" * 64)
    with pytest.raises(FileFormatError, match="unknown session file format"):
        load_session(tmp_path / "junk.xyz")


def test_unknown_mat_layout(tmp_path: Path):
    import scipy.io

    scipy.io.savemat(str(tmp_path / "other.mat"), {"rates": np.zeros((3, 4))})
    with pytest.raises(FileFormatError, match=r"unknown \.mat layout \(variables \['rates'\]\)"):
        load_mat_session(tmp_path / "other.mat")
    scipy.io.savemat(str(tmp_path / "m1_like.mat"), {"spikes": np.zeros((3, 4)), "time": [1.0]})
    with pytest.raises(FileFormatError, match=r"missing variables \['handPos', 'handVel'\]"):
        load_stevenson_m1(tmp_path / "m1_like.mat")


def test_bin_width_the_counts_cannot_take():
    times = 0.025 + 0.05 * np.arange(40)
    counts_session = Session(
        0.0,
        2.0,
        np.zeros((40, 2)),
        times,
        Trials.single(0.0, 2.0),
        SessionMeta(source="counts.npz"),
        spike_counts=np.ones((40, 3), dtype=np.uint8),
        count_bin_s=0.05,
        count_t_start=0.0,
    ).validate()
    with pytest.raises(
        DataError, match="counts.npz: field 'bin_s': 50 ms counts cannot be binned to 20 ms"
    ):
        session_to_windows(counts_session, PreprocessConfig(bin_s=0.02, window_bins=10))


def test_empty_folder(tmp_path: Path):
    with pytest.raises(FileFormatError, match="no session files"):
        load_sessions(tmp_path)
