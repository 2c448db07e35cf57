"""Issue 25, inputs: documented bounds checked before any allocation, checkpoint integrity,
no silently wrong day numbers, and named errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from alignnet.cli.main import cli
from alignnet.data.io import load_sessions, load_windows, save_windows
from alignnet.errors import CheckpointError, DataError, FileFormatError
from helpers_alignnet import TINY_ALIGNNET, make_windows

torch.set_num_threads(1)
TRAIN = ["--batch-size", "8", "--neuron", "relu", "--device", "cpu"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A windows file and a decode checkpoint (per-day statistics of days 0 and 1)."""
    from alignnet.api import AlignNet

    root = tmp_path_factory.mktemp("bounds")
    windows = make_windows(n_days=2, trials_per_day=12, n_channels=8, length=16)
    path = save_windows(windows, root / "w.npz")
    model = AlignNet(**TINY_ALIGNNET, epochs=1)
    model.pretrain(windows, progress=False)
    model.finetune(windows, task="decode", progress=False)
    ckpt = root / "decode.ckpt"
    model.save(ckpt)
    return {"windows": path, "ckpt": ckpt, "root": root}


def crafted_checkpoint(small, tmp_path: Path, change) -> Path:
    """The small checkpoint with ``change(payload)`` applied, saved as a raw torch file."""
    data = torch.load(small["ckpt"], weights_only=True)
    change(data)
    path = tmp_path / "crafted.ckpt"
    torch.save(data, path)
    return path


# ---------------------------------------------------------------------- bounds
@pytest.mark.parametrize("command", ["pretrain", "synth"])
def test_huge_day_range_is_refused_before_it_is_built(tmp_path, small, command):
    if command == "pretrain":
        res = invoke("pretrain", small["windows"], "--out", tmp_path / "x.ckpt",
                     "--days", "0-99999999999", *TRAIN)  # fmt: skip
    else:
        res = invoke("data", "synth", "--preset", "tiny", "--out", tmp_path / "ds",
                     "--days", "0-99999999999")  # fmt: skip
    assert res.exit_code == 2 and "--days" in res.output, res.output


@pytest.mark.parametrize(
    "args",
    [
        ["--epochs", "99999999999"],
        ["--seed", "99999999999999999999"],
    ],
)
def test_huge_epochs_and_seeds_are_usage_errors(tmp_path, small, args):
    res = invoke("pretrain", small["windows"], "--out", tmp_path / "x.ckpt", *TRAIN, *args)
    assert res.exit_code == 2, (res.output, res.exception)
    assert "Traceback" not in res.output


def test_warm_up_is_not_stretched_over_a_huge_planned_run():
    from alignnet.engine.loop import MAX_WARMUP_STEPS, warmup_steps

    assert warmup_steps(0.05, 1000) == 50
    assert warmup_steps(0.05, 10**12) == MAX_WARMUP_STEPS


def test_finetune_epochs_is_a_maximum(tmp_path, small):
    out = tmp_path / "f.ckpt"
    res = invoke("finetune", small["ckpt"], small["windows"], "--task", "decode",
                 "--out", out, "--epochs", "1")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert ": 1 epochs," in res.output, res.output  # not raised to the 300-step minimum


@pytest.mark.parametrize(
    "args",
    [
        ["--smooth-sigma-bins", "nan"],
        ["--trial-offset-ms", "nan"],
        ["--smooth-truncate", "inf"],
        ["--window-bins", "999999999999"],
    ],
)
def test_preprocess_non_finite_or_huge_options_are_usage_errors(tmp_path, small, args):
    res = invoke("data", "preprocess", small["root"], "--out", tmp_path / "w.npz", *args)
    assert res.exit_code == 2, (res.output, res.exception)


@pytest.mark.parametrize("rate", ["nan", "1e308", "inf"])
def test_profile_rate_must_be_finite_and_bounded(small, rate):
    res = invoke("profile", small["ckpt"], "--rate-hz", rate)
    assert res.exit_code == 2, (res.output, res.exception)


