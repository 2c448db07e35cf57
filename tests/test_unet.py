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
