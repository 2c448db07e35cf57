"""Bit-plane coding: exact round trip, quantisation bound, order-aware gradient factors."""

from __future__ import annotations

import pytest
import torch

from alignnet.models.activations import make_activation
from alignnet.models.bitplane import (
    BitplaneBlock,
    BitplaneEncode,
    decode_planes,
    integer_to_planes,
    order_factors,
    quantize,
)


def test_round_trip_of_all_256_integers():
    integers = torch.arange(256, dtype=torch.int32)
    planes = integer_to_planes(integers, 8)
    assert planes.shape == (8, 256)
    assert set(planes.unique().tolist()) == {0.0, 1.0}
    # MSB first: time step 0 is bit 7
    assert planes[:, 128].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert planes[:, 1].tolist() == [0, 0, 0, 0, 0, 0, 0, 1]
    assert planes[:, 0b10110010].tolist() == [1, 0, 1, 1, 0, 0, 1, 0]
    assert torch.equal(decode_planes(planes, 1.0), integers.float())
    # each plane is floor(I / 2^k) mod 2
    for t in range(8):
        k = 7 - t
        assert torch.equal(planes[t], ((integers // 2**k) % 2).float())


def test_quantisation_error_bound_inside_range_and_clipping_outside():
    gen = torch.Generator().manual_seed(0)
    scale = torch.tensor(0.037)
    x = torch.rand(10_000, generator=gen) * 255 * scale
    decoded = decode_planes(integer_to_planes(quantize(x, scale), 8), scale)
    err = (x - decoded).abs()
    assert err.max() <= scale / 2 + 1e-6
    assert err.max() > scale / 4  # rounding really happens
    outside = torch.tensor([-1.0, 300.0]) * scale
    assert decode_planes(integer_to_planes(quantize(outside, scale), 8), scale).tolist() == (
        pytest.approx([0.0, float(255 * scale)])
    )


def test_order_factors_hand_computed():
    sig = order_factors(8, rule="significance")
    # f_k = 2^k / (4^0 + ... + 4^7) = 2^k / 21845
    assert sig.tolist() == pytest.approx([2**k / 21845 for k in range(8)])
    notes = order_factors(8, rule="notes")
    # k * 2^(7-k) = 0, 64, 64, 48, 32, 20, 12, 7, normalised by sum_k k 2^(7-k) 2^k = 128 * 28
    assert (notes * 3584).tolist() == pytest.approx([0, 64, 64, 48, 32, 20, 12, 7])
    assert order_factors(8, rule="uniform").tolist() == pytest.approx([1 / 255] * 8)
    for rule in ("significance", "notes", "uniform"):
        f = order_factors(8, rule=rule)
        assert float((f * 2.0 ** torch.arange(8)).sum()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown factor rule"):
        order_factors(8, rule="magic")


def test_encoder_gradient_is_factor_weighted_sum_of_plane_gradients():
    scale = torch.tensor(0.5, dtype=torch.float64)
    x = torch.tensor([3.0, 200.0, -1.0, 100.0], dtype=torch.float64).requires_grad_()
    factors = order_factors(8, rule="notes")
    planes = BitplaneEncode.apply(x, scale, 8, factors)
    grad_planes = torch.arange(32, dtype=torch.float64).view(8, 4)  # time-major, MSB first
    planes.backward(grad_planes)
    lsb_first = grad_planes.flip(0)
    expected = (factors.view(8, 1) * lsb_first).sum(0) / 0.5
    expected[1] = 0.0  # 200 > 255 * 0.5: clipped, no gradient
    expected[2] = 0.0  # negative: clipped
    torch.testing.assert_close(x.grad, expected)


@pytest.mark.parametrize("rule", ["significance", "notes", "uniform"])
def test_identity_block_has_straight_through_gradient(rule):
    block = BitplaneBlock(rule=rule)
    x = (torch.rand(3, 4, 5, dtype=torch.float64) * 2).requires_grad_()
    y = block(x)
    upstream = torch.randn_like(y)
    y.backward(upstream)
    assert x.detach().max() <= block.running_max * (1 + 1e-6)  # calibrated on this batch
    torch.testing.assert_close(x.grad, upstream)


def test_running_max_calibration_ema_and_frozen_in_eval():
    block = BitplaneBlock(momentum=0.5)
    block(torch.tensor([0.0, 2.0]))
    assert block.running_max.item() == pytest.approx(2.0)  # first batch sets it
    block(torch.tensor([0.0, 4.0]))
    assert block.running_max.item() == pytest.approx(3.0)  # EMA
    block.eval()
    y = block(torch.tensor([10.0, 1.5]))
    assert block.running_max.item() == pytest.approx(3.0)  # frozen
    assert y[0].item() == pytest.approx(3.0)  # clipped to the calibrated range
    assert abs(y[1].item() - 1.5) <= 3.0 / 255 / 2 + 1e-6


def test_bitplane_activation_shapes_and_gradient_flow():
    for time_mode, shape in (("temporal", (2, 3, 10)), ("repeat", (4, 3, 5, 6))):
        act = make_activation("bitplane", time_mode=time_mode, time_steps=2)
        x = torch.randn(shape, requires_grad=True)
        y = act(x)
        assert y.shape == x.shape
        # default LIF on binary planes is the identity forward: an 8-bit quantised ReLU
        step = float(act.running_max) / 255
        assert (y - x.detach().clamp(min=0)).abs().max() <= step / 2 + 1e-6
        y.square().sum().backward()
        assert torch.isfinite(x.grad).all()
        assert (x.grad[x > 0.05] != 0).all()
        assert (x.grad[x < 0] == 0).all()


def test_block_with_trainable_spiking_inner_layer_trains():
    from torch import nn

    from alignnet.models.neurons import MultiStepLIF

    class PlaneGain(nn.Module):
        def __init__(self):
            super().__init__()
            self.gain = nn.Parameter(torch.tensor(0.5))
            self.lif = MultiStepLIF()

        def forward(self, planes):
            return self.lif(planes * self.gain)

    block = BitplaneBlock(PlaneGain())
    x = torch.rand(64) + 0.1
    loss = (block(x) - x).square().mean()
    loss.backward()
    assert block.inner.gain.grad is not None and block.inner.gain.grad != 0


def test_float_planes_equal_integer_planes_and_tracing_block_equals_block():
    """One bit-plane definition: the exportable float form gives the block's exact result."""
    from alignnet.models.bitplane import (
        BitplaneBlock,
        float_planes,
        integer_to_planes,
    )
    from alignnet.realtime.export import TracingBitplane

    levels = torch.arange(256, dtype=torch.int32)
    assert torch.equal(float_planes(levels.float(), 8), integer_to_planes(levels, 8))
    block = BitplaneBlock()
    block.train()
    block(torch.rand(4, 5) * 3)  # calibrate the running max
    block.eval()
    x = torch.randn(3, 7) * 2
    assert torch.equal(TracingBitplane(block, None)(x), block(x))
