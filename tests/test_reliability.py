"""Issue 16: nothing a user owns is overwritten, no half-written output is accepted, every bad
argument gets a clear error (click usage error, exit 2) and every bad file a named error."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from alignnet.cli.main import cli
from alignnet.data.io import load_sessions, load_windows, save_windows
from alignnet.data.windows import Windows
from alignnet.errors import (
    CheckpointError,
    DataError,
    DeviceError,
    FileFormatError,
    OutputError,
)
from helpers_alignnet import TINY_ALIGNNET, make_windows

torch.set_num_threads(1)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
M1 = DATA / "m1_stevenson_2011.mat"
needs_m1 = pytest.mark.skipif(
    not M1.is_file(), reason="../shared/data/m1_stevenson_2011.mat absent"
)
TRAIN = ["--epochs", "1", "--batch-size", "8", "--neuron", "relu", "--device", "cpu"]


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def with_bin(windows: Windows, bin_s: float) -> Windows:
    return Windows(
        spikes=windows.spikes,
        behavior=windows.behavior,
        day=windows.day,
        trial=windows.trial,
        t_start=windows.t_start,
        target=windows.target,
        bin_s=bin_s,
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A windows file (20 ms bins), the same windows at 40 ms, and a model fine-tuned to decode."""
    from alignnet.api import AlignNet

    root = tmp_path_factory.mktemp("small")
    windows = make_windows(n_days=2, trials_per_day=12, n_channels=8, length=16)
    path = save_windows(windows, root / "w20.npz")
    path40 = save_windows(with_bin(windows, 0.04), root / "w40.npz")
    model = AlignNet(**TINY_ALIGNNET, epochs=1)
    model.pretrain(windows, progress=False)
    model.finetune(windows, task="decode", progress=False)
    ckpt = root / "decode.ckpt"
    model.save(ckpt)
    return {"windows": windows, "w20": path, "w40": path40, "ckpt": ckpt}


# ---------------------------------------------------------------------- data loss
def test_pretrain_and_finetune_refuse_an_existing_log(tmp_path, small):
    log = tmp_path / "mine.csv"
    log.write_text("the user's notes\n")
    ckpt = tmp_path / "pre.ckpt"
    res = invoke("pretrain", small["w20"], "--out", ckpt, "--log", log, *TRAIN)
    assert res.exit_code == 2 and "--overwrite" in res.output, res.output
    assert log.read_text() == "the user's notes\n" and not ckpt.exists()

    res = invoke("finetune", small["ckpt"], small["w20"], "--task", "decode", "--out",
                 tmp_path / "ft.ckpt", "--log", log, "--epochs", "1")  # fmt: skip
    assert res.exit_code == 2 and "--overwrite" in res.output, res.output
    assert log.read_text() == "the user's notes\n" and not (tmp_path / "ft.ckpt").exists()

    res = invoke("pretrain", small["w20"], "--out", ckpt, "--log", log, *TRAIN, "--overwrite")
    assert res.exit_code == 0, res.output
    assert log.read_text().startswith("epoch")


def test_benchmark_keeps_foreign_outputs_and_reruns_a_damaged_cell(tmp_path):
    from alignnet.evaluation.benchmark import BenchmarkConfig, run_benchmark
    from alignnet.evaluation.outputs import OUTPUT_MARKER

    out = tmp_path / "bench"
    out.mkdir()
    (out / "results.csv").write_text("mine\n")
    (out / "table1.md").write_text("# my table\n")
    settings = {"preset": "tiny", "seeds": (0,), "models": ("Wiener",),
                "protocols": ("single-day",)}  # fmt: skip
    quiet = {"progress": False, "log": lambda m: None}
    with pytest.raises(OutputError, match="--overwrite"):
        run_benchmark(BenchmarkConfig(out=out, **settings), **quiet)
    assert (out / "results.csv").read_text() == "mine\n"
    assert (out / "table1.md").read_text() == "# my table\n"
    assert not (out / "cells").exists()  # refused before any work

    first = run_benchmark(BenchmarkConfig(out=out, overwrite=True, **settings), **quiet)
    assert first.ran == 1
    assert OUTPUT_MARKER in json.loads((out / "results.json").read_text())

    # A damaged cell file is run again (no BadZipFile); the benchmark's own outputs are
    # updated without --overwrite.
    (cell,) = (out / "cells").glob("*.npz")
    cell.write_bytes(cell.read_bytes()[:40])
    again = run_benchmark(BenchmarkConfig(out=out, **settings), **quiet)
    assert (again.ran, again.reused) == (1, 0)
    resumed = run_benchmark(BenchmarkConfig(out=out, **settings), **quiet)
    assert (resumed.ran, resumed.reused) == (0, 1)


