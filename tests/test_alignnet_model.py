import pytest
import torch

from alignnet.config import ModelConfig
from alignnet.models.alignnet import AlignNetModel
from alignnet.models.day_adapters import DayAdapters
from alignnet.training.flops import count_macs, model_summary

TINY = {
    "n_channels": 8,
    "window_len": 16,
    "widths": (4, 6),
    "latent_width": 5,
    "behavior_mlp_hidden": 6,
    "embed_dim": 4,
    "proj_hidden": 8,
    "time_steps": 2,
}


@pytest.mark.parametrize("layout", ["temporal", "2d"])
@pytest.mark.parametrize("neuron", ["lif", "relu"])
def test_every_path_has_the_documented_shape(layout, neuron):
    torch.manual_seed(0)
    net = AlignNetModel(ModelConfig(snn_layout=layout, neuron=neuron, **TINY))
    s, b = torch.randn(3, 8, 16), torch.randn(3, 2, 16)
    out = net(spikes=s, behavior=b)
    assert out["spike_recon"].shape == (3, 8, 16)
    assert out["behavior_recon"].shape == (3, 2, 16)
    for key in ("z_spikes", "z_behavior"):
        assert out[key].shape == (3, 4)
        assert torch.allclose(out[key].norm(dim=1), torch.ones(3), atol=1e-5)
    assert net(spikes=s, mode="decode")["behavior"].shape == (3, 2, 16)
    rates = net(behavior=b, mode="simulate")["rates"]
    assert rates.shape == (3, 8, 16) and (rates >= 0).all()
    assert net(spikes=s, mode="embed_spikes")["z"].shape == (3, 4)


def test_decode_path_is_differentiable_through_spike_encoder():
    net = AlignNetModel(ModelConfig(neuron="lif", **TINY))
    net(spikes=torch.randn(4, 8, 16) * 3, mode="decode")["behavior"].pow(2).mean().backward()
    grads = [p.grad for p in net.spike_encoder.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in net.behavior_encoder.parameters())


def test_day_adapters_identity_for_unknown_days_and_grows():
    adapters = DayAdapters(3)
    adapters.add_day(0, 3)
    adapters.add_day(2, 3)
    with torch.no_grad():
        adapters.readin_weight(2).mul_(2.0)
    x = torch.randn(3, 3, 5)
    y = adapters.read_in(x, torch.tensor([0, 2, 7]))
    assert torch.allclose(y[0], x[0]) and torch.allclose(y[1], 2 * x[1]) and torch.equal(y[2], x[2])
    adapters.add_day(1, 3)
    adapters.add_day(2, 3)  # already there: unchanged
    assert sorted(adapters.inputs) == [0, 1, 2]
    assert torch.allclose(adapters.read_in(x, torch.tensor([2, 2, 2]))[1], 2 * x[1])


def test_day_adapters_different_widths_ignore_padding():
    """A 2-unit day in a batch padded to 4 rows: its read-in reads only its own rows, and its
    read-out writes zeros past them."""
    adapters = DayAdapters(3)
    adapters.add_day(0, 4, seed=1)
    adapters.add_day(1, 2, seed=1)
    x = torch.randn(2, 4, 5)
    x[1, 2:] = 0.0
    y = adapters.read_in(x, torch.tensor([0, 1]))
    x_garbage = x.clone()
    x_garbage[1, 2:] = 99.0  # padding rows of the 2-unit day must not matter
    assert torch.allclose(adapters.read_in(x_garbage, torch.tensor([0, 1]))[1], y[1])
    out = adapters.read_out(torch.randn(2, 3, 5), torch.tensor([0, 1]), width_out=4)
    assert out.shape == (2, 4, 5) and torch.equal(out[1, 2:], torch.zeros(2, 5))
    with pytest.raises(ValueError, match="align the day first"):
        adapters.read_in(torch.randn(1, 5, 5), torch.tensor([9]))


def test_day_adapters_round_trip_through_state_dict():
    net = AlignNetModel(ModelConfig(n_channels=8, window_len=16, widths=(8,), latent_width=8))
    net.adapters.add_day(3, 5)
    other = AlignNetModel(
        ModelConfig(n_channels=8, window_len=16, widths=(8,), latent_width=8), days={3: 5}
    )
    other.load_state_dict(net.state_dict())
    assert other.adapters.inputs == {3: 5}
    assert torch.equal(other.adapters.readin_weight(3), net.adapters.readin_weight(3))


def test_count_macs_matches_hand_count():
    conv = torch.nn.Sequential(torch.nn.Conv1d(4, 6, 3, padding=1), torch.nn.Linear(10, 2))
    macs = count_macs(conv, lambda: conv(torch.randn(2, 4, 10)))
    assert macs["total"] == 2 * 6 * 10 * 4 * 3 + 2 * 6 * 2 * 10


def test_model_summary_reports_flops_per_window():
    s = model_summary(AlignNetModel(ModelConfig(**TINY)))
    assert s["parameters"] > 0
    assert s["flops_per_window"]["pretrain"] > s["flops_per_window"]["decode"] > 0