def test_npz_that_expands_past_the_cap_is_refused_before_reading(tmp_path, small, monkeypatch):
    bomb = tmp_path / "bomb.npz"
    windows = load_windows(small["windows"])
    big = np.zeros((4096, 1024), dtype=np.float64)  # 32 MiB of zeros: ~32 KiB compressed
    np.savez_compressed(bomb, header=np.array("x"), pad=big, spikes=windows.spikes)
    assert bomb.stat().st_size < 2**20
    monkeypatch.setenv("ALIGNNET_MAX_NPZ_BYTES", str(2**24))
    with pytest.raises(FileFormatError, match="ALIGNNET_MAX_NPZ_BYTES"):
        load_windows(bomb)
    with pytest.raises(FileFormatError, match="ALIGNNET_MAX_NPZ_BYTES"):
        load_sessions(bomb)


# ---------------------------------------------------------------------- checkpoint integrity
def test_altered_weights_fail_the_crc_check(tmp_path, small):
    from alignnet.api import AlignNet

    path = tmp_path / "altered.ckpt"
    raw = bytearray(small["ckpt"].read_bytes())
    with zipfile.ZipFile(small["ckpt"]) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)  # the largest weight tensor
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.file_size // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="CRC"):
        AlignNet.load(path)


@pytest.mark.parametrize(
    "field",
    [
        "n_channels",
        "adapter_key",
        "adapter_size",
        "reference",
        "train_state",
        "readin",
        "registry_width",
    ],
)
def test_crafted_checkpoint_fields_are_checkpoint_errors(tmp_path, small, field):
    from alignnet.api import AlignNet

    def change(data):
        if field == "n_channels":
            data["config"]["model"]["n_channels"] = 10**9
        elif field == "adapter_key":
            data["adapter_days"] = {"x": 8}
        elif field == "adapter_size":
            data["adapter_days"] = {"3": 10**9}
        elif field == "reference":
            data["reference_latent"] = {"mean": "abc", "cov": [[1.0]]}
        elif field == "train_state":
            data["train_state"] = {"history": 5}
        elif field == "registry_width":
            data["days"] = {"days": {"0": {"adapter": 10**9}}}
        else:
            data["readin_days"] = ["a"]

    with pytest.raises(CheckpointError):
        AlignNet.load(crafted_checkpoint(small, tmp_path, change))