def test_damaged_cell_json_is_not_reused(tmp_path):
    from alignnet.evaluation.cells import load_cell

    stem = tmp_path / "Wiener__single-day__seed0"
    np.savez_compressed(stem.with_suffix(".npz"), x=np.arange(3))
    stem.with_suffix(".json").write_text(json.dumps({"settings_hash": "h", "records": []}))
    assert load_cell(stem, "h") is not None
    stem.with_suffix(".json").write_bytes(b'{"settings_hash": "h", "rec\xff')
    assert load_cell(stem, "h") is None
    stem.with_suffix(".json").write_text("[1, 2]")
    assert load_cell(stem, "h") is None


def _synth_and_kill(out: Path, *extra: str) -> None:
    """Run ``alignnet data synth`` in a subprocess; SIGKILL it once two days are written."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "alignnet", "data", "synth", "--preset", "demo",
           "--no-voltage", "--days", "0-5", "--out", str(out), *extra]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            written = list(out.parent.glob(f".{out.name}.partial-*/day01.npz"))
            written += list(out.glob("day01.npz")) if not extra else []  # unfixed code
            if written:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "data synth finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_killed_synth_leaves_no_dataset(tmp_path):
    out = tmp_path / "ds"
    _synth_and_kill(out)
    with pytest.raises(FileFormatError):
        load_sessions(out)
    res = invoke("data", "preprocess", out, "--out", tmp_path / "w.npz")
    assert res.exit_code != 0 and not (tmp_path / "w.npz").exists()


def test_killed_synth_overwrite_keeps_the_old_dataset(tmp_path):
    out = tmp_path / "ds"
    assert invoke("data", "synth", "--preset", "tiny", "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _synth_and_kill(out, "--overwrite", "--seed", "1")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [s.meta.day for s in load_sessions(out)] == [0, 1, 2]


def test_synth_overwrite_replaces_the_whole_dataset(tmp_path):
    out = tmp_path / "ds"
    assert invoke("data", "synth", "--preset", "tiny", "--out", out).exit_code == 0
    (out / "notes.txt").write_text("mine")
    res = invoke("data", "synth", "--preset", "tiny", "--days", "1", "--seed", "3", "--out", out,
                 "--overwrite")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "day01.npz", "notes.txt"]
    assert json.loads((out / "dataset.json").read_text())["generator"]["seed"] == 3
    assert not list(tmp_path.glob(".ds.partial-*"))


def test_day_files_without_manifest_or_listed_but_missing_are_refused(tmp_path):
    from alignnet.data.io.native_dataset import iter_dataset

    out = tmp_path / "ds"
    assert invoke("data", "synth", "--preset", "tiny", "--days", "0,1", "--out", out).exit_code == 0
    (out / "day01.npz").unlink()
    with pytest.raises(FileFormatError, match=r"missing from the folder: \['day01.npz'\]"):
        next(iter_dataset(out))  # before any day is read
    (out / "dataset.json").unlink()
    with pytest.raises(FileFormatError, match="dataset.json"):
        load_sessions(out)
    res = invoke("data", "preprocess", out, "--out", tmp_path / "w.npz")
    assert res.exit_code != 0 and not (tmp_path / "w.npz").exists()


def test_negative_counts_are_refused_at_load_and_by_training(tmp_path):
    from alignnet.api import AlignNet
    from alignnet.data.checks import check_spike_counts

    windows = make_windows(n_days=1, trials_per_day=8, n_channels=4, length=8)
    windows.spikes[0, 1, 2] = -3.0
    path = save_windows(windows, tmp_path / "neg.npz")
    with pytest.raises(DataError, match=r"neg\.npz.*1 negative spike counts"):
        load_windows(path)
    with pytest.raises(DataError, match="negative"):
        AlignNet(**TINY_ALIGNNET, epochs=1).pretrain(windows, progress=False)
    with pytest.raises(DataError, match="negative"):
        check_spike_counts(windows.spikes, source="x")
    res = invoke("pretrain", path, "--out", tmp_path / "m.ckpt", *TRAIN)
    assert isinstance(res.exception, DataError) and not (tmp_path / "m.ckpt").exists()


def test_checkpoint_records_bin_width_and_refuses_other_bins(tmp_path, small):
    from alignnet.api import AlignNet
    from alignnet.engine.checkpoint import load_checkpoint

    assert load_checkpoint(small["ckpt"])["bin_s"] == pytest.approx(0.02)
    model = AlignNet.load(small["ckpt"])
    assert model.decode(small["windows"]).shape == small["windows"].behavior.shape
    with pytest.raises(CheckpointError, match="20 ms bins.*40 ms"):
        model.decode(with_bin(small["windows"], 0.04))
    res = invoke("decode", small["ckpt"], small["w40"], "--out", tmp_path / "d.npz")
    assert isinstance(res.exception, CheckpointError) and not (tmp_path / "d.npz").exists()
    with pytest.raises(CheckpointError, match="40 ms"):
        model.finetune(with_bin(small["windows"], 0.04), task="decode", progress=False)

    ckpt = tmp_path / "pre.ckpt"
    assert invoke("pretrain", small["w20"], "--out", ckpt, *TRAIN).exit_code == 0
    res = invoke("pretrain", small["w40"], "--out", ckpt, *TRAIN, "--resume")
    assert isinstance(res.exception, CheckpointError), res.output
    assert "20 ms" in str(res.exception) and "40 ms" in str(res.exception)


# ---------------------------------------------------------------------- arguments
@pytest.fixture
def stand_ins(tmp_path):
    """Existing files for path arguments (the bad option must be refused before use)."""
    ckpt, data = tmp_path / "c.ckpt", tmp_path / "d.npz"
    ckpt.write_bytes(b"x")
    data.write_bytes(b"x")
    return ckpt, data, tmp_path / "out"


BAD_ARGS = [
    ("pretrain", ["--epochs", "0"]),
    ("pretrain", ["--epochs", "-1"]),
    ("pretrain", ["--seed", "-5"]),
    ("pretrain", ["--batch-size", "0"]),
    ("pretrain", ["--lr", "nan"]),
    ("pretrain", ["--lr", "0"]),
    ("pretrain", ["--lr", "-1e-3"]),
    ("finetune", ["--epochs", "0"]),
    ("finetune", ["--epochs", "-1"]),
    ("finetune", ["--seed", "-1"]),
    ("finetune", ["--lr", "inf"]),
    ("finetune", ["--n-trials", "0"]),
    ("demo", ["--epochs", "0"]),
    ("demo", ["--epochs", "-1"]),
    ("demo", ["--seed", "-2"]),
    ("synth", ["--seed", "-5"]),
    ("simulate", ["--seed", "-1"]),
    ("preprocess", ["--seed", "-1"]),
    ("benchmark", ["--data-seed", "-5"]),
    ("benchmark", ["--seeds", "0,-1"]),
    ("benchmark", ["--epochs-scale", "0"]),
    ("benchmark", ["--epochs-scale", "nan"]),
    ("benchmark", ["--tuning-budget", "0"]),
    ("benchmark", ["--cross-day-folds", "0"]),
    ("benchmark", ["--single-day-days", "0"]),
]


def _command(name: str, ckpt: Path, data: Path, out: Path) -> list[str]:
    return {
        "pretrain": ["pretrain", str(data), "--out", str(out)],
        "finetune": ["finetune", str(ckpt), str(data), "--task", "decode", "--out", str(out)],
        "demo": ["demo", "--out", str(out)],
        "synth": ["data", "synth", "--out", str(out)],
        "simulate": ["simulate", str(ckpt), str(data), "--out", str(out)],
        "preprocess": ["data", "preprocess", str(data), "--out", str(out) + ".npz"],
        "benchmark": ["benchmark", "--out", str(out), "--preset", "tiny"],
    }[name]


@pytest.mark.parametrize(("command", "bad"), BAD_ARGS)
def test_bad_arguments_are_usage_errors(stand_ins, command, bad):
    ckpt, data, out = stand_ins
    res = CliRunner().invoke(cli, [*_command(command, ckpt, data, out), *bad])
    assert res.exit_code == 2, (res.output, res.exception)
    assert "Invalid value" in res.output or "Error" in res.output
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_named_error(stand_ins):
    from alignnet.engine.device import resolve_device

    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("gpu0")
    ckpt, data, out = stand_ins
    for command in ("pretrain", "finetune", "demo"):
        res = CliRunner().invoke(cli, [*_command(command, ckpt, data, out), "--device", "cuda"])
        assert res.exit_code == 2 and "no CUDA GPU" in res.output, res.output


# ---------------------------------------------------------------------- named errors
@pytest.mark.parametrize("command", ["decode", "simulate", "embed"])
def test_existing_output_is_refused_before_the_work(stand_ins, command):
    ckpt, data, out = stand_ins  # stand-ins: loading them would fail with another error
    out.write_text("keep")
    res = CliRunner().invoke(cli, [command, str(ckpt), str(data), "--out", str(out)])
    assert res.exit_code == 2 and "exists" in res.output and "--overwrite" in res.output
    assert out.read_text() == "keep"


def test_profile_json_and_preprocess_out_checked_first(stand_ins):
    ckpt, data, out = stand_ins
    out.write_text("keep")
    res = CliRunner().invoke(cli, ["profile", str(ckpt), "--json", str(out)])
    assert res.exit_code == 2 and "exists" in res.output, res.output
    res = CliRunner().invoke(cli, ["data", "preprocess", str(data), "--out", str(out) + ".txt"])
    assert res.exit_code == 2 and ".npz" in res.output, res.output


def _m1_layout(path: Path, **changes) -> Path:
    import scipy.io

    n = 40
    arrays = {
        "spikes": np.ones((3, n), dtype=np.uint8),
        "handVel": np.zeros((3, n)),
        "handPos": np.zeros((3, n)),
        "time": (np.arange(n) * 0.05 + 1.0)[None, :],
        **changes,
    }
    scipy.io.savemat(str(path), arrays)
    return path


def test_mat_spikes_cell_array_3d_and_truncated_files(tmp_path):
    from alignnet.data.io.mat import load_mat_session

    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = np.ones((3, 40)), np.ones((3, 40))
    with pytest.raises(DataError, match=r"field 'spikes': is a cell array"):
        load_mat_session(_m1_layout(tmp_path / "cell.mat", spikes=cell))
    with pytest.raises(DataError, match=r"field 'spikes': is a 3-D array"):
        load_mat_session(_m1_layout(tmp_path / "cube.mat", spikes=np.ones((3, 40, 2))))
    good = _m1_layout(tmp_path / "good.mat")
    assert load_mat_session(good).n_channels == 3
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        short = tmp_path / f"short{cut}.mat"
        short.write_bytes(data[:cut])
        with pytest.raises(FileFormatError, match="truncated"):
            load_mat_session(short)


def test_checkpoint_with_unknown_neuron_or_malformed_config(tmp_path, small):
    from alignnet.api import AlignNet

    data = torch.load(small["ckpt"], weights_only=True)
    for change in (
        lambda d: d["config"]["model"].update(neuron="izhikevich"),
        lambda d: d["config"]["model"].update(widths="ab"),
        lambda d: d["config"].update(pretrain=7),
        lambda d: d.update(bin_s="twenty"),
    ):
        bad = {**data, "config": json.loads(json.dumps(data["config"]))}
        change(bad)
        path = tmp_path / "bad.ckpt"
        torch.save(bad, path)
        with pytest.raises(CheckpointError, match=r"bad\.ckpt"):
            AlignNet.load(path)


class _Planted:
    """Unpickling it would create a file (it must never happen)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_checkpoint_and_npz_errors_do_not_advise_unsafe_loading(tmp_path):
    from alignnet.api import AlignNet
    from alignnet.data.io.native import load_session_npz

    marker = tmp_path / "ran"
    evil = tmp_path / "evil.ckpt"
    torch.save({"format_version": 1, "x": _Planted(marker)}, evil)
    with pytest.raises(CheckpointError) as info:
        AlignNet.load(evil)
    assert "weights_only" not in str(info.value)
    assert "nothing in it was run" in str(info.value) and not marker.exists()
    noise = tmp_path / "noise.ckpt"
    noise.write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(CheckpointError) as info:
        AlignNet.load(noise)
    assert "weights_only" not in str(info.value)

    junk = tmp_path / "junk.npz"
    junk.write_bytes(np.random.default_rng(1).bytes(300))
    for loader in (load_session_npz, load_windows):
        with pytest.raises(FileFormatError) as info:
            loader(junk)
        assert "allow_pickle" not in str(info.value) and "junk.npz" in str(info.value)


