"""Synthetic multi-day Utah-array regime written as DANDI-style sorted-units NWB files.

The files are read back with pynwb directly (the project's reader has its own tests).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from alignnet.data.io.nwb_sorted import (
    sorted_units_of,
    write_sorted_units_nwb,
    write_synthetic_day_nwb,
)
from alignnet.data.session import Trials
from alignnet.data.synthetic import generate_sessions, make_config
from alignnet.errors import DataError

pynwb = pytest.importorskip("pynwb")

SEED = 0


@pytest.fixture(scope="module")
def tiny_days(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``nwb-tiny`` (seed 0) generated once and written as ``dayNN.nwb`` files."""
    config = make_config("nwb-tiny")
    sessions = generate_sessions(config, seed=SEED)
    out = tmp_path_factory.mktemp("nwb_tiny")
    paths = {
        s.meta.day: write_synthetic_day_nwb(s, out / f"day{s.meta.day:02d}.nwb") for s in sessions
    }
    return {"config": config, "sessions": {s.meta.day: s for s in sessions}, "paths": paths}


def _read(path: Path) -> dict:
    """What a third-party reader would take from one file (pynwb only)."""
    with pynwb.NWBHDF5IO(str(path), mode="r") as io:
        f = io.read()
        units = f.units
        links = units["electrodes"]  # ragged: one electrode row per unit here
        starts = np.concatenate([[0], links.data[:]])
        spike_times = [np.asarray(units["spike_times"][i]) for i in range(len(units))]
        series = f.processing["behavior"]["Position"]["joystick_position"]
        return {
            "n_units": len(units),
            "links_per_unit": np.diff(starts),
            "unit_electrode": np.asarray(links.target.data[:]),
            "spike_times": spike_times,
            "n_electrodes": len(f.electrodes),
            "electrode_ids": np.asarray(f.electrodes.id.data[:]),
            "electrode_columns": tuple(f.electrodes.colnames),
            "devices": sorted(f.devices),
            "groups": sorted(f.electrode_groups),
            "start": f.session_start_time,
            "subject": f.subject.subject_id,
            "session_id": f.session_id,
            "trial_columns": tuple(f.trials.colnames),
            "n_trials": len(f.trials),
            "target": np.asarray(f.trials["target"].data[:]),
            "behavior_shape": series.data.shape,
            "behavior_times": np.asarray(series.timestamps[:]),
            "scratch": dict(f.scratch),
        }


def test_recording_calendar_and_presets() -> None:
    for name, n_electrodes in (("nwb-turnover", 96), ("nwb-gain", 96), ("nwb-tiny", 16)):
        config = make_config(name)
        assert config.n_channels == n_electrodes
        assert config.recording_days is not None and len(config.recording_days) == config.n_days
        assert not config.voltage.enabled
    assert make_config("nwb-turnover").day_indices == [0, 1, 2, 3, 7, 14, 30]
    assert make_config("nwb-gain").drift.dead_channel_prob == 0.0
    assert make_config("tiny").day_indices == [0, 1, 2]  # the old presets are unchanged
    with pytest.raises(DataError, match="recording_days"):
        make_config("nwb-tiny", recording_days=(0, 3))  # n_days = 4
    with pytest.raises(DataError, match="recording_days"):
        make_config("nwb-tiny", recording_days=(0, 5, 5, 9))
    with pytest.raises(DataError, match="recording days"):
        generate_sessions(make_config("nwb-tiny"), seed=SEED, days=[2])


def test_round_trip_of_the_config_keeps_the_calendar() -> None:
    from alignnet.data.synthetic import SyntheticConfig

    config = make_config("nwb-tiny")
    again = SyntheticConfig.from_dict(config.to_dict())
    assert again == config and again.recording_days == (0, 1, 5, 12)


def test_a_calendar_day_is_the_same_alone(tiny_days: dict) -> None:
    alone = generate_sessions(tiny_days["config"], seed=SEED, days=[5])[0]
    full = tiny_days["sessions"][5]
    assert alone.meta.day == 5 and alone.meta.date == full.meta.date
    for a, b in zip(alone.spike_times, full.spike_times, strict=True):
        np.testing.assert_array_equal(a, b)


def test_files_look_like_an_archive(tiny_days: dict) -> None:
    for day, path in tiny_days["paths"].items():
        got = _read(path)
        assert path.name == f"day{day:02d}.nwb"
        assert got["scratch"] == {}  # no AlignNet-private metadata
        assert got["devices"] == ["utah_array"] and got["groups"] == ["array"]
        assert got["n_electrodes"] == 16 and "location" in got["electrode_columns"]
        assert got["subject"] == "synthetic-utah-monkey"
        assert got["session_id"] == f"synthetic-day{day:02d}"
        assert got["start"].tzinfo is not None
        # trials and behaviour
        assert got["n_trials"] == 40
        for column in ("start_time", "stop_time", "target", "success", "move_onset_time"):
            assert column in got["trial_columns"]
        assert set(np.unique(got["target"])) <= set(range(8))
        assert got["behavior_shape"][1] == 2
        assert got["behavior_shape"][0] == got["behavior_times"].shape[0] > 1000
        assert np.all(np.diff(got["behavior_times"]) > 0)
        # units: every unit has spikes and exactly one link to an existing electrode row
        assert got["n_units"] > 0
        assert np.all(got["links_per_unit"] == 1)
        assert got["unit_electrode"].min() >= 0
        assert got["unit_electrode"].max() < got["n_electrodes"]
        for times in got["spike_times"]:
            assert times.size > 0 and np.all(np.diff(times) >= 0)


