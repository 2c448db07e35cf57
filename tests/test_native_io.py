"""Native session files and dataset folders: exact round trip, named errors, no overwrite."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from alignnet.data.io.native import (
    load_session_npz,
    save_session,
    session_from_arrays,
    session_to_arrays,
)
from alignnet.data.io.native_dataset import load_dataset, read_manifest, save_dataset
from alignnet.data.session import Session, SessionMeta, Trials, Voltage
from alignnet.data.synthetic import generate_sessions, make_config
from alignnet.errors import DataError, FileFormatError


@pytest.fixture(scope="module")
def sessions() -> list[Session]:
    return generate_sessions(make_config("tiny", n_days=2), seed=0)


def _with_voltage(s: Session) -> Session:
    rng = np.random.default_rng(0)
    return s.replace(
        voltage=Voltage(
            data=rng.normal(0, 10, (300, 2)).astype(np.float32),
            rate_hz=30000.0,
            t_start=1.5,
            channel_index=[3, 5],
        )
    )


def assert_sessions_equal(a: Session, b: Session) -> None:
    assert a.t_start == b.t_start and a.t_stop == b.t_stop
    assert a.meta == b.meta
    assert (a.spike_times is None) == (b.spike_times is None)
    if a.spike_times is not None:
        assert len(a.spike_times) == len(b.spike_times)
        for x, y in zip(a.spike_times, b.spike_times, strict=True):
            assert x.dtype == y.dtype and np.array_equal(x, y)
    else:
        assert a.spike_counts.dtype == b.spike_counts.dtype
        assert np.array_equal(a.spike_counts, b.spike_counts)
    assert a.count_bin_s == b.count_bin_s and a.count_t_start == b.count_t_start
    assert a.behavior.dtype == b.behavior.dtype and np.array_equal(a.behavior, b.behavior)
    assert np.array_equal(a.behavior_times, b.behavior_times)
    for name in ("start", "stop", "target", "success"):
        x, y = getattr(a.trials, name), getattr(b.trials, name)
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert list(a.trials.events) == list(b.trials.events)
    for k in a.trials.events:
        assert np.array_equal(a.trials.events[k], b.trials.events[k], equal_nan=True)
    assert (a.voltage is None) == (b.voltage is None)
    if a.voltage is not None:
        assert a.voltage.data.dtype == b.voltage.data.dtype
        assert np.array_equal(a.voltage.data, b.voltage.data)
        assert a.voltage.rate_hz == b.voltage.rate_hz and a.voltage.t_start == b.voltage.t_start
        assert np.array_equal(a.voltage.channel_index, b.voltage.channel_index)
    assert set(a.ground_truth) == set(b.ground_truth)
    for k, v in a.ground_truth.items():
        w = b.ground_truth[k]
        if isinstance(v, np.ndarray | np.generic):
            assert type(v) is type(w) and v.dtype == w.dtype and np.array_equal(v, w), k
        else:
            assert v == w, k


def test_synthetic_round_trip_exact(tmp_path, sessions):
    s = _with_voltage(sessions[0])
    path = save_session(s, tmp_path / "d.npz")
    assert_sessions_equal(s, load_session_npz(path))


def test_generic_session_round_trip_float64_times_and_counts(tmp_path):
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0, 10, 50))  # not on any sampling clock
    beh_t = np.sort(rng.uniform(0, 10, 200))  # irregular clock
    beh_t[0], beh_t[-1] = 0.0, 10.0
    meta = SessionMeta(
        subject="m",
        session_id="x",
        day=3,
        extra={"a": [1, 2.5], "b": {"c": "d"}},
        spike_sampling_rate_hz=30000.0,
    )
    trials = Trials(
        start=[0.5, 4.0],
        stop=[3.0, 7.0],
        target=[1, -1],
        success=[True, False],
        events={"go": [1.0, np.nan]},
    )
    s = Session(
        t_start=0.0,
        t_stop=10.0,
        behavior=rng.normal(size=(200, 3)),
        behavior_times=beh_t,
        trials=trials,
        meta=SessionMeta(**{**meta.__dict__, "behavior_names": ["a", "b", "c"]}),
        spike_times=[times, np.zeros(0)],
        ground_truth={"note": "hi", "k": np.int32(4), "m": np.arange(6).reshape(2, 3)},
    )
    save_session(s, tmp_path / "g.npz")
    assert_sessions_equal(s, load_session_npz(tmp_path / "g.npz"))
    assert "spikes__times" in session_to_arrays(s)  # fell back to float64 times

    counts = Session(
        t_start=0.0,
        t_stop=1.0,
        behavior=np.zeros((11, 2)),
        behavior_times=np.linspace(0, 1, 11),
        trials=Trials.single(0.0, 1.0),
        meta=SessionMeta(),
        spike_counts=np.ones((20, 4), np.uint8),
        count_bin_s=0.05,
        count_t_start=0.0,
    )
    save_session(counts, tmp_path / "c.npz")
    assert_sessions_equal(counts, load_session_npz(tmp_path / "c.npz"))


def test_compact_encodings_used_for_synthetic(sessions):
    arrays = session_to_arrays(sessions[0])
    assert "spikes__sample_deltas" in arrays and "spikes__times" not in arrays
    assert arrays["behavior"].dtype == np.float32  # lossless: 16-bit ADC values
    assert "behavior_times" not in arrays  # regular 1 kHz clock stored as t0 + rate
    assert session_from_arrays(arrays).behavior.dtype == np.float64


def test_no_overwrite_without_flag(tmp_path, sessions):
    path = save_session(sessions[0], tmp_path / "d.npz")
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        save_session(sessions[1], path)
    assert path.read_bytes() == before
    save_session(sessions[1], path, overwrite=True)
    assert load_session_npz(path).meta.day == 1


def test_truncated_corrupt_missing_files_name_the_file(tmp_path, sessions):
    path = save_session(sessions[0], tmp_path / "d.npz")
    data = path.read_bytes()
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="trunc.npz"):
        load_session_npz(trunc)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all" * 10)
    with pytest.raises(FileFormatError, match="garbage.npz"):
        load_session_npz(garbage)
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(FileFormatError, match="flipped.npz"):
        load_session_npz(bad)
    with pytest.raises(FileFormatError, match="missing.npz"):
        load_session_npz(tmp_path / "missing.npz")
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(FileFormatError, match="other.npz"):
        load_session_npz(other)


def _rewrite_header(src: Path, dst: Path, change) -> None:
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["header"][()]))
    change(header)
    arrays["header"] = np.array(json.dumps(header))
    np.savez(dst, **arrays)


def test_format_version_checked(tmp_path, sessions):
    path = save_session(sessions[0], tmp_path / "d.npz")
    future = tmp_path / "future.npz"
    _rewrite_header(path, future, lambda h: h.update(format_version=99))
    with pytest.raises(FileFormatError, match=r"future\.npz.*version 99"):
        load_session_npz(future)
    missing = tmp_path / "missing_array.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files if k != "trials__stop"}
    np.savez(missing, **arrays)
    with pytest.raises(FileFormatError, match="missing_array.npz"):
        load_session_npz(missing)


def test_unstorable_ground_truth_rejected(tmp_path, sessions):
    s = sessions[0].replace(ground_truth={"f": object()})
    with pytest.raises(DataError, match="ground_truth.f"):
        save_session(s, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_dataset_round_trip_and_manifest(tmp_path, sessions):
    manifest_path = save_dataset(sessions, tmp_path / "ds", config={"seed": 0, "preset": "tiny"})
    manifest = read_manifest(tmp_path / "ds")
    assert manifest_path.name == "dataset.json"
    assert [e["file"] for e in manifest["files"]] == ["day00.npz", "day01.npz"]
    assert manifest["generator"] == {"seed": 0, "preset": "tiny"}
    loaded = load_dataset(tmp_path / "ds")
    for a, b in zip(sessions, loaded, strict=True):
        assert_sessions_equal(a, b)
    with pytest.raises(FileExistsError):
        save_dataset(sessions, tmp_path / "ds")
    (tmp_path / "ds" / "day01.npz").unlink()
    with pytest.raises(FileFormatError, match="day01.npz"):
        load_dataset(tmp_path / "ds")
    with pytest.raises(FileFormatError, match="dataset.json"):
        load_dataset(tmp_path)
    with pytest.raises(DataError, match="two sessions"):
        save_dataset([sessions[0], sessions[0]], tmp_path / "dup")


def test_no_temporary_files_left(tmp_path, sessions):
    save_dataset(sessions, tmp_path / "ds")
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [
        "dataset.json",
        "day00.npz",
        "day01.npz",
    ]
    assert zipfile.is_zipfile(tmp_path / "ds" / "day00.npz")
