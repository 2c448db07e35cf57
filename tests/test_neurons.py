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


# ----------------------------------------------------------------------------- numba kernel
NUMBA_OPTIONS = [
    dict(),
    dict(tau=3.0, v_threshold=0.5, v_reset=-0.2, alpha=3.0),
    dict(tau=1.7, v_threshold=0.1, v_reset=0.05, alpha=1.5),
]
TOLERANCE = {torch.float32: 1e-6, torch.float64: 1e-12}


@pytest.fixture
def numba_kernels():
    """The numba kernel module; skips the test when numba is not installed."""
    pytest.importorskip("numba")
    import alignnet.models.lif_kernels as kernels

    return kernels


def _compare_numba_with_eager(x, w, **kw):
    from alignnet.models.neurons import fused_kernel

    assert fused_kernel(x) == "numba"
    s_eager, g_eager = _run(MultiStepLIF(backend="eager", **kw), x, w)
    s_numba, g_numba = _run(MultiStepLIF(backend="fused", **kw), x, w)
    assert torch.equal(s_eager, s_numba)
    assert g_numba.dtype == x.dtype and g_numba.shape == x.shape
    torch.testing.assert_close(g_numba, g_eager, atol=TOLERANCE[x.dtype], rtol=0)
    return s_eager, g_eager


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("surrogate", ["atan", "sigmoid"])
@pytest.mark.parametrize("detach_reset", [False, True])
@pytest.mark.parametrize("options", range(len(NUMBA_OPTIONS)))
def test_numba_kernel_equals_eager(numba_kernels, dtype, surrogate, detach_reset, options):
    kw = NUMBA_OPTIONS[options] | dict(surrogate=surrogate, detach_reset=detach_reset)
    x, w = _random_case(10 + options, shape=(37, 3, 13), dtype=dtype)  # N = 39: no multiple of 8
    spikes, grad = _compare_numba_with_eager(x, w, **kw)
    assert 0.05 < spikes.mean() < 0.95  # both regimes present
    assert grad.abs().max() > 1e-2


def test_numba_kernel_fires_exactly_at_threshold(numba_kernels):
    # tau 2, v_reset 0: V[0] = I[0] / 2 exactly, so I = 2 * v_th lands on the threshold (fires,
    # S = 1 where V >= v_th) and the next float below it does not.
    v_th = torch.tensor(0.3)
    below = torch.nextafter(2 * v_th, torch.tensor(0.0))
    x = torch.stack([2 * v_th, below]).view(1, 2)
    assert MultiStepLIF(backend="fused")(x).view(-1).tolist() == [1.0, 0.0]
    assert MultiStepLIF(backend="eager")(x).view(-1).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("shape", [(1, 4, 3), (2, 1), (5, 7, 9), (64, 1, 1)])
def test_numba_kernel_odd_shapes(numba_kernels, shape):
    x, w = _random_case(20, shape=shape, dtype=torch.float64)
    _compare_numba_with_eager(x, w, surrogate="sigmoid")


def test_numba_kernel_non_contiguous_input(numba_kernels):
    base, _ = _random_case(21, shape=(30, 9, 8, 4))
    x = base.detach().transpose(1, 3)[:, ::2].requires_grad_()  # [30, 2, 8, 9], strided
    assert not x.is_contiguous()
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    _compare_numba_with_eager(x, w)
    # and through a non-leaf view of a leaf: the gradient reaches the leaf's layout
    leaf = base.detach().clone().requires_grad_()
    spikes = MultiStepLIF(backend="fused")(leaf.transpose(1, 3))
    (grad,) = torch.autograd.grad(spikes.sum(), leaf)
    ref_spikes = MultiStepLIF(backend="eager")(leaf.transpose(1, 3))
    (ref,) = torch.autograd.grad(ref_spikes.sum(), leaf)
    torch.testing.assert_close(grad, ref, atol=1e-6, rtol=0)


def test_numba_kernel_empty_batch(numba_kernels):
    x = torch.zeros(6, 0, 5, requires_grad=True)
    spikes = MultiStepLIF(backend="fused")(x)
    assert spikes.shape == x.shape
    spikes.sum().backward()
    assert x.grad.shape == x.shape


def test_numba_inference_saves_nothing_and_training_saves_one_tensor(numba_kernels, monkeypatch):
    import alignnet.models.neurons as neurons

    calls = []
    real = neurons._numba_forward
    monkeypatch.setattr(
        neurons,
        "_numba_forward",
        lambda x, **kw: calls.append(kw["save_potentials"]) or real(x, **kw),
    )
    x, _ = _random_case(22)
    lif = MultiStepLIF(backend="fused")
    with torch.no_grad():
        inference = lif(x)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        training = lif(x)
    assert calls == [False, True]  # no potentials buffer without autograd
    assert torch.equal(inference, training.detach())
    assert len(saved) == 1 and saved[0].shape == x.shape
    with torch.inference_mode():
        assert torch.equal(lif(x), inference)


