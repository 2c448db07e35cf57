"""Issue 25, outputs: no output replaced behind the user's back, none left half-written.

Kill cases use a subprocess and a real signal; concurrency cases two real processes (each
patched to wait inside the work, so both pass the start-time check before either writes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from alignnet.cli.main import cli
from alignnet.data.io import load_sessions, save_windows
from alignnet.errors import AlignNetError, FileFormatError, OutputError
from helpers_alignnet import TINY_ALIGNNET

torch.set_num_threads(1)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TRAIN = ["--epochs", "1", "--batch-size", "8", "--neuron", "relu", "--device", "cpu"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def temp_files(folder: Path) -> list[str]:
    """Hidden temporary files/folders of any writer (this version's or an older one's)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and "tmp" in p.name)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A windows file, a native session file and a decode checkpoint trained on it."""
    from alignnet.api import AlignNet
    from alignnet.data.io import save_session
    from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows
    from alignnet.data.synthetic import generate_sessions, make_config

    root = tmp_path_factory.mktemp("small")
    sessions = generate_sessions(make_config("tiny"), seed=0, progress=False)
    for s in sessions:
        s.voltage = None
    session_file = root / "day02.npz"
    save_session(sessions[2], session_file)
    windows = sessions_to_windows(sessions[:2], PreprocessConfig(), progress=False)
    path = save_windows(windows, root / "w.npz")
    model = AlignNet(**TINY_ALIGNNET, epochs=1)
    model.pretrain(windows, progress=False)
    model.finetune(windows, task="decode", progress=False)
    ckpt = root / "decode.ckpt"
    model.save(ckpt)
    return {"windows": path, "session": session_file, "ckpt": ckpt}


def run_cli(args: list, *, slow: str | None = None, wait: bool = True) -> subprocess.Popen:
    """``alignnet ARGS`` in a new process; ``slow`` = "module:Class.method" to sleep 4 s in."""
    patch = ""
    if slow:
        module, attr = slow.split(":")
        cls, method = attr.split(".")
        patch = textwrap.dedent(f"""
            import time, {module} as m
            orig = m.{cls}.{method}
            def slowed(*a, **k):
                time.sleep(4)
                return orig(*a, **k)
            m.{cls}.{method} = slowed
        """)
    code = patch + "\nimport sys\nfrom alignnet.cli.main import main\nsys.exit(main())\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        proc.out, proc.err = proc.communicate(timeout=300)
    return proc


# ---------------------------------------------------------------------- two real processes
@pytest.mark.parametrize("command", ["align", "decode"])
def test_concurrent_writers_of_one_output_one_wins_the_other_gets_a_named_error(
    tmp_path, small, command
):
    out = tmp_path / ("aligned.ckpt" if command == "align" else "pred.npz")
    if command == "align":
        args = ["align", small["ckpt"], small["session"], "--out", out, "--epochs", "1"]
        slow = "alignnet.api:AlignNet.align"
    else:
        args = ["decode", small["ckpt"], small["windows"], "--out", out]
        slow = "alignnet.api:AlignNet.decode"
    procs = [run_cli(args, slow=slow, wait=False) for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes[0] == 0 and codes[1] != 0, results
    loser = next(r for r in results if r[0] != 0)
    assert "Traceback" not in loser[2] and "another program" in loser[2], loser[2]
    assert out.is_file() and not temp_files(tmp_path)


def test_file_created_at_out_while_align_runs_is_not_replaced(tmp_path, small, monkeypatch):
    from alignnet.api import AlignNet

    out = tmp_path / "aligned.ckpt"
    real = AlignNet.align

    def align_and_meanwhile_a_user_writes(self, *a, **k):
        report = real(self, *a, **k)
        out.write_text("the user's file")
        return report

    monkeypatch.setattr(AlignNet, "align", align_and_meanwhile_a_user_writes)
    res = invoke("align", small["ckpt"], small["session"], "--out", out, "--epochs", "1")
    assert isinstance(res.exception, OutputError), res.output
    assert out.read_text() == "the user's file" and not temp_files(tmp_path)


def test_log_created_while_pretrain_runs_is_not_replaced(tmp_path, small, monkeypatch):
    from alignnet.api import AlignNet

    log, out = tmp_path / "log.csv", tmp_path / "pre.ckpt"
    real = AlignNet.pretrain

    def pretrain(self, *a, **k):
        log.write_text("mine\n")
        return real(self, *a, **k)

    monkeypatch.setattr(AlignNet, "pretrain", pretrain)
    res = invoke("pretrain", small["windows"], "--out", out, "--log", log, *TRAIN)
    assert isinstance(res.exception, OutputError), res.output
    assert log.read_text() == "mine\n"


# ---------------------------------------------------------------------- inputs are never outputs
def test_output_equal_to_an_input_is_refused_even_with_overwrite(tmp_path, small):
    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(small["ckpt"].read_bytes())
    session = tmp_path / "day.npz"
    session.write_bytes(small["session"].read_bytes())
    cases = [
        ["decode", ckpt, small["windows"], "--out", ckpt, "--overwrite"],
        ["align", ckpt, session, "--out", session, "--overwrite", "--day", "9"],
        ["finetune", ckpt, small["windows"], "--task", "decode", "--out", tmp_path / "f.ckpt",
         "--log", ckpt, "--overwrite", "--epochs", "1"],
    ]  # fmt: skip
    before = (ckpt.read_bytes(), session.read_bytes())
    for args in cases:
        res = invoke(*args)
        assert isinstance(res.exception, OutputError), (args, res.output)
        assert "input" in str(res.exception)
    assert (ckpt.read_bytes(), session.read_bytes()) == before


def test_log_equal_to_out_is_refused(tmp_path, small):
    out = tmp_path / "pre.ckpt"
    res = invoke("pretrain", small["windows"], "--out", out, "--log", out, *TRAIN)
    assert isinstance(res.exception, OutputError), res.output
    assert not out.exists()


# ---------------------------------------------------------------------- unwritable outputs
@pytest.mark.parametrize("command", ["pretrain", "decode", "align", "preprocess"])
def test_unwritable_out_is_a_named_error_before_the_work(small, command, monkeypatch):
    from alignnet.api import AlignNet

    def no_work(*a, **k):
        raise AssertionError("the work started before --out was checked")

    monkeypatch.setattr(AlignNet, "load", no_work)
    monkeypatch.setattr(AlignNet, "pretrain", no_work)
    out = "/proc/alignnet-test-output.npz"  # a read-only file system, even for root
    args = {
        "pretrain": ["pretrain", small["windows"], "--out", out, *TRAIN],
        "decode": ["decode", small["ckpt"], small["windows"], "--out", out],
        "align": ["align", small["ckpt"], small["session"], "--out", out],
        "preprocess": ["data", "preprocess", small["session"], "--out", out],
    }[command]
    res = invoke(*args)
    assert isinstance(res.exception, OutputError), res.output
    assert "cannot write" in str(res.exception)


def test_out_an_existing_folder_is_a_named_error(tmp_path, small):
    folder = tmp_path / "results"
    folder.mkdir()
    res = invoke("decode", small["ckpt"], small["windows"], "--out", folder, "--overwrite")
    assert isinstance(res.exception, AlignNetError), res.output
    assert "folder" in str(res.exception)


# ---------------------------------------------------------------------- kills during a save
SLOW_SAVE = """
import time, torch
orig = torch.save
def slow_save(obj, f, *a, **k):
    open("{marker}", "w").close()
    time.sleep(60)
