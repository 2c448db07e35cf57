"""A lab's own NWB days: no behaviour at all (`align` / `decode` on them), behaviour with
dropouts, and `--behavior NAME` choosing among several series (CLI and API)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from alignnet.api import AlignNet
from alignnet.cli.main import cli
from alignnet.data.io import load_session, load_sessions
from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows
from alignnet.errors import DataError
from helpers_alignnet import TINY_ALIGNNET
from helpers_lab_files import tuned_units, write_lab_nwb

SECONDS = 40.0
N_ELECTRODES = 6
TRIALS = [(3.0 * k + 0.5, 3.0 * k + 3.0) for k in range(int(SECONDS // 3) - 1)]


def _day(tmp: Path, day: int, *, behavior: str = "three", seed: int = 0) -> Path:
    """A Utah-like day (one unit per electrode) whose spikes follow a 2-D hand trajectory.

    ``behavior``: ``"three"`` (hand_position, hand_velocity and cursor series), ``"none"``
    (no behaviour module: an unlabelled day) or ``"nan"`` (hand_position with dropouts).
    """
    t = np.arange(0.0, SECONDS, 0.01)
    pos = np.stack([np.sin(0.7 * t + day), np.cos(0.5 * t)], axis=1)
    vel = np.gradient(pos, t, axis=0)
    units = tuned_units(np.concatenate([pos, vel], 1), t, N_ELECTRODES, seed=seed + 7 * day)
    series = None
    if behavior == "three":
        series = {
            "hand_position": (pos, t, "cm"),
            "hand_velocity": (vel, t, "cm/s"),
            "cursor": (2 * pos[:, :1], t, "px"),
        }
    elif behavior == "nan":
        holed = pos.copy()
        holed[500:503] = np.nan  # 30 ms dropout: filled
        holed[2000:2300] = np.nan  # 3 s dropout: left missing, its windows dropped
        series = {"hand_position": (holed, t, "cm")}
    return write_lab_nwb(
        tmp / f"day{day:02d}_{behavior}.nwb",
        day=day,
        unit_times=units,
        unit_links=[[e] for e in range(N_ELECTRODES)],
        positions=np.stack([np.arange(N_ELECTRODES) * 400.0, np.zeros(N_ELECTRODES)], 1),
        behavior=series,
        trials=TRIALS,
        acquisition_span=(0.0, SECONDS) if behavior == "none" else None,
    )


def test_three_series_are_chosen_by_name_and_a_wrong_name_lists_them(tmp_path: Path):
    path = _day(tmp_path, 0)
    first = load_session(path)  # no name: the first series in the file (HDF5 keeps names sorted)
    assert first.meta.extra["behavior_series"] == "behavior/Position_cursor/cursor"
    vel = load_session(path, behavior="hand_velocity")
    assert vel.meta.behavior_unit == "cm/s" and vel.n_behavior_dims == 2
    cursor = load_session(path, behavior="cursor")
    assert cursor.n_behavior_dims == 1 and cursor.meta.behavior_unit == "px"
    derived = load_session(path, behavior="hand_position:velocity")
    assert derived.meta.behavior_names == ["vx", "vy"] and derived.meta.behavior_unit == "cm/s"
    # the derivative of the position series is the stored velocity (central differences)
    np.testing.assert_allclose(derived.behavior[1:-1], vel.behavior[1:-1], atol=1e-9)
    with pytest.raises(
        DataError,
        match=r"no behaviour series named 'hand'; the file has "
        r"\['cursor', 'hand_position', 'hand_velocity'\]",
    ):
        load_session(path, behavior="hand")
    with pytest.raises(DataError, match="unknown transform 'speed'"):
        load_session(path, behavior="hand_position:speed")
    assert not load_session(path, behavior="none").has_behavior


def test_unlabelled_day_loads_with_its_extent_stated(tmp_path: Path):
    session = load_session(_day(tmp_path, 3, behavior="none"))
    assert not session.has_behavior and session.n_behavior_dims == 0
    assert session.meta.extra["extent_from"] == "acquisition"
    assert (session.t_start, session.t_stop) == (0.0, SECONDS)
    windows = sessions_to_windows([session], preprocess_config_for([session]))
    assert windows.behavior.shape == (len(windows), 0, windows.window_len)
    assert len(windows) == len(TRIALS)


def test_spikes_all_outside_the_stated_extent_are_refused(tmp_path: Path):
    units = [np.array([100.0, 101.0]), np.array([102.5])]
    path = write_lab_nwb(
        tmp_path / "late.nwb",
        unit_times=units,
        unit_links=[[0], [1]],
        acquisition_span=(0.0, 50.0),
    )
    with pytest.raises(DataError, match="every spike falls outside the acquisition's start/stop"):
        load_session(path)


def test_dropouts_short_gaps_filled_long_gaps_drop_their_windows(tmp_path: Path):
    path = _day(tmp_path, 0, behavior="nan")
    session = load_session(path)
    gaps = session.meta.extra["behavior_gaps"]
    assert gaps == {"missing_samples": 303, "filled_samples": 3, "gaps_left": 1}
    assert np.isfinite(session.behavior[500:503]).all()
    windows = sessions_to_windows([session], preprocess_config_for([session]))
    info = windows.info["sessions"][0]
    # the 3 s gap (20.0-23.0 s) lies in the 2 s windows of the trials at 18.5 and 21.5 s
    assert info["dropped_behavior_gaps"] == 2
    assert len(windows) == len(TRIALS) - 2 and np.isfinite(windows.behavior).all()
    tight = load_session(path, max_gap_s=0.0)
    assert tight.meta.extra["behavior_gaps"]["filled_samples"] == 0


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny decode model trained on two labelled days; returns (checkpoint, folder)."""
    tmp = tmp_path_factory.mktemp("lab")
    train = tmp / "train"
    train.mkdir()
    for day in (0, 1):
        _day(train, day)
    sessions = load_sessions(train, behavior="hand_position")
    windows = sessions_to_windows(sessions, preprocess_config_for(sessions))
    torch.manual_seed(0)
    model = AlignNet(neuron="relu", epochs=2, seed=0, align_epochs=2, **TINY_ALIGNNET)
    model.pretrain(windows, progress=False)
    model.finetune(windows, task="decode", progress=False)
    path = tmp / "model.pt"
    model.save(path)
    return path, tmp


