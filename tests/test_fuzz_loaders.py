"""Property-based tests: random and mutated bytes and arrays given to every loader (native
session ``.npz``, NWB, ``.mat``, windows files, checkpoints) either load or raise one of the
project's named errors (`alignnet.errors.AlignNetError` subclasses), never anything else."""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alignnet.errors import AlignNetError
from helpers_alignnet import TINY_ALIGNNET, make_windows

torch.set_num_threads(1)

# ALIGNNET_FUZZ_EXAMPLES=500 explores new random examples; by default the same 40 per test
# on every run (fast, and a failure reproduces).
_EXAMPLES = int(os.environ.get("ALIGNNET_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_EXAMPLES or 40,
    deadline=None,
    derandomize=not _EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_WORK: list[Path] = []


def work_dir() -> Path:
    """A temporary folder for this module's files (removed at the end, see `_cleanup`)."""
    if not _WORK:
        _WORK.append(Path(tempfile.mkdtemp(prefix="alignnet-fuzz-")))
    return _WORK[0]


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    for path in _WORK:
        shutil.rmtree(path, ignore_errors=True)


def _session():
    from alignnet.data import Session, SessionMeta, Trials

    times = np.arange(0.0, 2.0 + 1e-9, 0.01)
    return Session(
        0.0,
        2.0,
        np.stack([np.sin(times), np.cos(times)], axis=1),
        times,
        Trials(start=[0.0, 1.0], stop=[1.0, 2.0], target=[0, 1], success=[True, False]),
        SessionMeta(source="fuzz", spike_sampling_rate_hz=30000.0),
        spike_times=[np.array([0.1, 0.5, 1.5]), np.array([0.2, 0.25])],
    )


def _valid_files() -> dict[str, bytes]:
    """One small valid file per format (written once)."""
    import scipy.io

    from alignnet.api import AlignNet
    from alignnet.data.io import save_session, save_windows

    files: dict[str, bytes] = {}
    base = work_dir() / "valid"
    base.mkdir(exist_ok=True)
    files["npz"] = save_session(_session(), base / "s.npz").read_bytes()
    files["nwb"] = save_session(_session(), base / "s.nwb").read_bytes()
    windows = make_windows(n_days=1, trials_per_day=6, n_channels=4, length=8)
    files["windows"] = save_windows(windows, base / "w.npz").read_bytes()
    n = 30
    scipy.io.savemat(
        str(base / "m.mat"),
        {
            "spikes": np.ones((3, n), dtype=np.uint8),
            "handVel": np.zeros((3, n)),
            "handPos": np.zeros((3, n)),
            "time": (np.arange(n) * 0.05)[None, :],
        },
    )
    files["mat"] = (base / "m.mat").read_bytes()
    model = AlignNet(**{**TINY_ALIGNNET, "model.widths": (4,), "model.latent_width": 4})
    model.save(base / "m.ckpt")
    files["ckpt"] = (base / "m.ckpt").read_bytes()
    return files


_VALID: dict[str, bytes] = {}


def valid_file(kind: str) -> bytes:
    """The bytes of a small valid ``kind`` file (not a test argument: too large to print)."""
    if not _VALID:
        _VALID.update(_valid_files())
    return _VALID[kind]


def _loaders() -> dict[str, tuple[str, Callable[[Path], object]]]:
    from alignnet.api import AlignNet
    from alignnet.data.io import load_session, load_windows
    from alignnet.data.io.mat import load_mat_session
    from alignnet.data.io.native import load_session_npz
    from alignnet.data.io.nwb import read_nwb

    return {
        "npz": (".npz", load_session_npz),
        "nwb": (".nwb", read_nwb),
        "mat": (".mat", load_mat_session),
        "windows": (".npz", load_windows),
        "ckpt": (".ckpt", AlignNet.load),
        "dispatch": ("", load_session),  # no suffix: recognised by the first bytes
    }


KINDS = ["npz", "nwb", "mat", "windows", "ckpt"]


def _only_named_errors(kind: str, data: bytes) -> None:
    suffix, load = _loaders()[kind]
    path = work_dir() / f"fuzz-{kind}{suffix}"
    path.write_bytes(data)
    try:
        load(path)
    except AlignNetError:
        pass


mutation = st.tuples(
    st.sampled_from(["flip", "set", "cut", "insert", "delete"]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    st.integers(min_value=0, max_value=255),
    st.integers(min_value=1, max_value=64),
)


def _mutate(data: bytes, ops: list[tuple[str, float, int, int]]) -> bytes:
    buf = bytearray(data)
    for op, where, value, size in ops:
        if not buf:
            break
        i = min(int(where * len(buf)), len(buf) - 1)
        if op == "flip":
            buf[i] ^= value or 0xFF
        elif op == "set":
            buf[i : i + size] = bytes([value]) * len(buf[i : i + size])
        elif op == "cut":
            del buf[i:]
        elif op == "insert":
            buf[i:i] = bytes([value]) * size
        else:
            del buf[i : i + size]
    return bytes(buf)


@pytest.mark.parametrize("kind", [*KINDS, "dispatch"])
@FUZZ
@given(data=st.binary(max_size=2048), magic=st.sampled_from([b"", b"PK\x03\x04", b"\x89HDF\r\n\x1a\n", b"MATLAB 5.0 MAT-file"]))  # fmt: skip
def test_random_bytes(kind: str, data: bytes, magic: bytes) -> None:
    _only_named_errors(kind, magic + data)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_valid_files(kind: str, ops) -> None:
    _only_named_errors(kind, _mutate(valid_file(kind), ops))


# ---------------------------------------------------------------------- random arrays
small_arrays = st.one_of(
    st.builds(
        lambda shape, dtype, fill: np.full(shape, fill).astype(dtype),
        st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=3).map(tuple),
        st.sampled_from(["uint8", "int64", "float32", "float64", "bool", "U3"]),
        st.sampled_from([0, 1, -1, 2.5, np.nan, np.inf]),
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


def _valid_arrays(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _header_variants(header: dict, key: str | None, value: object) -> str:
    if key is None:
        return json.dumps(value)
    return json.dumps({**header, key: value})


@pytest.mark.parametrize("kind", ["npz", "windows"])
@FUZZ
@given(
    drop=st.lists(st.integers(min_value=0, max_value=40), max_size=3),
    replace=st.lists(st.tuples(st.integers(min_value=0, max_value=40), small_arrays), max_size=3),
    header_key=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(
        ["format", "format_version", "version", "bin_s", "meta", "spike_encoding", "channel_ids",
         "behavior_names", "info", "t_start", "t_stop", "behavior_clock", "ground_truth",
         "event_names", "count_bin_s", "behavior_dtype", "voltage", "day_channel_ids",
         "channel_policy"])),
    header_value=json_values,
    touch_header=st.booleans(),
)  # fmt: skip
def test_random_arrays_in_valid_archives(
    kind, drop, replace, header_key, header_value, touch_header
) -> None:
    arrays = _valid_arrays(valid_file(kind))
    names = sorted(arrays)
    for i in drop:
        arrays.pop(names[i % len(names)], None)
    for i, array in replace:
        arrays[names[i % len(names)]] = array
    if touch_header:
        header = json.loads(str(_valid_arrays(valid_file(kind))["header"][()]))
        arrays["header"] = np.array(_header_variants(header, header_key, header_value))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    _only_named_errors(kind, buf.getvalue())


@FUZZ
@given(
    variables=st.dictionaries(
        st.sampled_from(["spikes", "handVel", "handPos", "time", "vel", "pos", "other"]),
        small_arrays,
        min_size=1,
        max_size=5,
    ),
)
def test_random_arrays_in_mat_files(variables) -> None:
    import scipy.io

    buf = io.BytesIO()
    try:
        scipy.io.savemat(buf, variables)
    except Exception:  # scipy cannot write this combination: nothing to load
        return
    _only_named_errors("mat", buf.getvalue())


@FUZZ
@given(
    section=st.sampled_from(["config", "normalizer", "tasks", "readin_days", "bin_s",
                             "model_state", "format_version", "config.model", "config.pretrain",
                             "adapter_days", "reference_latent", "train_state", "data_layout",
                             "days"]),
    value=json_values,
)  # fmt: skip
def test_random_checkpoint_fields(section: str, value) -> None:
    data = torch.load(io.BytesIO(valid_file("ckpt")), weights_only=True)
    if "." in section:
        outer, inner = section.split(".")
        data[outer] = {**data[outer], inner: value}
    else:
        data[section] = value
    buf = io.BytesIO()
    torch.save(data, buf)
    _only_named_errors("ckpt", buf.getvalue())


@FUZZ
@given(
    field=st.sampled_from(["n_channels", "n_behavior", "window_len", "latent_width", "embed_dim"]),
    value=st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.integers(0, 20)),
)
def test_checkpoint_model_sizes_are_bounded(field: str, value: int) -> None:
    """Issue 25: a size outside `alignnet.utils.limits` is a CheckpointError before any
    network is built; any other value loads or gives a named error."""
    from alignnet.api import AlignNet
    from alignnet.errors import CheckpointError
    from alignnet.utils.limits import MAX_CHANNELS, MAX_MODEL_SIZE

    data = torch.load(io.BytesIO(valid_file("ckpt")), weights_only=True)
    data["config"]["model"][field] = value
    path = work_dir() / "sizes.ckpt"
    torch.save(data, path)
    limit = MAX_CHANNELS if field == "n_channels" else MAX_MODEL_SIZE
    if not 0 <= value <= limit:
        with pytest.raises(CheckpointError, match=field):
            AlignNet.load(path)
    else:
        _only_named_errors("ckpt", path.read_bytes())
