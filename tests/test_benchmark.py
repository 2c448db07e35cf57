"""`alignnet benchmark --preset tiny`: all files, every model and protocol, sane numbers, resume."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from alignnet.evaluation.benchmark import BenchmarkConfig, run_benchmark
from alignnet.evaluation.tables import PAPER_TABLE1
from alignnet.names import ALIGNMENT_ROWS, ALIGNNET_ROWS, BASELINE_ROWS, SYNTHETIC_PROTOCOLS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("bench")
    config = BenchmarkConfig(out=out, preset="tiny", seeds=(0,))
    return config, run_benchmark(config, progress=False, log=lambda m: None)


def _expected_models(result) -> list[str]:
    # several days: the default rows include the aligned and stabilised rows (issue 21)
    rows = ALIGNNET_ROWS + BASELINE_ROWS + ALIGNMENT_ROWS
    return [m for m in rows if m not in result.skipped]


def test_writes_every_file(run) -> None:
    config, result = run
    for name in ("results.csv", "results.json", "table1.md", "fig5.png", "fig6.png", "fig7.png",
                 "fewshot.png", "days_apart.png"):  # fmt: skip
        assert (config.out / name).is_file(), name
        assert name in result.files


def test_every_model_and_protocol_has_finite_in_range_numbers(run) -> None:
    config, result = run
    models = _expected_models(result)
    assert set(BASELINE_ROWS) <= set(models)  # baselines never skip
    with open(config.out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    seen = {(r["model"], r["protocol"]) for r in rows}
    assert seen == {(m, p) for m in models for p in SYNTHETIC_PROTOCOLS}
    for r in rows:
        r2 = float(r["r2"])
        assert math.isfinite(r2) and r2 <= 1.0
        if r["pcc"] not in ("", "nan"):
            assert -1.0 <= float(r["pcc"]) <= 1.0
        if r["task"] == "simulate":
            assert 0.0 <= float(r["fr_error"]) <= 1.0
    # at least the linear decoder must find signal in the synthetic data
    wiener = [float(r["r2"]) for r in rows if r["model"] == "Wiener" and r["task"] == "decode"]
    assert max(wiener) > 0.1


def test_results_json_keeps_settings_and_chosen_hyperparameters(run) -> None:
    config, _ = run
    data = json.loads((config.out / "results.json").read_text())
    assert data["config"]["preset"] == "tiny"
    assert data["data"]["n_days"] == 3
    cell = next(c for c in data["cells"] if c["model"] == "Wiener")
    chosen = cell["hyperparameters"][0]["chosen"]
    assert "alpha" in chosen and "setting" in chosen


def test_table_has_every_model_row_and_the_papers_figures(run) -> None:
    config, result = run
    text = (config.out / "table1.md").read_text()
    for model in _expected_models(result):
        assert f"| {model} |" in text
    assert "paper's own Table 1" in text
    assert f"{PAPER_TABLE1['MLP'][0]:.3f}" in text


def test_figures_open(run) -> None:
    import matplotlib.image as mpimg

    config, _ = run
    for name in ("fig5.png", "fig6.png", "fig7.png", "fewshot.png", "days_apart.png"):
        img = mpimg.imread(config.out / name)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100


def test_resume_skips_finished_cells(run) -> None:
    config, first = run
    again = run_benchmark(config, progress=False, log=lambda m: None)
    assert again.ran == 0 and again.reused == first.ran + first.reused
    # a lost cell is recomputed, the others reused
    victim = next(Path(config.out, "cells").glob("Wiener__single-day__seed0.json"))
    victim.unlink()
    third = run_benchmark(config, progress=False, log=lambda m: None)
    assert third.ran == 1 and third.reused == again.reused - 1
    assert victim.is_file()


def test_cli_help_and_bad_model(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from alignnet.cli.main import cli

    runner = CliRunner()
    res = runner.invoke(cli, ["benchmark", "--help"])
    assert res.exit_code == 0 and "--seeds" in res.output and "--epochs-scale" in res.output
    res = runner.invoke(cli, ["benchmark", "--out", str(tmp_path), "--models", "Kalman"])
    assert res.exit_code != 0 and "Kalman" in res.output


def test_cli_module_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, alignnet.cli.benchmark; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_parallel_jobs_give_the_same_numbers(run, tmp_path: Path) -> None:
    config, first = run
    models, protocols = ("Wiener", "AlignNet-LIF"), ("cross-day", "few-shot")
    parallel = BenchmarkConfig(
        out=tmp_path, preset="tiny", seeds=(0,), models=models, protocols=protocols, jobs=2
    )
    result = run_benchmark(parallel, progress=False, log=lambda m: None)
    assert result.ran == len(models) * len(protocols)

    def numbers(records):
        return sorted(
            (
                r["model"],
                r["protocol"],
                r["fold"],
                r["task"],
                r["test"],
                repr(r["r2"]),
                repr(r["pcc"]),
            )
            for r in records
            if r["model"] in models and r["protocol"] in protocols
        )

    assert numbers(result.records) == numbers(first.records)


def test_bad_jobs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jobs"):
        BenchmarkConfig(out=tmp_path, preset="tiny", jobs=0)
