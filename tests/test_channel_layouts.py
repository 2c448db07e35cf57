"""``--channels auto`` decides from the file: units apart on tetrodes and probes, summed per
electrode on single-electrode (Utah) arrays; `data inspect` says which and why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from alignnet.cli.main import cli
from alignnet.data.io import load_session
from helpers_lab_files import write_lab_nwb

SECONDS = 10.0


def _times(n_units: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.sort(rng.uniform(0, SECONDS, 60)) for _ in range(n_units)]


def _behavior() -> dict:
    t = np.arange(0, SECONDS, 0.02)
    return {"position": (np.stack([t, t], 1), t, "cm")}


def tetrode_file(tmp: Path, *, all_wires: bool = True, name: str = "tetrodes.nwb") -> Path:
    """13 tetrodes of 4 wires, 25 units; each unit linked to the 4 wires of its tetrode (as
    tetrode exports do) or, with ``all_wires=False``, to its first wire only."""
    tetrode_of_unit = np.arange(25) % 13
    links = [
        [4 * t + w for w in range(4)] if all_wires else [4 * t] for t in tetrode_of_unit.tolist()
    ]
    return write_lab_nwb(
        tmp / name,
        unit_times=_times(25),
        unit_links=links,
        groups=[(f"TT{i + 1}", "electrode group", 4) for i in range(13)],
        device=("drive", "microdrive"),
        behavior=_behavior(),
    )


def probe_file(tmp: Path) -> Path:
    """A 32-site linear probe, 20 µm apart (named neutrally: geometry decides)."""
    positions = np.stack([np.zeros(32), np.arange(32) * 20.0], 1)
    return write_lab_nwb(
        tmp / "probe.nwb",
        unit_times=_times(20),
        unit_links=[[int(s)] for s in np.linspace(0, 31, 20).astype(int)],
        groups=[("g0", "sites", 32)],
        positions=positions,
        device=("dev0", "acquisition board"),
        behavior=_behavior(),
    )


def utah_file(tmp: Path) -> Path:
    """A 96-electrode array, 400 µm pitch, one or two sorted units per electrode."""
    grid = np.array([(x, y) for y in range(10) for x in range(10)])[2:98] * 400.0
    links = [[e] for e in range(96)] + [[e] for e in range(0, 96, 3)]
    return write_lab_nwb(
        tmp / "utah.nwb",
        unit_times=_times(len(links)),
        unit_links=links,
        positions=grid,
        device=("utah_array", "96-electrode Utah array"),
        behavior=_behavior(),
    )


def test_tetrodes_keep_units_apart(tmp_path: Path):
    path = tetrode_file(tmp_path)
    auto = load_session(path)
    assert auto.meta.channel_policy == "unit" and auto.n_channels == 25
    assert (
        "25 of 25 units are each linked to several electrodes (median 4)"
        in (auto.meta.extra["channel_policy_reason"])
    )
    summed = load_session(path, channels="electrode")  # what auto used to pick
    assert summed.n_channels == 52 and len(summed.meta.flagged_channels) == 52 - 13
    one_wire = load_session(tetrode_file(tmp_path, all_wires=False, name="tt1.nwb"))
    assert one_wire.meta.channel_policy == "unit"
    assert "13 electrode groups of 4-4 electrodes" in one_wire.meta.extra["channel_policy_reason"]


def test_probe_geometry_keeps_units_apart(tmp_path: Path):
    session = load_session(probe_file(tmp_path))
    assert session.meta.channel_policy == "unit" and session.n_channels == 20
    assert "sites 20 µm apart" in session.meta.extra["channel_policy_reason"]


def test_named_probe_keeps_units_apart(tmp_path: Path):
    path = write_lab_nwb(
        tmp_path / "np.nwb",
        unit_times=_times(4),
        unit_links=[[0], [1], [2], [3]],
        device=("Neuropixels 1.0", "probe"),
        behavior=_behavior(),
    )
    session = load_session(path)
    assert session.meta.channel_policy == "unit"
    assert "'neuropixel'" in session.meta.extra["channel_policy_reason"]


def test_utah_array_sums_per_electrode(tmp_path: Path):
    session = load_session(utah_file(tmp_path))
    assert session.meta.channel_policy == "electrode" and session.n_channels == 96
    reason = session.meta.extra["channel_policy_reason"]
    assert reason.startswith("auto: single-electrode array") and "400 µm pitch" in reason
    assert "1.3 units per electrode" in reason


@pytest.mark.parametrize(
    ("maker", "words"),
    [
        (tetrode_file, "channels: unit (auto: 25 of 25 units"),
        (probe_file, "channels: unit (auto: sites 20 µm apart"),
        (utah_file, "channels: electrode (auto: single-electrode array"),
    ],
)
def test_data_inspect_says_what_it_chose_and_why(tmp_path: Path, maker, words):
    path = maker(tmp_path)
    res = CliRunner().invoke(cli, ["data", "inspect", str(path), "--channels", "auto"])
    assert res.exit_code == 0, res.output
    assert words in res.output
    forced = CliRunner().invoke(cli, ["data", "inspect", str(path), "--channels", "unit"])
    assert "channels: unit (asked for channels='unit')" in forced.output