def test_pickled_eval_does_not_advise_allowing_it(tmp_path):
    from alignnet.engine.checkpoint import load_checkpoint

    path = tmp_path / "evil.ckpt"
    torch.save({"format_version": 1, "hook": eval}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    text = str(info.value)
    assert "safe_globals" not in text and "weights_only" not in text
    assert "nothing in it was run" in text


# ---------------------------------------------------------------------- days
def test_align_day_of_a_training_day_is_refused_before_the_work(tmp_path, small):
    from alignnet.data.io import save_session
    from alignnet.data.synthetic import generate_sessions, make_config

    (session,) = generate_sessions(make_config("tiny"), seed=0, days=[0], progress=False)
    session.voltage = None
    path = save_session(session, tmp_path / "new.npz")
    res = invoke("align", small["ckpt"], path, "--out", tmp_path / "a.ckpt", "--day", "0")
    assert isinstance(res.exception, DataError), res.output
    assert "training day" in str(res.exception) and not (tmp_path / "a.ckpt").exists()


def test_an_undated_recording_among_dated_ones_is_refused_not_renumbered():
    from alignnet.data.io.days import assign_calendar_days
    from alignnet.data.synthetic import generate_sessions, make_config

    sessions = generate_sessions(make_config("tiny"), seed=0, progress=False)
    sessions = [sessions[0], sessions[1], sessions[2], sessions[0]]
    dates = ["2024-03-01", "2024-03-02", "1970-01-01", "2024-03-13"]
    import copy

    sessions = [copy.deepcopy(s) for s in sessions]
    for s, when in zip(sessions, dates, strict=True):
        s.meta.day, s.meta.date = 0, when
    with pytest.raises(DataError, match="1970-01-01"):
        assign_calendar_days(sessions)
    sessions[2].meta.date = "2024-03-06"
    assign_calendar_days(sessions)
    assert [s.meta.day for s in sessions] == [0, 1, 5, 12]


def test_repeated_benchmark_seeds_run_once(tmp_path, monkeypatch):
    import alignnet.evaluation.benchmark as bench

    seen = {}

    def fake_run(config, **kwargs):
        seen["seeds"] = config.seeds
        raise SystemExit(0)

    monkeypatch.setattr(bench, "run_benchmark", fake_run)
    res = invoke("benchmark", "--preset", "tiny", "--seeds", "0", "0", "--out", tmp_path / "b")
    assert seen.get("seeds") == (0,), (res.output, res.exception)


# ---------------------------------------------------------------------- streamed counts
BAD_COUNTS = {
    "negative": lambda c: -np.ones(c),
    "huge": lambda c: np.full(c, 1e30),
    "complex": lambda c: np.ones(c) * (1 + 1j),
    "strings": lambda c: np.array(["1"] * c),
}


@pytest.fixture(scope="module")
def causal_ckpt(tmp_path_factory):
    from helpers_realtime import train_tiny

    path = tmp_path_factory.mktemp("causal") / "causal.ckpt"
    train_tiny(path, causal=True)
    return path


@pytest.mark.parametrize("kind", sorted(BAD_COUNTS))
def test_streaming_decoder_refuses_counts_that_are_not_counts(causal_ckpt, kind):
    from alignnet.api import AlignNet
    from alignnet.realtime.causal import CausalStreamingDecoder, decode_continuous
    from alignnet.realtime.streaming import StreamingDecoder

    model = AlignNet.load(causal_ckpt)
    c = model.config.model.n_channels
    for decoder in (CausalStreamingDecoder(model, day=0), StreamingDecoder(model, day=0)):
        with pytest.raises(DataError):
            decoder.step(BAD_COUNTS[kind](c))
    with pytest.raises(DataError):
        decode_continuous(model, np.stack([BAD_COUNTS[kind](c)] * 3), day=0)


# ---------------------------------------------------------------------- files that are not data
def test_device_file_or_fifo_as_data_is_a_named_error(tmp_path, small):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for data in ("/dev/null", fifo):
        res = invoke("decode", small["ckpt"], data, "--out", tmp_path / "p.npz")
        assert isinstance(res.exception, FileFormatError), (data, res.output, res.exception)


def test_nwb_with_an_external_link_is_refused(tmp_path):
    import h5py

    from alignnet.data.io import load_session
    from alignnet.data.synthetic import generate_sessions, make_config

    (session,) = generate_sessions(make_config("tiny"), seed=0, days=[0], progress=False)
    session.voltage = None
    from alignnet.data.io.nwb_write import write_nwb

    path = tmp_path / "rec.nwb"
    write_nwb(session, path)
    secret = tmp_path / "outside.h5"
    with h5py.File(secret, "w") as f:
        f["data"] = np.arange(3)
    with h5py.File(path, "a") as f:
        f["acquisition/elsewhere"] = h5py.ExternalLink(str(secret), "/data")
    with pytest.raises(FileFormatError, match="external link"):
        load_session(path)


@pytest.mark.parametrize(
    "per_day",
    [{"x": ["a"]}, {"0": "not a list"}, ["0"], {"99999999": ["a"]}],
)
def test_crafted_windows_header_is_a_file_format_error(tmp_path, small, per_day):
    path = tmp_path / "crafted.npz"
    with np.load(small["windows"]) as z:
        arrays = dict(z)
    header = json.loads(str(arrays["header"]))
    header["day_channel_ids"] = per_day
    arrays["header"] = np.array(json.dumps(header))
    np.savez_compressed(path, **arrays)
    with pytest.raises(FileFormatError, match="day_channel_ids"):
        load_windows(path)


def test_usage_guarantees_list_every_bound():
    from alignnet.utils import limits

    usage = (Path(__file__).resolve().parents[1] / "docs" / "usage.md").read_text()
    section = usage.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    for value in (limits.MAX_DAYS, limits.MAX_CHANNELS, limits.MAX_MODEL_SIZE,
                  limits.MAX_WINDOW_BINS, limits.MAX_EPOCHS, int(limits.MAX_RATE_HZ),
                  limits.MAX_STREAM_COUNT):  # fmt: skip
        assert str(value) in section, value
    for phrase in ("ALIGNNET_MAX_NPZ_BYTES", "2^32-1", "CRC-32", "external link", "1970-01-01"):
        assert phrase in section, phrase
