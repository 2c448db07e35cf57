"""Behaviour other than hand kinematics: a freely moving animal's 2-D position (cm or pixels,
dropouts as NaN or 0), 1-D position on a track, a discrete variable (arena quadrant) at the
camera rate: each reads, bins and decodes (place cells on tetrodes, `data place-cells`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from alignnet.cli.main import cli
from alignnet.data.io import load_session
from alignnet.data.io.nwb_hippocampus import write_place_cells_nwb
from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows
from alignnet.data.synthetic.place_cells import PlaceCellConfig, generate_place_cells
from alignnet.evaluation.metrics import r2_score
from alignnet.models.baselines.wiener import WienerFilter


def _file(tmp: Path, name: str, **changes) -> Path:
    config = PlaceCellConfig(seconds=240.0, **changes)
    return write_place_cells_nwb(
        generate_place_cells(config, seed=1), tmp / f"{name}.nwb", n_tetrodes=config.n_tetrodes
    )


def _windows(path: Path, **read):
    session = load_session(path, **read)
    return session, sessions_to_windows([session], preprocess_config_for([session]))


def _decode(windows):
    """Wiener filter, first 60 % train / next 20 % validation / last 20 % test (causal lags)."""
    n = len(windows)
    a, b = int(0.6 * n), int(0.8 * n)
    idx = np.arange(n)
    model = WienerFilter().fit(windows[idx[:a]], windows[idx[a:b]], task="decode", seed=0)
    test = windows[idx[b:]]
    return test.behavior, model.predict(test.spikes)


def test_open_field_position_in_cm_with_nan_dropouts_decodes(tmp_path: Path):
    session, windows = _windows(_file(tmp_path, "cm"), behavior="position")
    assert session.meta.behavior_unit == "cm" and session.meta.channel_policy == "unit"
    gaps = session.meta.extra["behavior_gaps"]
    assert gaps["filled_samples"] > 0 and gaps["gaps_left"] >= 1
    info = windows.info["sessions"][0]
    assert info["dropped_behavior_gaps"] >= 1  # long dropouts: their windows are not used
    assert np.isfinite(windows.behavior).all() and windows.n_behavior_dims == 2
    truth, pred = _decode(windows)
    # place cells carry the position; a linear read-out of Gaussian fields gets part of it
    # (R^2 0.33 with this seed, window figure on the last 20 %)
    assert r2_score(truth, pred) > 0.15


def test_pixels_with_zero_dropouts_need_missing_value(tmp_path: Path):
    path = _file(tmp_path, "px", px_per_cm=4.0, dropout_value=0.0)
    raw = load_session(path, behavior="position")
    assert raw.meta.behavior_unit == "px" and "behavior_gaps" not in raw.meta.extra
    assert (raw.behavior == 0).all(axis=1).any()  # zeros are taken as positions without it
    session, windows = _windows(path, behavior="position", missing_value=0.0)
    assert session.meta.extra["behavior_gaps"]["missing_samples"] == int(
        (raw.behavior == 0).all(axis=1).sum()
    )
    assert windows.info["sessions"][0]["dropped_behavior_gaps"] >= 1
    assert windows.behavior.max() > 300  # pixels: 100 cm * 4 px/cm
    tight = sessions_to_windows(
        [load_session(path, behavior="position", missing_value=0.0, max_gap_s=0.0)],
        preprocess_config_for([session]),
    )
    assert len(tight) < len(windows)  # no gap filled: every dropout drops its window


def test_linear_track_is_one_dimensional(tmp_path: Path):
    session, windows = _windows(_file(tmp_path, "track", track=True), behavior="position")
    assert session.meta.behavior_names == ["x"] and windows.n_behavior_dims == 1
    truth, pred = _decode(windows)
    assert r2_score(truth, pred) > 0.5  # 0.80 with this seed


def test_discrete_quadrant_reads_as_one_hot_and_decodes_above_chance(tmp_path: Path):
    session, windows = _windows(_file(tmp_path, "quadrant"), behavior="region:discrete")
    assert session.meta.behavior_names == [f"region={k}" for k in range(4)]
    assert windows.n_behavior_dims == 4
    truth, pred = _decode(windows)
    labels, guess = truth.argmax(axis=1), pred.argmax(axis=1)
    majority = np.bincount(labels.ravel()).max() / labels.size
    assert (guess == labels).mean() > majority + 0.05  # 0.83 vs 0.68 with this seed


def test_place_cells_command(tmp_path: Path):
    res = CliRunner().invoke(
        cli, ["data", "place-cells", "--out", str(tmp_path), "--minutes", "1", "--units", "12"]
    )
    assert res.exit_code == 0, res.output
    assert "12 units on 13 tetrodes" in res.output
    session = load_session(tmp_path / "day00.nwb")
    assert session.meta.extra["behavior_series"] == "behavior/Position/position"
    assert session.n_channels == 12
    again = CliRunner().invoke(cli, ["data", "place-cells", "--out", str(tmp_path)])
    assert again.exit_code == 2 and "pass --overwrite" in again.output


@pytest.mark.parametrize("seed", [0, 3])
def test_generator_is_seeded(seed: int):
    a = generate_place_cells(PlaceCellConfig(seconds=20.0), seed=seed)
    b = generate_place_cells(PlaceCellConfig(seconds=20.0), seed=seed)
    np.testing.assert_array_equal(a.position, b.position)
    for x, y in zip(a.unit_times, b.unit_times, strict=True):
        np.testing.assert_array_equal(x, y)
