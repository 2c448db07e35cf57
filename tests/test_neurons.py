"""Multi-step LIF: fused == eager == SpikingJelly, surrogates, no state leaks."""

from __future__ import annotations

import math

import pytest
import torch

from alignnet.models import surrogate as sg
from alignnet.models.neurons import (
    MultiStepLIF,
    lif_backward_input_grad,
    lif_forward_potentials,
)


def _random_case(seed: int, shape=(40, 3, 5, 7), dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=gen, dtype=dtype) * 0.8 + 0.3).requires_grad_()
    w = torch.randn(shape, generator=gen, dtype=dtype)
    return x, w


def _run(module, x, w):
    spikes = module(x)
    (grad,) = torch.autograd.grad((spikes * w).sum(), x)
    return spikes.detach(), grad


def test_eager_matches_hand_computed_sequence():
    # tau 2, v_th 0.3: V = H/2 + I/2; I = [0.4, 0.4, 0.8, 0.1] -> V = 0.2, 0.3 (fires), 0.4
    # (fires), 0.05
    x = torch.tensor([0.4, 0.4, 0.8, 0.1]).view(4, 1)
    for backend in ("eager", "fused"):
        out = MultiStepLIF(backend=backend)(x).view(-1)
        assert out.tolist() == [0.0, 1.0, 1.0, 0.0], backend


@pytest.mark.parametrize("surrogate", ["atan", "sigmoid"])
@pytest.mark.parametrize("detach_reset", [False, True])
def test_fused_equals_eager(surrogate, detach_reset):
    x, w = _random_case(1)
    kw = dict(surrogate=surrogate, detach_reset=detach_reset)
    s_eager, g_eager = _run(MultiStepLIF(backend="eager", **kw), x, w)
    s_fused, g_fused = _run(MultiStepLIF(backend="fused", **kw), x, w)
    assert 0.05 < s_eager.mean() < 0.95  # both regimes present: the test can fail
    assert torch.equal(s_eager, s_fused)
    torch.testing.assert_close(g_fused, g_eager, atol=1e-6, rtol=0)
    assert g_eager.abs().max() > 1e-2


def test_fused_equals_eager_with_other_parameters_and_float64():
    x, w = _random_case(2, dtype=torch.float64)
    kw = dict(tau=3.0, v_threshold=0.5, v_reset=-0.2, alpha=3.0)
    s_eager, g_eager = _run(MultiStepLIF(backend="eager", **kw), x, w)
    s_fused, g_fused = _run(MultiStepLIF(backend="fused", **kw), x, w)
    assert torch.equal(s_eager, s_fused)
    torch.testing.assert_close(g_fused, g_eager, atol=1e-12, rtol=0)


def test_fused_blocking_matches_unblocked(monkeypatch):
    import alignnet.models.neurons as neurons

    x, w = _random_case(3, shape=(10, 4, 300))
    monkeypatch.setattr(neurons, "BLOCK_BYTES", 1 << 30)
    ref = _run(MultiStepLIF(backend="fused"), x, w)
    monkeypatch.setattr(neurons, "BLOCK_BYTES", 1)  # 256-column blocks: 5 blocks
    blocked = _run(MultiStepLIF(backend="fused"), x, w)
    assert torch.equal(ref[0], blocked[0]) and torch.equal(ref[1], blocked[1])


def test_fused_equals_eager_on_short_sequences():
    # Edge lengths of the reverse-time loop (T = 1 has no recurrence at all), float64.
    for t_steps in (1, 2, 9):
        x, w = _random_case(4, shape=(t_steps, 6), dtype=torch.float64)
        s1, g1 = _run(MultiStepLIF(backend="eager"), x, w)
        s2, g2 = _run(MultiStepLIF(backend="fused"), x, w)
        assert torch.equal(s1, s2)
        torch.testing.assert_close(g1, g2, atol=1e-12, rtol=0)