torch.save = slow_save
"""


def _kill_during_save(tmp_path: Path, small, sig: int) -> Path:
    marker = tmp_path / "saving"
    out = tmp_path / "out" / "aligned.ckpt"
    out.parent.mkdir()
    code = SLOW_SAVE.format(marker=marker) + (
        "\nimport sys\nfrom alignnet.cli.main import main\nsys.exit(main())\n"
    )
    args = ["align", small["ckpt"], small["session"], "--out", out, "--epochs", "1"]
    proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=ENV)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), "the save never started"
        os.kill(proc.pid, sig)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert not out.exists()
    return out.parent


def test_sigterm_during_a_save_leaves_no_temporary_file(tmp_path, small):
    folder = _kill_during_save(tmp_path, small, signal.SIGTERM)
    assert temp_files(folder) == []


def test_orphan_of_a_sigkill_is_cleaned_by_the_next_run(tmp_path, small):
    folder = _kill_during_save(tmp_path, small, signal.SIGKILL)
    assert temp_files(folder)  # the killed process could not clean up
    res = invoke("decode", small["ckpt"], small["windows"], "--out", folder / "pred.npz")
    assert res.exit_code == 0, res.output
    assert temp_files(folder) == []


def test_temporary_file_of_a_running_writer_is_left_alone(tmp_path):
    from alignnet.utils.atomic import write_text_atomic

    alive = tmp_path / f".x.txt.alignnet-tmp-{os.getppid()}-abc.txt"
    dead = tmp_path / ".x.txt.alignnet-tmp-999999999-abc.txt"
    alive.write_text("")
    dead.write_text("")
    write_text_atomic(tmp_path / "y.txt", "hello")
    assert alive.exists() and not dead.exists()


# ---------------------------------------------------------------------- folder outputs
def _nwb_synth(out: Path, *extra: str, wait: bool = True) -> subprocess.Popen:
    args = ["data", "synth", "--preset", "nwb-tiny", "--format", "nwb", "--out", out, *extra]
    return run_cli(args, wait=wait)


def test_killed_nwb_synth_leaves_no_dataset_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "nwb"
    proc = _nwb_synth(out, wait=False)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if list(tmp_path.glob("**/day00.nwb")) or list(tmp_path.glob(".*/day00.nwb")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "data synth finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    if out.exists():
        assert not list(out.iterdir())
        with pytest.raises(FileFormatError):
            load_sessions(out)
    res = invoke("data", "synth", "--preset", "tiny", "--days", "0", "--out", tmp_path / "n2")
    assert res.exit_code == 0, res.output
    assert temp_files(tmp_path) == []


def test_nwb_synth_overwrite_replaces_the_previous_days(tmp_path):
    out = tmp_path / "nwb"
    first = _nwb_synth(out, "--days", "0,1")
    assert first.returncode == 0, first.err
    (out / "notes.txt").write_text("mine")
    res = invoke(
        "data", "synth", "--preset", "nwb-tiny", "--format", "nwb", "--days", "5",
        "--seed", "1", "--out", out, "--overwrite",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    # the old days and their true-rate sidecars are gone; the user's file stays
    assert sorted(p.name for p in out.iterdir()) == ["day05.nwb", "day05.true_rates", "notes.txt"]
    assert [s.meta.day for s in load_sessions(out)] == [0]  # one recording: day 0


def test_crafted_manifest_cannot_make_synth_delete_a_user_file(tmp_path):
    out = tmp_path / "ds"
    assert invoke("data", "synth", "--preset", "tiny", "--days", "0", "--out", out).exit_code == 0
    (out / "notes.txt").write_text("mine")
    manifest = json.loads((out / "dataset.json").read_text())
    manifest["files"].append({"file": "notes.txt", "day": 7})
    (out / "dataset.json").write_text(json.dumps(manifest))
    res = invoke("data", "synth", "--preset", "tiny", "--days", "1", "--out", out, "--overwrite")
    assert res.exit_code == 0, res.output
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "day00.npz").exists()


# ---------------------------------------------------------------------- benchmark folders
BENCH = {"preset": "tiny", "models": ("Wiener",), "protocols": ("single-day",)}
QUIET = {"progress": False, "log": lambda m: None}


def test_two_benchmark_runs_with_other_seeds_into_one_folder_keep_both(tmp_path):
    import csv

    from alignnet.evaluation.benchmark import BenchmarkConfig, run_benchmark

    out = tmp_path / "bench"
    run_benchmark(BenchmarkConfig(out=out, seeds=(0,), **BENCH), **QUIET)
    run_benchmark(BenchmarkConfig(out=out, seeds=(1,), **BENCH), **QUIET)
    with open(out / "results.csv") as handle:
        seeds = {int(row["seed"]) for row in csv.DictReader(handle)}
    assert seeds == {0, 1}


def test_two_concurrent_benchmarks_with_other_seeds_both_land_in_the_results(tmp_path):
    import csv

    out = tmp_path / "bench"
    common = ["benchmark", "--preset", "tiny", "--models", "Wiener", "--protocols",
              "single-day", "--quiet", "--out", out]  # fmt: skip
    procs = [run_cli([*common, "--seeds", seed], wait=False) for seed in ("0", "1")]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert [r[0] for r in results] == [0, 0], results
    with open(out / "results.csv") as handle:
        assert {int(row["seed"]) for row in csv.DictReader(handle)} == {0, 1}


def test_a_user_figure_in_the_benchmark_folder_is_not_replaced(tmp_path):
    from alignnet.evaluation.benchmark import BenchmarkConfig, run_benchmark

    out = tmp_path / "bench"
    out.mkdir()
    (out / "fig5.png").write_bytes(b"my figure")
    with pytest.raises(OutputError, match="--overwrite"):
        run_benchmark(BenchmarkConfig(out=out, seeds=(0,), **BENCH), **QUIET)
    assert (out / "fig5.png").read_bytes() == b"my figure"


def test_cached_cell_with_inconsistent_shapes_is_run_again(tmp_path):
    import numpy as np

    from alignnet.evaluation.benchmark import BenchmarkConfig, run_benchmark

    out = tmp_path / "bench"
    config = BenchmarkConfig(out=out, seeds=(0,), **BENCH)
    run_benchmark(config, **QUIET)
    (cell,) = (out / "cells").glob("*.npz")
    with np.load(cell) as z:
        arrays = dict(z)
    arrays["decode_pred"] = arrays["decode_pred"][:1]
    np.savez_compressed(cell, **arrays)
    again = run_benchmark(config, **QUIET)
    assert (again.ran, again.reused) == (1, 0)
