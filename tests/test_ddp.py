"""Two CPU processes (gloo) take the same optimisation step as one process on the global batch."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from alignnet.config import ModelConfig, TrainConfig
from alignnet.engine import distributed
from alignnet.engine.loop import fit
from alignnet.models.alignnet import AlignNetModel
from alignnet.training.recipes import pretrain_loss

MODEL = ModelConfig(
    n_channels=8,
    window_len=16,
    widths=(4, 6),
    latent_width=5,
    behavior_mlp_hidden=6,
    embed_dim=4,
    proj_hidden=8,
)
TRAIN = TrainConfig(
    epochs=1, batch_size=8, lr=1e-2, warmup_fraction=0.0, patience=0, device="cpu", seed=0
)


def _data():
    g = torch.Generator().manual_seed(0)
    return {
        "spikes": torch.randn(8, 8, 16, generator=g) * 2,
        "behavior": torch.randn(8, 2, 16, generator=g),
        "day": torch.zeros(8, dtype=torch.long),
    }


def _model():
    torch.manual_seed(0)
    return AlignNetModel(MODEL)


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        assert distributed.is_distributed() and distributed.world_size() == 2
        model = _model()
        fit(model, pretrain_loss(), _data(), config=TRAIN, progress=False)
        if rank == 0:
            torch.save(model.state_dict(), out)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")
def test_two_process_step_equals_single_process_step(tmp_path):
    out = str(tmp_path / "ddp.pt")
    mp.spawn(_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    ddp_state = torch.load(out, weights_only=True)

    single = _model()
    before = {k: v.clone() for k, v in single.state_dict().items()}
    fit(single, pretrain_loss(), _data(), config=TRAIN, progress=False)
    # AdamW's first step moves each weight by ~lr * sign(grad): a wrong gradient shows up as
    # a 2 * lr = 0.02 difference, float rounding of an almost-zero gradient as < 1e-5.
    moved = 0
    for name, value in single.state_dict().items():
        if not value.is_floating_point():
            continue
        torch.testing.assert_close(ddp_state[name], value, rtol=1e-5, atol=1e-5, msg=name)
        moved += int(not torch.equal(value, before[name]))
    assert moved > 10  # the step changed the weights (and the BN running stats)
