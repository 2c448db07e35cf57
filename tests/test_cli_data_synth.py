"""`alignnet data synth` and `alignnet data inspect` through click's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from alignnet.cli.main import cli
from alignnet.cli.options import parse_days
from alignnet.data.io.native_dataset import load_dataset
from alignnet.data.synthetic import generate_sessions, make_config


def test_synth_writes_dataset_matching_the_library(tmp_path):
    out = tmp_path / "ds"
    result = CliRunner().invoke(
        cli,
        ["data", "synth", "--preset", "tiny", "--seed", "3", "--out", str(out), "--days", "1-2"],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "dataset.json").read_text())
    assert manifest["generator"]["seed"] == 3 and manifest["generator"]["preset"] == "tiny"
    assert [e["day"] for e in manifest["files"]] == [1, 2]
    loaded = load_dataset(out)
    expected = generate_sessions(make_config("tiny"), seed=3, days=[2])[0]
    assert loaded[1].meta == expected.meta
    assert np.array_equal(
        np.concatenate(loaded[1].spike_times), np.concatenate(expected.spike_times)
    )


def test_synth_refuses_non_empty_folder_unless_forced(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    args = ["data", "synth", "--preset", "tiny", "--out", str(out), "--days", "0"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "not empty" in result.output
    assert not (out / "day00.npz").exists()
    result = CliRunner().invoke(cli, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (out / "day00.npz").exists() and (out / "keep.txt").read_text() == "user data"
    result = CliRunner().invoke(cli, [*args, "--overwrite", "--seed", "1"])
    assert result.exit_code == 0, result.output


def test_synth_voltage_flag(tmp_path):
    pytest.importorskip("alignnet.data.synthetic.voltage")
    runner = CliRunner()
    base = ["data", "synth", "--preset", "demo", "--days", "0"]
    assert runner.invoke(cli, [*base, "--out", str(tmp_path / "v")]).exit_code == 0
    assert runner.invoke(cli, [*base, "--out", str(tmp_path / "nv"), "--no-voltage"]).exit_code == 0
    with_v = runner.invoke(cli, ["data", "inspect", str(tmp_path / "v")])
    without = runner.invoke(cli, ["data", "inspect", str(tmp_path / "nv")])
    assert "voltage: 8 channels" in with_v.output
    assert "voltage: none" in without.output


def test_inspect_folder_and_file(tmp_path):
    out = tmp_path / "ds"
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["data", "synth", "--preset", "tiny", "--out", str(out)]).exit_code == 0
    )
    result = runner.invoke(cli, ["data", "inspect", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 day(s)" in result.output
    assert "trials: 24" in result.output and "channels: 16" in result.output
    assert "behaviour x:" in result.output and "silent channels" in result.output
    one = runner.invoke(cli, ["data", "inspect", str(out / "day01.npz")])
    assert one.exit_code == 0 and "day 1 " in one.output and "1 day(s)" in one.output


def test_inspect_bad_file_names_it(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"\x00" * 100)
    result = CliRunner().invoke(cli, ["data", "inspect", str(bad)])
    assert result.exit_code != 0
    assert "broken.npz" in str(result.exception)


def test_bad_days_and_help():
    runner = CliRunner()
    result = runner.invoke(
        cli, ["data", "synth", "--preset", "tiny", "--out", "x", "--days", "2-9"]
    )
    assert result.exit_code != 0 and "0..2" in result.output
    assert parse_days("0-2,5") == [0, 1, 2, 5] and parse_days(None) is None
    assert "--seed" in runner.invoke(cli, ["data", "synth", "--help"]).output
    assert runner.invoke(cli, ["data", "inspect", "--help"]).exit_code == 0


def test_cli_module_does_not_import_numpy_at_import_time():
    import subprocess
    import sys

    code = "import sys, alignnet.cli.data_synth; print('torch' in sys.modules, 'alignnet.data.synthetic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
