"""`alignnet benchmark --preset demo` end to end, as the README runs it (one seed, two jobs).

This is the full run of every model x protocol on the demo data (about 20 CPU-minutes since
the causal default, the temporal context, the aligned rows and the spike statistics of samples;
run it with ``pytest -m demo_scale``; the default run skips it, and tests/test_benchmark.py
runs the same pipeline end to end on the tiny preset): the files exist, the table has every model and protocol, the numbers are finite and in
range, the figures open, and the decoders find the signal that the synthetic data put there.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from alignnet.cli.main import cli
from alignnet.evaluation.presets import PRESETS
from alignnet.names import ALIGNMENT_ROWS, ALIGNNET_ROWS, BASELINE_ROWS, SYNTHETIC_PROTOCOLS

pytestmark = [pytest.mark.slow, pytest.mark.demo_scale]

FILES = ("results.csv", "results.json", "table1.md", "fig5.png", "fig6.png", "fig7.png",
         "fewshot.png", "days_apart.png")  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo_bench")
    args = ["benchmark", "--preset", "demo", "--seeds", "0", "--jobs", "2", "--quiet"]
    res = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res.output


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_every_file_is_written(demo) -> None:
    out, output = demo
    for name in FILES:
        assert (out / name).is_file(), name
        assert f"wrote {out / name}" in output


def test_every_model_and_protocol_with_finite_in_range_numbers(demo) -> None:
    out, _ = demo
    rows = _rows(out)
    models = ALIGNNET_ROWS + BASELINE_ROWS + ALIGNMENT_ROWS  # several days: the aligned rows too
    assert {(r["model"], r["protocol"]) for r in rows} == {
        (m, p) for m in models for p in SYNTHETIC_PROTOCOLS
    }
    for r in rows:
        assert math.isfinite(float(r["r2"])) and float(r["r2"]) <= 1.0
        assert -1.0 <= float(r["pcc"]) <= 1.0
        if r["task"] == "simulate":
            assert 0.0 <= float(r["fr_error"]) <= 1.0
    shots = {int(r["shots"]) for r in rows if r["protocol"] == "few-shot"}
    assert shots == set(PRESETS["demo"].shots)
    table = (out / "table1.md").read_text()
    for model in models:
        assert f"| {model} |" in table


def test_decoders_find_the_signal(demo) -> None:
    out, _ = demo

    def r2(model: str, protocol: str) -> float:
        values = [
            float(r["r2"])
            for r in _rows(out)
            if r["model"] == model and r["protocol"] == protocol and r["task"] == "decode"
        ]
        return float(np.mean(values))

    # the behaviour is a smooth function of the spikes: every decoder beats the mean predictor
    # by far on a held-out day, and AlignNet is not worse than the linear filter there
    for model in ("Wiener", "GRU", "AlignNet-LIF"):
        assert r2(model, "cross-day") > 0.4, model
    assert r2("AlignNet-LIF", "cross-day") > r2("Wiener", "cross-day")


def test_figures_open_and_are_not_blank(demo) -> None:
    import matplotlib.image as mpimg

    out, _ = demo
    for name in FILES[3:]:
        img = mpimg.imread(out / name)
        assert img.ndim == 3 and min(img.shape[:2]) > 200, name
        assert float(img[..., :3].std()) > 0.01, name


def test_rerun_reuses_every_cell(demo) -> None:
    out, _ = demo
    args = ["benchmark", "--preset", "demo", "--seeds", "0", "--quiet", "--out", str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    n_cells = len(ALIGNNET_ROWS + BASELINE_ROWS) * len(SYNTHETIC_PROTOCOLS)
    assert f"0 cell(s) run, {n_cells} reused" in res.output