def test_units_turn_over_and_dead_electrodes_have_none(tiny_days: dict) -> None:
    reads = {day: _read(path) for day, path in tiny_days["paths"].items()}
    counts = [reads[d]["n_units"] for d in sorted(reads)]
    assert len(set(counts)) > 1, counts  # unit counts differ between days

    n_dead = 0
    for day, session in tiny_days["sessions"].items():
        dead = np.flatnonzero(session.ground_truth["dead_channels"])
        n_dead += dead.size
        assert not np.isin(reads[day]["unit_electrode"], dead).any()
        # the file's units are exactly the day's sorted units (same electrodes, same spikes)
        times, electrode, _ = sorted_units_of(session)
        assert reads[day]["n_units"] == len(times)
        np.testing.assert_array_equal(np.sort(reads[day]["unit_electrode"]), np.sort(electrode))
        total = sum(t.size for t in reads[day]["spike_times"])
        assert total == sum(t.size for t in times)
    assert n_dead > 0  # seed 0 of nwb-tiny has dead electrodes on later days
    assert not tiny_days["sessions"][0].ground_truth["dead_channels"].any()

    ids = {day: set(sorted_units_of(s)[2].tolist()) for day, s in tiny_days["sessions"].items()}
    assert ids[0] != ids[12]
    assert len(ids[0] - ids[12]) > len(ids[0] - ids[1])  # turnover grows with the gap


def test_dates_follow_the_calendar(tiny_days: dict) -> None:
    starts = {day: _read(path)["start"] for day, path in tiny_days["paths"].items()}
    days = sorted(starts)
    assert days == [0, 1, 5, 12]
    for day in days:
        assert starts[day] - starts[0] == dt.timedelta(days=day)


def _trials() -> Trials:
    return Trials(start=[0.0], stop=[2.5], target=[1], success=[True], events={"go": [0.5]})


def test_writer_rejects_bad_units(tmp_path: Path) -> None:
    common = {
        "n_electrodes": 4,
        "behavior": np.zeros((10, 2)),
        "behavior_times": np.linspace(0.0, 2.5, 10),
        "trials": _trials(),
        "subject_id": "m",
        "session_id": "s",
        "session_start_time": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    }
    with pytest.raises(DataError, match="electrode row 4"):
        write_sorted_units_nwb(
            tmp_path / "a.nwb", unit_spike_times=[[0.1]], unit_electrodes=[4], **common
        )
    with pytest.raises(DataError, match="no spike times"):
        write_sorted_units_nwb(
            tmp_path / "b.nwb", unit_spike_times=[[]], unit_electrodes=[0], **common
        )
    with pytest.raises(DataError, match="timezone"):
        write_sorted_units_nwb(
            tmp_path / "c.nwb",
            unit_spike_times=[[0.1]],
            unit_electrodes=[0],
            **{**common, "session_start_time": dt.datetime(2025, 1, 1)},
        )
    assert list(tmp_path.iterdir()) == []  # nothing half-written

    path = write_sorted_units_nwb(
        tmp_path / "ok.nwb",
        unit_spike_times=[[0.3, 0.1], [0.2]],
        unit_electrodes=[2, 0],
        bad_electrodes=np.array([False, True, False, False]),
        **common,
    )
    with pynwb.NWBHDF5IO(str(path), mode="r") as io:
        f = io.read()
        assert list(f.electrodes["bad"].data[:]) == [False, True, False, False]
        assert list(f.units["electrodes"].target.data[:]) == [0, 2]  # electrode-major order
        np.testing.assert_array_equal(f.units["spike_times"][1], [0.1, 0.3])
        assert "go_time" in f.trials.colnames


def test_cli_writes_nwb_days(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from alignnet.cli.data_synth import synth

    out = tmp_path / "nwb"
    args = ["--preset", "nwb-tiny", "--seed", "0", "--out", str(out), "--format", "nwb"]
    result = CliRunner().invoke(synth, [*args, "--days", "0,5"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    # each day's true rates (the simulation ceiling) stand beside its NWB file
    assert names == ["day00.nwb", "day00.true_rates", "day05.nwb", "day05.true_rates"]
    assert _read(out / "day05.nwb")["scratch"] == {}

    bad = CliRunner().invoke(synth, [*args, "--days", "2", "--overwrite"])
    assert bad.exit_code != 0 and "[0, 1, 5, 12]" in bad.output
