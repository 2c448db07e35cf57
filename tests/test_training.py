import csv
import math

import pytest
import torch
from torch import nn

from alignnet.config import AlignNetConfig, TrainConfig
from alignnet.engine.checkpoint import load_checkpoint, save_checkpoint
from alignnet.engine.loop import fit, lr_factor
from alignnet.errors import CheckpointError, TrainingError

torch.set_num_threads(1)


def _data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    w = torch.randn(5, 2, generator=g)
    return {"x": x, "y": x @ w + 0.05 * torch.randn(n, 2, generator=g)}


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))


def _loss(module, batch):
    err = nn.functional.mse_loss(module(batch["x"]), batch["y"])
    return err, {"mse": err.detach()}


CFG = TrainConfig(epochs=6, batch_size=16, lr=1e-2, patience=0, device="cpu", seed=3)


def test_training_lowers_the_loss_and_logs_csv(tmp_path):
    log = tmp_path / "log.csv"
    hist = fit(_net(), _loss, _data(), val=_data(32, 1), config=CFG, log_csv=log, progress=False)
    assert hist.train_loss[-1] < 0.5 * hist.train_loss[0]
    rows = list(csv.DictReader(log.open()))
    assert len(rows) == 6 and {"train_loss", "val_loss", "train_mse", "lr", "seconds"} <= set(
        rows[0]
    )


def test_same_seed_same_numbers():
    a, b = _net(), _net()
    ha = fit(a, _loss, _data(), config=CFG, progress=False)
    hb = fit(b, _loss, _data(), config=CFG, progress=False)
    assert ha.train_loss == hb.train_loss
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_resume_reaches_the_same_weights_as_an_uninterrupted_run(tmp_path):
    full = _net()
    h_full = fit(full, _loss, _data(), config=CFG, progress=False)
    ckpt = tmp_path / "run.ckpt"
    part = _net()
    short = TrainConfig(**{**vars(CFG), "epochs": 6})

    class Interrupt(Exception):
        pass

    calls = {"n": 0}

    def interrupted_loss(module, batch):
        calls["n"] += 1
        if calls["n"] > 3 * 6:  # 6 steps per epoch: die inside epoch 4
            raise Interrupt
        return _loss(module, batch)

    with pytest.raises(Interrupt):
        fit(part, interrupted_loss, _data(), config=short, checkpoint=ckpt, progress=False)
    assert load_checkpoint(ckpt)["train_state"]["epoch"] == 3
    resumed = _net(seed=99)  # different init: everything must come from the checkpoint
    h_res = fit(resumed, _loss, _data(), config=short, checkpoint=ckpt, resume=True, progress=False)
    assert h_res.train_loss == h_full.train_loss
    for pa, pb in zip(full.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_nan_loss_raises_and_keeps_last_good_checkpoint(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    calls = {"n": 0}

    def exploding(module, batch):
        calls["n"] += 1
        loss, terms = _loss(module, batch)
        if calls["n"] > 8:
            bad = loss * float("nan")
            return bad, {"mse": terms["mse"], "contrastive": bad.detach()}
        return loss, terms

    with pytest.raises(TrainingError, match=r"epoch 2, step 3.*contrastive"):
        fit(_net(), exploding, _data(), config=CFG, checkpoint=ckpt, progress=False)
    state = load_checkpoint(ckpt)
    assert state["train_state"]["epoch"] == 1
    assert all(
        torch.isfinite(v).all() for v in state["model_state"].values() if v.is_floating_point()
    )


def test_early_stopping_restores_best_weights():
    data = _data()
    noise = {"x": torch.randn(32, 5), "y": torch.randn(32, 2) * 5}  # val unrelated to train
    net = _net()
    cfg = TrainConfig(**{**vars(CFG), "epochs": 40, "patience": 2})
    hist = fit(net, _loss, data, val=noise, config=cfg, progress=False)
    assert hist.stopped_early and len(hist.rows) < 40
    assert hist.best_score == min(hist.val_loss)
    from alignnet.engine.loop import evaluate

    assert evaluate(net, _loss, noise, config=cfg)["loss"] == pytest.approx(hist.best_score)


def test_amp_bf16_on_cpu_trains():
    hist = fit(
        _net(), _loss, _data(), config=TrainConfig(**{**vars(CFG), "amp": True}), progress=False
    )
    assert all(math.isfinite(x) for x in hist.train_loss)
    assert hist.train_loss[-1] < hist.train_loss[0]


def test_lr_schedule_warms_up_then_decays():
    f = [lr_factor(s, total_steps=100, warmup_steps=10, min_ratio=0.1) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert f[10] == pytest.approx(1.0) and f[-1] == pytest.approx(0.1, abs=1e-3)
    assert all(a >= b for a, b in zip(f[10:], f[11:], strict=False))


def test_checkpoint_errors(tmp_path):
    good = tmp_path / "a.ckpt"
    save_checkpoint(good, {"x": torch.ones(3)})
    assert torch.equal(load_checkpoint(good)["x"], torch.ones(3))
    truncated = tmp_path / "b.ckpt"
    truncated.write_bytes(good.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(truncated)
    other = tmp_path / "c.ckpt"
    torch.save({"format_version": 999}, other)
    with pytest.raises(CheckpointError, match="format version 999"):
        load_checkpoint(other)
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "missing.ckpt")


def test_config_round_trip_and_overrides():
    cfg = AlignNetConfig().with_overrides(neuron="relu", epochs=3, **{"finetune.lr": 0.5})
    assert cfg.model.neuron == "relu" and cfg.pretrain.epochs == 3 and cfg.finetune.epochs == 3
    assert cfg.finetune.lr == 0.5
    assert AlignNetConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        AlignNetConfig().with_overrides(nonsense=1)