def test_inspect_says_a_windows_file_is_a_windows_file(small):
    res = invoke("data", "inspect", small["w20"])
    assert res.exit_code == 0, res.output
    assert "windows file: 24 windows of 8 channels x 16 bins of 20 ms" in res.output
    assert "corrupt" not in res.output


def test_profile_wrong_shapes_are_named_errors(tmp_path):
    from alignnet.api import AlignNet

    ckpt = tmp_path / "m.ckpt"
    AlignNet(n_channels=8, window_len=20, widths=(8, 8), latent_width=8, neuron="relu").save(ckpt)
    for extra in (["--n-channels", "5"], ["--bins", "10"]):
        res = invoke("profile", ckpt, "--n-windows", "2", *extra)
        assert isinstance(res.exception, DataError), (extra, res.output, res.exception)
    data = tmp_path / "s.npz"
    np.savez(data, spikes=np.ones((2, 3, 20)))
    res = invoke("profile", ckpt, "--data", data)
    assert isinstance(res.exception, DataError) and "3 channels" in str(res.exception)


def _disk_full_after(n_bytes: int, *, file_arg: int):
    def write(*args, **kwargs):  # writes a little to args[file_arg], then the disk is full
        target = args[file_arg]
        if hasattr(target, "write"):
            target.write(b"\0" * n_bytes)
        else:
            Path(target).write_bytes(b"\0" * n_bytes)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write


