"""AlignNet's named recipes (``arch``), the step floor of the training loop, the reach preset."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from alignnet.config import ARCHS, AlignNetConfig, TrainConfig
from alignnet.engine.loop import fit


def test_default_and_paper_recipes():
    default = AlignNetConfig()
    assert default.arch == "default"
    assert (default.finetune.batch_size, default.finetune.min_steps) == (16, 300)
    paper = default.with_overrides(arch="paper")
    assert paper.arch == "paper"
    assert (paper.finetune.batch_size, paper.finetune.min_steps) == (64, 0)
    # the default model is causal, the paper's the acausal window model; the rest is the same
    assert default.model.causal and not paper.model.causal
    assert paper.pretrain == default.pretrain
    assert dataclasses.replace(paper.model, causal=True) == default.model
    # arch is applied first, then the other overrides; the data shape is kept
    shaped = default.with_overrides(n_channels=7, window_len=40)
    mixed = shaped.with_overrides(arch="paper", **{"finetune.lr": 3e-3})
    assert mixed.finetune.lr == 3e-3 and mixed.finetune.batch_size == 64
    assert (mixed.model.n_channels, mixed.model.window_len) == (7, 40)
    assert AlignNetConfig.from_dict(paper.to_dict()) == paper
    with pytest.raises(ValueError):
        default.with_overrides(arch="nope")
    assert set(ARCHS) == {"default", "paper"}


def test_causal_default_follows_layout_and_old_checkpoints_stay_acausal():
    cfg = AlignNetConfig()
    assert cfg.model.causal
    assert not cfg.with_overrides(snn_layout="2d").model.causal  # the 2-D layout has no causal form
    assert not cfg.with_overrides(causal=False).model.causal
    assert cfg.with_overrides(arch="paper", causal=True).model.causal
    with pytest.raises(ValueError, match="causal"):
        cfg.with_overrides(snn_layout="2d", causal=True)
    # a checkpoint's configuration written before the field existed: the window model
    old = cfg.to_dict()
    del old["model"]["causal"]
    assert not AlignNetConfig.from_dict(old).model.causal


def test_min_steps_raises_epochs():
    torch.manual_seed(0)
    x = torch.randn(20, 3)
    y = x.sum(dim=1, keepdim=True)
    module = nn.Linear(3, 1)

    def loss_fn(m, batch):
        return nn.functional.mse_loss(m(batch["x"]), batch["y"]), {}

    cfg = TrainConfig(epochs=2, batch_size=10, patience=0, device="cpu", min_steps=9)
    history = fit(module, loss_fn, {"x": x, "y": y}, config=cfg, progress=False)
    assert len(history.rows) == 5  # ceil(9 steps / 2 steps per epoch)
    plain = fit(
        nn.Linear(3, 1),
        loss_fn,
        {"x": x, "y": y},
        config=TrainConfig(epochs=2, batch_size=10, patience=0, device="cpu"),
        progress=False,
    )
    assert len(plain.rows) == 2


def test_reach_benchmark_preset():
    from alignnet.evaluation.presets import PRESETS

    reach = PRESETS["reach"]
    assert reach.data_preset == "reach"
    standard = PRESETS["standard"]
    assert (reach.epochs, reach.n_configs, reach.pretrain_epochs, reach.finetune_epochs) == (
        standard.epochs,
        standard.n_configs,
        standard.pretrain_epochs,
        standard.finetune_epochs,
    )
