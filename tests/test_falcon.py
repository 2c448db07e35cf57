"""FALCON: FALCON's own evaluator scores the AlignNet decoder on generated M1-layout files."""

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("falcon_challenge.evaluator", reason="needs the falcon extra")

from falcon_challenge.config import FalconConfig
from falcon_challenge.evaluator import FalconEvaluator
from falcon_challenge.interface import BCIDecoder

from alignnet.api import AlignNet
from alignnet.errors import CheckpointError, DataError
from alignnet.realtime.falcon import (
    AlignNetFalconDecoder,
    calibration_statistics,
    falcon_task,
    falcon_windows,
)
from helpers_alignnet import TINY_ALIGNNET
from helpers_falcon import N_MUSCLES, N_UNITS, write_m1_dataset

torch.set_num_threads(1)
TASK = falcon_task("m1")


@pytest.fixture(scope="module")
def falcon_data(tmp_path_factory):
    return write_m1_dataset(tmp_path_factory.mktemp("falcon"))


@pytest.fixture(scope="module")
def trained(falcon_data, tmp_path_factory):
    """A tiny causal AlignNet fine-tuned on the calibration files (64 units -> 16 muscles)."""
    calib = sorted((falcon_data / "m1" / "calib").glob("*.nwb"))
    windows = falcon_windows(calib, TASK, window_bins=20)
    assert windows.spikes.shape[1:] == (N_UNITS, 20) and windows.behavior.shape[1] == N_MUSCLES
    model = AlignNet(
        **{**TINY_ALIGNNET, "causal": True, "neuron": "lif", "epochs": 25, "val_fraction": 0.0}
    )
    model.finetune(windows, task="decode", progress=False)
    path = tmp_path_factory.mktemp("ckpt") / "falcon.ckpt"
    model.save(path)
    return model, path, calibration_statistics(calib, TASK)


class ZeroDecoder(BCIDecoder):
    def reset(self, dataset_tags=("",)):
        pass

    def predict(self, neural_observations):
        return np.zeros((neural_observations.shape[0], N_MUSCLES), dtype=np.float32)

    def on_done(self, dones):
        pass


def _evaluate(decoder, data: Path, tmp_path: Path, monkeypatch) -> dict:
    monkeypatch.setenv("EVAL_DATA_PATH", str(data))
    monkeypatch.setenv("PREDICTION_PATH_LOCAL", str(tmp_path / "pred.pkl"))
    monkeypatch.setenv("GT_PATH", str(tmp_path / "gt.pkl"))
    evaluator = FalconEvaluator(eval_remote=False, split="m1", dataloader_workers=0)
    result = evaluator.evaluate(decoder, phase="minival")
    return result["result"][0]["minival_split_m1"]


def test_falcon_evaluator_scores_the_alignnet_decoder(falcon_data, trained, tmp_path, monkeypatch):
    _, path, calibration = trained
    config = FalconConfig(task=TASK)
    decoder = AlignNetFalconDecoder(config, path, calibration=calibration, batch_size=2)
    scores = _evaluate(decoder, falcon_data, tmp_path, monkeypatch)
    zero = _evaluate(ZeroDecoder(config), falcon_data, tmp_path, monkeypatch)
    r2, spread = scores["Held In R2 Mean"], scores["Held In R2 Std."]
    assert np.isfinite([r2, spread, scores["Normalized Latency"]]).all()
    assert r2 > zero["Held In R2 Mean"] + 0.5, (scores, zero)
    assert r2 > 0.3, scores


def test_decoder_rejects_bad_input(trained):
    model, _, calibration = trained
    config = FalconConfig(task=TASK)
    decoder = AlignNetFalconDecoder(config, model, calibration=calibration)
    with pytest.raises(RuntimeError, match="before reset"):
        decoder.predict(np.zeros((1, N_UNITS)))
    decoder.reset(["sub-MonkeyL-held-in-minival_ses-20120924_behavior+ecephys.nwb"])
    assert decoder.predict(np.ones((1, N_UNITS))).shape == (1, N_MUSCLES)
    with pytest.raises(DataError, match="expected \\[batch, 64\\]"):
        decoder.predict(np.zeros((1, N_UNITS - 1)))
    bad = np.zeros((1, N_UNITS))
    bad[0, 3] = np.nan
    with pytest.raises(DataError, match="NaN"):
        decoder.predict(bad)
    with pytest.raises(DataError, match="no calibration"):
        decoder.reset(["sub-MonkeyL-held-out-minival_ses-20121004_behavior+ecephys.nwb"])
    with pytest.raises(DataError, match="96 channels"):
        AlignNetFalconDecoder(FalconConfig(task=falcon_task("m2")), model)


def test_decoder_rejects_wrong_checkpoints(trained):
    model, _, _ = trained
    config = FalconConfig(task=TASK)
    simulate_only = AlignNet.__new__(AlignNet)
    simulate_only.__dict__.update(model.__dict__)
    simulate_only.tasks = ["simulate"]
    with pytest.raises(CheckpointError, match="not for decoding"):
        AlignNetFalconDecoder(config, simulate_only)
    acausal = AlignNet(
        **{**TINY_ALIGNNET, "n_channels": N_UNITS, "n_behavior": N_MUSCLES, "causal": False}
    )
    acausal.tasks = ["decode"]
    with pytest.raises(CheckpointError, match="causal"):
        AlignNetFalconDecoder(config, acausal)


def test_falcon_eval_command(falcon_data, trained, tmp_path):
    from click.testing import CliRunner

    from alignnet.cli.main import cli

    _, path, _ = trained
    args = ["falcon-eval", str(path), "--data", str(falcon_data), "--task", "m1"]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "calibration: 4 file(s), 4 session(s)" in result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("Held In R2 Mean"))
    assert float(line.split()[-1]) > 0.3
    assert (tmp_path / "prediction.pkl").exists()


@pytest.mark.parametrize(
    "bad",
    [-np.ones(N_UNITS), np.full(N_UNITS, 1e30), np.ones(N_UNITS) * (1 + 1j), ["1"] * N_UNITS],
    ids=["negative", "huge", "complex", "strings"],
)
def test_decoder_refuses_counts_that_are_not_counts(trained, bad):
    """Issue 25: negative, absurd, complex and string counts are named errors."""
    model, _, calibration = trained
    decoder = AlignNetFalconDecoder(FalconConfig(task=TASK), model, calibration=calibration)
    decoder.reset(["sub-MonkeyL-held-in-minival_ses-20120924_behavior+ecephys.nwb"])
    with pytest.raises(DataError):
        decoder.predict(np.asarray([bad]))
