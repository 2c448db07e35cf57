import numpy as np
import pytest
import torch
from click.testing import CliRunner

from alignnet.cli.main import cli
from helpers_alignnet import make_windows

torch.set_num_threads(1)


def test_demo_tiny_writes_finite_outputs(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(
        cli,
        [
            "demo",
            "--out",
            str(out),
            "--preset",
            "tiny",
            "--epochs",
            "1",
            "--neuron",
            "relu",
            "--device",
            "cpu",
        ],
    )
    assert res.exit_code == 0, res.output
    for name in (
        "report.md",
        "model.ckpt",
        "decoded_trajectories.png",
        "simulated_spikes.png",
        "pretrain_log.csv",
    ):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    report = (out / "report.md").read_text()
    row = "| decode: AlignNet, causal (trial windows) |"  # the default model is causal
    assert row in report and "decode lag 0: AlignNet, causal (incremental stream)" in report
    r2 = float(report.split(row)[1].split("|")[0])
    assert np.isfinite(r2)
    assert "true rates (ceiling): PCC" in report and "of the ceiling" in report
    # the default checkpoint streams bin by bin (what `alignnet stream` and falcon-eval take)
    from alignnet.realtime.causal import CausalStreamingDecoder

    decoder = CausalStreamingDecoder.from_checkpoint(out / "model.ckpt", day=1)
    assert np.isfinite(decoder.step(np.ones(decoder.n_channels))).all()

    # A second run into the same folder refuses, and leaves the first run's files untouched.
    before = (out / "report.md").read_bytes()
    again = CliRunner().invoke(cli, ["demo", "--out", str(out), "--preset", "tiny"])
    assert again.exit_code != 0 and "--overwrite" in again.output
    assert (out / "report.md").read_bytes() == before


@pytest.fixture
def windows_file(tmp_path):
    from alignnet.data.io import save_windows

    path = tmp_path / "w.npz"
    save_windows(make_windows(n_days=3, trials_per_day=12, n_channels=8, length=16), path)
    return path


def test_pretrain_finetune_decode_simulate_embed_cli(tmp_path, windows_file):
    run = CliRunner()
    ckpt, ft = tmp_path / "pre.ckpt", tmp_path / "ft.ckpt"
    res = run.invoke(
        cli,
        [
            "pretrain",
            str(windows_file),
            "--out",
            str(ckpt),
            "--days",
            "0,1",
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--neuron",
            "relu",
            "--device",
            "cpu",
            "--log",
            str(tmp_path / "log.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "log.csv").is_file()
    res = run.invoke(cli, ["pretrain", str(windows_file), "--out", str(ckpt), "--epochs", "1"])
    assert res.exit_code != 0 and "exists" in res.output
    from alignnet.api import AlignNet

    assert AlignNet.load(ckpt).config.model.causal  # the default form
    # fine-tuning keeps the pretrained form: asking for the other one is refused up front
    res = run.invoke(cli, ["finetune", str(ckpt), str(windows_file), "--task", "decode",
                           "--out", str(tmp_path / "x.ckpt"), "--acausal"])  # fmt: skip
    assert res.exit_code != 0 and "alignnet pretrain --acausal" in res.output
    for flags, causal in ((["--acausal"], False), (["--arch", "paper"], False),
                          (["--arch", "paper", "--causal"], True)):  # fmt: skip
        out = tmp_path / f"pre{len(flags)}{causal}.ckpt"
        res = run.invoke(cli, ["pretrain", str(windows_file), "--out", str(out), "--epochs",
                               "1", "--neuron", "relu", "--device", "cpu", *flags])  # fmt: skip
        assert res.exit_code == 0, res.output
        assert AlignNet.load(out).config.model.causal is causal, flags
    for task, out in (("decode", ft), ("simulate", tmp_path / "ft2.ckpt")):
        src = ckpt if task == "decode" else ft
        res = run.invoke(
            cli,
            [
                "finetune",
                str(src),
                str(windows_file),
                "--task",
                task,
                "--out",
                str(out),
                "--train-days",
                "0,1",
                "--epochs",
                "1",
            ],
        )
        assert res.exit_code == 0, res.output
    both = tmp_path / "ft2.ckpt"
    res = run.invoke(
        cli,
        [
            "decode",
            str(both),
            str(windows_file),
            "--out",
            str(tmp_path / "pred.npz"),
            "--days",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "R^2" in res.output
    with np.load(tmp_path / "pred.npz") as f:
        assert f["behavior"].shape == (12, 2, 16) and np.isfinite(f["behavior"]).all()
    res = run.invoke(
        cli,
        [
            "simulate",
            str(both),
            str(windows_file),
            "--out",
            str(tmp_path / "sim.npz"),
            "--sample",
            "--seed",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    with np.load(tmp_path / "sim.npz") as f:
        assert f["spikes"].shape == (36, 8, 16) and (f["spikes"] >= 0).all()
        assert f["rates"].shape == (36, 8, 16)  # --sample keeps the rates beside
    assert "bits/spike over the day's mean rates" in res.output
    sim = [
        "simulate",
        str(both),
        str(windows_file),
        "--overwrite",
        "--out",
        str(tmp_path / "s.npz"),
    ]
    res = run.invoke(cli, [*sim, "--day", "9"])  # a day never trained on nor aligned
    assert res.exit_code == 1 and "neither trained on nor aligned" in res.output, res.output
    res = run.invoke(cli, [*sim, "--sample", "--seed", "-1"])
    assert res.exit_code == 2 and "--seed" in res.output, res.output
    res = run.invoke(
        cli, ["embed", str(both), str(windows_file), "--out", str(tmp_path / "emb.npz")]
    )
    assert res.exit_code == 0, res.output
    with np.load(tmp_path / "emb.npz") as f:
        np.testing.assert_allclose(np.linalg.norm(f["z"], axis=1), 1.0, atol=1e-5)
