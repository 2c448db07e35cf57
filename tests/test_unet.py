import pytest
import torch
from torch import nn

from alignnet.models.unet import UNet, UNetEncoder


@pytest.mark.parametrize(("dims", "shape"), [(1, (3, 8, 16)), (2, (3, 1, 8, 16))])
def test_unet_shapes_and_skips(dims, shape):
    torch.manual_seed(0)
    net = UNet(shape[1], 5, widths=(4, 6), latent_width=7, dims=dims, make_act=nn.ReLU)
    h, skips = net.encoder(torch.randn(shape))
    spatial = shape[2:]
    assert h.shape == (3, 7, *[s // 4 for s in spatial])
    assert [s.shape[1] for s in skips] == [4, 6]
    assert skips[1].shape[2:] == tuple(s // 2 for s in spatial)
    assert (h >= 0).all()  # bottleneck ends in ReLU
    y = net.decoder(h, skips)
    assert y.shape == (3, 5, *spatial)


def test_skips_change_the_output():
    torch.manual_seed(0)
    enc = UNetEncoder(8, (4, 6), 7, dims=1, make_act=nn.ReLU)
    net = UNet(8, 8, widths=(4, 6), latent_width=7, dims=1, make_act=nn.ReLU).eval()
    x = torch.randn(2, 8, 16)
    h, skips = net.encoder(x)
    other = [torch.randn_like(s) for s in skips]
    assert not torch.allclose(net.decoder(h, skips), net.decoder(h, other))
    assert len(list(enc.blocks)) == 2


# ----------------------------------------------------------------------------- causal U-Net
def _causal_model(neuron: str):
    from alignnet.config import ModelConfig
    from alignnet.models.alignnet import AlignNetModel

    torch.manual_seed(0)
    cfg = ModelConfig(
        n_channels=6, n_behavior=2, window_len=16, widths=(5, 7), latent_width=4, neuron=neuron
    )
    cfg.causal = True
    cfg.neuron_kw = {"v_threshold": 0.1} if neuron == "lif" else {}
    model = AlignNetModel(cfg).eval()
    for module in model.modules():  # non-trivial BN statistics
        if isinstance(module, nn.BatchNorm1d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    return model


@pytest.mark.parametrize("neuron", ["lif", "relu"])
@pytest.mark.parametrize("length", [16, 23])
def test_causal_decode_ignores_the_future(neuron, length):
    model = _causal_model(neuron)
    x = torch.randn(2, 6, length)
    with torch.no_grad():
        base = model(spikes=x, mode="decode")["behavior"]
        assert base.shape == (2, 2, length)
        for t in (0, 1, 2, 5, 8, length - 2):
            changed = x.clone()
            changed[:, :, t + 1 :] = torch.randn_like(changed[:, :, t + 1 :]) * 3
            out = model(spikes=changed, mode="decode")["behavior"]
            torch.testing.assert_close(out[:, :, : t + 1], base[:, :, : t + 1], rtol=0, atol=0)
            if t < length - 4:  # a real comparison: the future does change
                assert not torch.equal(out[:, :, t + 1 :], base[:, :, t + 1 :])


@pytest.mark.parametrize("neuron", ["lif", "relu"])
def test_causal_other_paths_ignore_the_future(neuron):
    model = _causal_model(neuron)
    x, b = torch.randn(1, 6, 16), torch.randn(1, 2, 16)
    with torch.no_grad():
        base = model(spikes=x, behavior=b, mode="pretrain")
        x2, b2 = x.clone(), b.clone()
        x2[:, :, 9:] += 2.0
        b2[:, :, 9:] -= 2.0
        out = model(spikes=x2, behavior=b2, mode="pretrain")
    for key in ("spike_recon", "behavior_recon"):
        torch.testing.assert_close(out[key][:, :, :9], base[key][:, :, :9], rtol=0, atol=0)


def test_acausal_decode_sees_the_future():
    model = _causal_model("relu")
    model_acausal = type(model)(
        type(model.config)(**{**model.config.__dict__, "causal": False})
    ).eval()
    x = torch.randn(1, 6, 16)
    with torch.no_grad():
        base = model_acausal(spikes=x, mode="decode")["behavior"]
        x[:, :, 12:] += 3.0
        out = model_acausal(spikes=x, mode="decode")["behavior"]
    assert not torch.equal(out[:, :, :12], base[:, :, :12])


def test_causal_needs_the_temporal_layout():
    from alignnet.config import ModelConfig

    with pytest.raises(ValueError, match="temporal"):
        ModelConfig(n_channels=8, window_len=16, widths=(4, 6), snn_layout="2d", causal=True)
    with pytest.raises(ValueError, match="dims=1"):
        UNetEncoder(1, (4,), 4, dims=2, make_act=nn.ReLU, causal=True)
