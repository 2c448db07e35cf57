"""`alignnet benchmark --data DIR` on generated DANDI-style NWB days whose sorted units differ
from day to day: every protocol, both channel policies, through the CLI and the NWB reader."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from alignnet.cli.main import cli


@pytest.fixture(scope="module")
def nwb_days(tmp_path_factory):
    out = tmp_path_factory.mktemp("nwb") / "days"
    result = CliRunner().invoke(
        cli,
        ["data", "synth", "--preset", "nwb-tiny", "--seed", "0", "--out", str(out),
         "--format", "nwb"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("policy", ["electrode", "unit"])
def test_benchmark_runs_every_protocol_on_multiday_nwb(nwb_days, tmp_path, policy):
    out = tmp_path / policy
    args = [
        "benchmark", "--preset", "tiny", "--data", str(nwb_days), "--channels", policy,
        "--seeds", "0", "--models", "AlignNet-aligned", "Wiener", "CCA-align",
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    assert data["data"]["channel_policy"] == policy
    counts = set(data["data"]["channels_per_day"].values())
    assert len(counts) == (1 if policy == "electrode" else 4)  # units differ every day
    assert sorted(map(int, data["data"]["channels_per_day"])) == [0, 1, 5, 12]  # calendar days
    records = data["records"]
    assert {r["protocol"] for r in records} == {"single-day", "cross-day", "few-shot", "days-apart"}
    aligned = [r for r in records if r["model"] == "AlignNet-aligned" and r["task"] == "decode"]
    # the aligned model decodes the new day in every cross-day protocol, whatever its units
    assert {r["protocol"] for r in aligned} == {"single-day", "cross-day", "few-shot", "days-apart"}
    assert max(r["days_apart"] for r in aligned if r["protocol"] == "days-apart") == 12
    wiener_cross = [r for r in records if r["model"] == "Wiener" and r["protocol"] == "cross-day"]
    skipped = [s for c in data["cells"] if c["model"] == "Wiener" for s in c.get("skipped", [])]
    if policy == "electrode":
        assert wiener_cross and not skipped
    else:  # a fixed decoder has no meaning when every day has other units: skipped, with why
        assert not wiener_cross and any("channel lists" in s["why"] for s in skipped)
    assert "CCA-align" in {r["model"] for r in records if r["protocol"] == "cross-day"}
    simulated = [r for r in records if r["task"] == "simulate"]
    # the true rates come back from the sidecar files under the electrode policy only
    assert all(("ceiling_pcc" in r) == (policy == "electrode") for r in simulated)
    # the aligned row simulates a new day through that day's read-out, whatever its units
    new_day = [
        r for r in simulated if r["model"] == "AlignNet-aligned" and r["protocol"] == "cross-day"
    ]
    assert new_day and all(r.get("aligned_on_windows", 0) > 0 for r in new_day)