def test_state_does_not_leak_between_calls():
    lif = MultiStepLIF(backend="fused")
    x, _ = _random_case(5)
    first = lif(x).detach()
    lif(torch.full_like(x, 5.0))  # drive every neuron hard in between
    assert torch.equal(lif(x).detach(), first)
    # and a batch element's spikes do not depend on its neighbours
    single = lif(x[:, :1]).detach()
    assert torch.equal(single, first[:, :1])


def test_no_grad_path_and_saved_state_is_one_tensor():
    lif = MultiStepLIF(backend="fused")
    x, w = _random_case(6)
    with torch.no_grad():
        inference = lif(x)
    assert not inference.requires_grad
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        training = lif(x)
    assert torch.equal(inference, training.detach())
    # the fused Function saves exactly one [T, B, ...] tensor
    assert len(saved) == 1 and saved[0].shape == x.shape


def test_forward_potentials_and_backward_helpers_shapes():
    x, w = _random_case(7, shape=(5, 2, 3))
    pot, spikes = lif_forward_potentials(x.detach(), tau=2.0, v_threshold=0.3, v_reset=0.0)
    assert pot.shape == spikes.shape == x.shape
    assert torch.equal(spikes, (-pot >= 0.3).float())
    grad = lif_backward_input_grad(
        pot,
        w,
        tau=2.0,
        v_threshold=0.3,
        v_reset=0.0,
        surrogate="atan",
        alpha=2.0,
        detach_reset=False,
    )
    assert grad.shape == x.shape


def test_surrogate_derivatives_by_hand():
    x = torch.tensor([0.0, 0.25, -0.25], dtype=torch.float64)
    atan = sg.atan_derivative(x, 2.0)
    expected = [1.0 / (1.0 + (math.pi / 2 * 2.0 * v) ** 2) for v in x.tolist()]
    torch.testing.assert_close(atan, torch.tensor(expected, dtype=torch.float64))
    sig = sg.sigmoid_derivative(x, 4.0)
    s = torch.sigmoid(4.0 * x)
    torch.testing.assert_close(sig, 4.0 * s * (1 - s))
    assert sig[0].item() == pytest.approx(1.0)  # 4 * 0.5 * 0.5
    y = sg.spike(torch.tensor([-1e-9, 0.0, 1e-9]))
    assert y.tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="unknown surrogate"):
        MultiStepLIF(surrogate="triangle")
    with pytest.raises(ValueError, match="backend"):
        MultiStepLIF(backend="cuda-only")


def test_record_flag_stores_rate_and_steps():
    lif = MultiStepLIF(record=True)
    x, _ = _random_case(8)
    out = lif(x)
    assert lif.last_time_steps == x.shape[0]
    assert lif.last_firing_rate == pytest.approx(float(out.detach().mean()))


@pytest.mark.parametrize("surrogate", ["atan", "sigmoid"])
@pytest.mark.parametrize("detach_reset", [False, True])
def test_matches_spikingjelly(surrogate, detach_reset):
    pytest.importorskip("loguru")
    sj = pytest.importorskip("spikingjelly.activation_based")
    from spikingjelly.activation_based import neuron
    from spikingjelly.activation_based import surrogate as sj_surrogate

    fn = sj_surrogate.ATan() if surrogate == "atan" else sj_surrogate.Sigmoid()
    node = neuron.LIFNode(
        step_mode="m",
        tau=2.0,
        v_threshold=0.3,
        v_reset=0.0,
        decay_input=True,
        detach_reset=detach_reset,
        surrogate_function=fn,
    )
    assert sj is not None
    x, w = _random_case(9)
    s_ref, g_ref = _run(node, x, w)
    for backend in ("eager", "fused"):
        s, g = _run(
            MultiStepLIF(backend=backend, surrogate=surrogate, detach_reset=detach_reset), x, w
        )
        assert torch.equal(s, s_ref), backend
        torch.testing.assert_close(g, g_ref, atol=1e-6, rtol=0)
