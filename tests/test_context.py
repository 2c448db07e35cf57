"""The behaviour decoder's bottleneck context (`alignnet.models.context`, issue 21)."""

import numpy as np
import pytest
import torch

from alignnet.config import AlignNetConfig, ModelConfig
from alignnet.models.alignnet import AlignNetModel
from alignnet.models.context import CONTEXTS, TemporalContext
from alignnet.realtime import CausalStreamingDecoder, decode_continuous
from helpers_realtime import recording, train_tiny

torch.set_num_threads(1)


def _randomise(module: torch.nn.Module, *, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=gen))


@pytest.mark.parametrize("kind", CONTEXTS)
@pytest.mark.parametrize("causal", [False, True])
def test_shapes_and_identity_at_start(kind, causal):
    ctx = TemporalContext(8, kind=kind, causal=causal)
    x = torch.randn(3, 8, 25)
    torch.testing.assert_close(ctx(x), x)  # output projections start at zero
    _randomise(ctx)
    y = ctx(x)
    assert y.shape == x.shape
    assert ctx(torch.randn(2, 8, 4, 25)).shape == (2, 8, 4, 25)  # the 2-D layout
    if kind != "none":
        assert not torch.allclose(y, x)


@pytest.mark.parametrize("kind", ["tcn", "gru"])
def test_causal_context_reads_only_the_past(kind):
    ctx = TemporalContext(6, kind=kind, causal=True)
    _randomise(ctx, seed=1)
    x = torch.randn(1, 6, 30)
    later = x.clone()
    later[..., 20:] += torch.randn(1, 6, 10)
    torch.testing.assert_close(ctx(x)[..., :20], ctx(later)[..., :20])
    acausal = TemporalContext(6, kind=kind, causal=False)
    _randomise(acausal, seed=1)
    assert not torch.allclose(acausal(x)[..., :20], acausal(later)[..., :20])


def test_unknown_context_is_refused():
    with pytest.raises(ValueError, match="context"):
        ModelConfig(context="lstm")
    with pytest.raises(ValueError, match="context"):
        TemporalContext(4, kind="lstm", causal=False)


def _reach(kind: str, *, causal: bool) -> int:
    """How many bins before the last one the decode of the last bin can read."""
    cfg = ModelConfig(
        n_channels=4, n_behavior=1, window_len=160, widths=(8, 8), latent_width=8,
        neuron="relu", context=kind, causal=causal,
    )  # fmt: skip
    torch.manual_seed(0)
    net = AlignNetModel(cfg).eval()
    _randomise(net.behavior_context)
    spikes = torch.randn(1, 4, 160, requires_grad=True)
    net(spikes=spikes, mode="decode")["behavior"][0, 0, -1].backward()
    reads = spikes.grad.abs().sum(dim=1)[0] > 0
    return int(159 - np.flatnonzero(reads.numpy())[0])


@pytest.mark.parametrize("causal", [False, True])
def test_tcn_context_widens_the_receptive_field(causal):
    """Without context the decode of a bin reads < 40 bins back; with the tcn ~60 more
    (acausal: 60 bins of the 120 lie in the future) or ~120 more (causal)."""
    none, tcn = _reach("none", causal=causal), _reach("tcn", causal=causal)
    assert none < 40
    assert tcn >= none + (110 if causal else 55)  # about: steps are 4 bins


def test_stream_equals_batch_with_a_nonzero_context(tmp_path):
    model = train_tiny(tmp_path / "m.pt", neuron="relu", causal=True, context="tcn")
    _randomise(model.network.behavior_context, seed=3)
    model.network.eval()
    counts = recording(70, seed=4)
    batch = decode_continuous(model, counts, day=1)
    assert batch.std(axis=0).min() > 1e-3
    streamed = CausalStreamingDecoder(model, day=1).run(counts)
    np.testing.assert_allclose(streamed, batch, rtol=0, atol=1e-4)


def test_gru_context_is_not_streamed(tmp_path):
    from alignnet.errors import CheckpointError

    model = train_tiny(tmp_path / "m.pt", neuron="relu", causal=True, context="gru")
    with pytest.raises(CheckpointError, match="tcn"):
        CausalStreamingDecoder(model, day=1)


def test_checkpoint_config_without_context_loads_as_none():
    data = AlignNetConfig().to_dict()
    assert data["model"]["context"] == "tcn"  # the default
    del data["model"]["context"]  # a checkpoint saved before the setting existed
    assert AlignNetConfig.from_dict(data).model.context == "none"