@pytest.mark.parametrize("surrogate", ["atan", "sigmoid"])
def test_numba_threads_do_not_change_the_result(numba_kernels, monkeypatch, surrogate):
    import numpy as np

    monkeypatch.setattr(numba_kernels, "MIN_COLUMNS_PER_THREAD", 64)
    assert numba_kernels.column_ranges(1000, 3) == [(0, 384), (384, 768), (768, 1000)]
    assert numba_kernels.column_ranges(100, 3) == [(0, 100)]
    rng = np.random.default_rng(0)
    current = (rng.standard_normal((20, 1000)) * 0.8 + 0.3).astype(np.float32)
    grad_spikes = rng.standard_normal(current.shape).astype(np.float32)
    results = []
    for threads in (1, 3):
        spikes, potentials, grad = (np.full_like(current, np.nan) for _ in range(3))
        params = dict(tau=2.0, v_threshold=0.3, v_reset=0.0)
        numba_kernels.lif_forward(
            current, spikes=spikes, potentials=potentials, threads=threads, **params
        )
        numba_kernels.lif_backward(
            potentials,
            grad_spikes,
            surrogate=surrogate,
            alpha=2.0,
            detach_reset=False,
            grad_input=grad,
            threads=threads,
            **params,
        )
        results.append((spikes, potentials, grad))
    for single, threaded in zip(*results, strict=True):
        assert not np.isnan(threaded).any()  # every column was written
        np.testing.assert_array_equal(single, threaded)


def test_fused_kernel_selection(numba_kernels, monkeypatch):
    import alignnet.models.neurons as neurons

    assert neurons.fused_kernel(torch.zeros(3, 2)) == "numba"
    assert neurons.fused_kernel(torch.zeros(3, 2, dtype=torch.float64)) == "numba"
    assert neurons.fused_kernel(torch.zeros(3, 2, dtype=torch.bfloat16)) == "torch"
    assert neurons.fused_kernel(torch.zeros(3, 2, dtype=torch.float16)) == "torch"
    assert neurons.fused_kernel(torch.zeros(3, 2, device="meta")) == "torch"
    monkeypatch.setattr(neurons, "_load_lif_kernels", lambda: None)
    assert neurons.fused_kernel(torch.zeros(3, 2)) == "torch"


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
def test_fused_kernel_is_torch_while_tracing(numba_kernels):
    from alignnet.models.neurons import fused_kernel

    seen = []

    def probe(x):
        seen.append(fused_kernel(x))
        return MultiStepLIF(backend="fused")(x)

    x, _ = _random_case(23, shape=(6, 2, 3))
    traced = torch.jit.trace(probe, (x.detach(),), check_trace=False)
    assert seen == ["torch"]
    assert torch.equal(traced(x.detach()), MultiStepLIF(backend="eager")(x.detach()))


def test_fallback_without_numba(monkeypatch):
    import alignnet.models.neurons as neurons

    def no_numba():
        raise AssertionError("the numba path must not run")

    monkeypatch.setattr(neurons, "_load_lif_kernels", lambda: None)
    monkeypatch.setattr(neurons, "_numba_forward", no_numba)
    for dtype in (torch.float32, torch.float64):
        x, w = _random_case(24, dtype=dtype)
        assert neurons.fused_kernel(x) == "torch"
        s_eager, g_eager = _run(MultiStepLIF(backend="eager"), x, w)
        s_fused, g_fused = _run(MultiStepLIF(backend="fused"), x, w)
        assert torch.equal(s_eager, s_fused)
        torch.testing.assert_close(g_fused, g_eager, atol=TOLERANCE[dtype], rtol=0)


def test_fallback_for_bfloat16(monkeypatch):
    import alignnet.models.neurons as neurons

    monkeypatch.setattr(neurons, "_numba_forward", lambda *a, **k: pytest.fail("numba path"))
    x, w = _random_case(25)
    xb = x.detach().to(torch.bfloat16).requires_grad_()
    assert neurons.fused_kernel(xb) == "torch"
    s_eager, g_eager = _run(MultiStepLIF(backend="eager"), xb, w.to(torch.bfloat16))
    s_fused, g_fused = _run(MultiStepLIF(backend="fused"), xb, w.to(torch.bfloat16))
    assert s_fused.dtype == torch.bfloat16
    # bfloat16 keeps 8 significant bits: the torch kernel rounds V differently from the eager
    # loop, so a spike may flip where V is within a bfloat16 ulp of the threshold (none here)
    assert (s_eager != s_fused).float().mean() < 0.01
    torch.testing.assert_close(g_fused.float(), g_eager.float(), atol=0.05, rtol=0.05)


def test_fused_torch_backend_is_torch_kernel(monkeypatch):
    import alignnet.models.neurons as neurons

    monkeypatch.setattr(neurons, "_numba_forward", lambda *a, **k: pytest.fail("numba path"))
    x, w = _random_case(26)
    s_eager, g_eager = _run(MultiStepLIF(backend="eager"), x, w)
    s_torch, g_torch = _run(MultiStepLIF(backend="fused-torch"), x, w)
    assert torch.equal(s_eager, s_torch)
    torch.testing.assert_close(g_torch, g_eager, atol=1e-6, rtol=0)