def test_disk_full_during_decode_and_pretrain_keeps_the_old_file(tmp_path, small, monkeypatch):
    out = tmp_path / "decoded.npz"
    out.write_bytes(b"old result")
    monkeypatch.setattr(np, "savez_compressed", _disk_full_after(100, file_arg=0))
    res = invoke("decode", small["ckpt"], small["w20"], "--out", out, "--overwrite")
    assert isinstance(res.exception, OutputError), res.output
    assert "No space left on device" in str(res.exception)
    assert out.read_bytes() == b"old result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decoded.npz"]

    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(b"old model")
    monkeypatch.setattr(torch, "save", _disk_full_after(100, file_arg=1))
    res = invoke("pretrain", small["w20"], "--out", ckpt, *TRAIN, "--overwrite")
    assert isinstance(res.exception, OutputError), res.output
    assert ckpt.read_bytes() == b"old model"


def test_named_errors_exit_2_through_the_entry_point(tmp_path, small, monkeypatch, capsys):
    from alignnet.cli.main import main

    monkeypatch.setattr(
        sys, "argv", ["alignnet", "decode", str(small["ckpt"]), str(small["w40"]), "--out",
                      str(tmp_path / "d.npz")]
    )  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error: " in err and "40 ms" in err and "Traceback" not in err