def test_api_align_and_decode_take_windows_without_behaviour(checkpoint, tmp_path):
    path, _ = checkpoint
    model = AlignNet.load(path)
    session = load_session(_day(tmp_path, 4, behavior="none", seed=3))
    session.meta.day = 4
    windows = sessions_to_windows([session], preprocess_config_for([session]))
    assert windows.n_behavior_dims == 0
    report = model.align(windows, progress=False)
    assert report.day == 4 and np.isfinite(report.loss).all()
    pred = model.decode(windows)
    assert pred.shape == (len(windows), 2, windows.window_len) and np.isfinite(pred).all()


def test_cli_align_and_decode_an_nwb_day_without_behaviour(checkpoint, tmp_path):
    path, _ = checkpoint
    runner = CliRunner()
    for kind in ("none", "nan"):
        new_day = _day(tmp_path, 5, behavior=kind, seed=11)
        aligned = tmp_path / f"aligned_{kind}.pt"
        res = runner.invoke(cli, ["align", str(path), str(new_day), "--out", str(aligned)])
        assert res.exit_code == 0, res.output
        assert "aligned day 5" in res.output and f"{len(TRIALS)} windows" in res.output
        out = tmp_path / f"pred_{kind}.npz"
        res = runner.invoke(cli, ["decode", str(aligned), str(new_day), "--out", str(out)])
        assert res.exit_code == 0, res.output
        pred = np.load(out)["behavior"]
        assert pred.shape[1] == 2 and np.isfinite(pred).all()
        if kind == "none":
            assert pred.shape[0] == len(TRIALS) and "no behaviour" in res.output
        else:  # labelled with dropouts: the windows over the long gap are not scored
            assert pred.shape[0] == len(TRIALS) - 2 and "R^2" in res.output


def test_cli_behavior_option_on_every_data_command(checkpoint, tmp_path):
    path, folder = checkpoint
    day = _day(tmp_path, 0)
    runner = CliRunner()
    res = runner.invoke(cli, ["data", "inspect", str(day), "--behavior", "cursor"])
    assert res.exit_code == 0, res.output
    assert "behaviour series: behavior/Position_cursor/cursor" in res.output
    res = runner.invoke(cli, ["data", "inspect", str(day), "--behavior", "elbow"])
    assert res.exit_code != 0
    assert "no behaviour series named 'elbow'" in str(res.exception or res.output)
    assert "hand_velocity" in str(res.exception or res.output)
    out = tmp_path / "pos.npz"
    res = runner.invoke(
        cli, ["decode", str(path), str(day), "--out", str(out), "--behavior", "hand_position"]
    )
    assert res.exit_code == 0 and "R^2" in res.output, res.output
    res = runner.invoke(
        cli,
        ["decode", str(path), str(day), "--out", str(out), "--overwrite", "--behavior", "cursor"],
    )
    assert res.exit_code == 0 and "not scored" in res.output  # 1-d cursor vs a 2-d model
    res = runner.invoke(
        cli,
        ["simulate", str(path), str(day), "--out", str(tmp_path / "s.npz"), "--behavior", "none"],
    )
    assert res.exit_code != 0 and "needs behaviour" in str(res.exception)
    windows_out = tmp_path / "w.npz"
    res = runner.invoke(
        cli,
        ["data", "preprocess", str(day), "--out", str(windows_out), "--behavior", "hand_velocity"],
    )
    assert res.exit_code == 0, res.output
    for command in ("pretrain", "finetune", "decode", "simulate", "embed", "align", "benchmark"):
        help_text = runner.invoke(cli, [command, "--help"]).output
        assert "--behavior" in help_text and "--max-gap-ms" in help_text, command