# ---------------------------------------------------------------------- one data path
def _count_session(bin_s: float, day: int = 0):
    from alignnet.data import Session, SessionMeta, Trials

    n = 400
    return Session(
        t_start=0.0,
        t_stop=n * bin_s,
        behavior=np.zeros((n, 2)),
        behavior_times=(np.arange(n) + 0.5) * bin_s,
        trials=Trials.single(0.0, n * bin_s),
        meta=SessionMeta(day=day),
        spike_counts=np.ones((n, 3), dtype=np.int32),
        count_bin_s=bin_s,
        count_t_start=0.0,
    )


def test_one_bin_width_rule_for_every_command():
    from alignnet.data.preprocess import PreprocessConfig, preprocess_config_for
    from alignnet.data.synthetic import generate_sessions, make_config

    assert preprocess_config_for([_count_session(0.05)]).bin_s == 0.05
    assert preprocess_config_for([_count_session(0.05)]).window_bins == 100
    spiking = generate_sessions(make_config("tiny"), seed=0, days=[0])
    assert preprocess_config_for(spiking) == PreprocessConfig()
    with pytest.raises(DataError, match="different bin widths"):
        preprocess_config_for([_count_session(0.05), _count_session(0.1, day=1)])


@needs_m1
def test_real_recording_trains_through_the_cli_like_the_benchmark(tmp_path):
    from alignnet.cli.train import load_data
    from alignnet.engine.checkpoint import load_checkpoint
    from alignnet.evaluation.data_source import load_benchmark_windows

    bench, _ = load_benchmark_windows(str(M1), preset="standard")
    ours = load_data(M1, channels="auto")
    assert ours.bin_s == bench.bin_s == 0.05 and ours.spikes.shape == bench.spikes.shape
    ckpt = tmp_path / "m1.ckpt"
    res = invoke("pretrain", M1, "--out", ckpt, "--epochs", "1", "--neuron", "relu", "--device",
                 "cpu")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert load_checkpoint(ckpt)["bin_s"] == pytest.approx(0.05)


# ---------------------------------------------------------------------- docs and tables
def test_docs_and_table1_point_to_no_file_outside_the_repository(tmp_path):
    import re

    from alignnet.evaluation.tables import write_table1

    root = Path(__file__).resolve().parents[1]
    absolute = re.compile(r"(?<![\w.~])/(work|home|Users|root|mnt)/")
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        assert not absolute.search(doc.read_text(encoding="utf-8")), doc
    record = {"model": "Wiener", "protocol": "contiguous", "task": "decode", "seed": 0,
              "r2": 0.5, "pcc": 0.7}  # fmt: skip
    info = {"source": "/somewhere/m1_stevenson_2011.mat", "n_days": 1,
            "shape": {"channels": 171, "window_bins": 100, "bin_s": 0.05}}  # fmt: skip
    write_table1(tmp_path / "table1.md", [record], info=info, causal={"Wiener": True})
    text = (tmp_path / "table1.md").read_text()
    assert "Anchors" in text and "shared/" not in text and "anchors.md" not in text


def test_usage_lists_the_guarantees():
    usage = (Path(__file__).resolve().parents[1] / "docs" / "usage.md").read_text()
    assert "## Guarantees" in usage
    for phrase in ("atomic", "--overwrite", "--resume", "bin width"):
        assert phrase in usage.split("## Guarantees", 1)[1], phrase
