"""Every baseline fits and beats a mean predictor on easy hand-made data."""

from __future__ import annotations

import numpy as np
import pytest

from alignnet.data.windows import Windows
from alignnet.evaluation.metrics import (
    pearson_r,
    poisson_log_likelihood_bits_per_spike,
    r2_score,
)
from alignnet.models.baselines import PARAM_GRIDS, baseline_tasks, make_baseline
from alignnet.models.baselines.base import lagged_features
from alignnet.models.contract import Estimator

C, D, L = 12, 2, 24
FAST = {"epochs": 12, "batch_size": 16, "patience": 5}


def _easy_windows(n: int, *, seed: int) -> Windows:
    """Smooth 2-D behaviour; Poisson counts with log-rate linear in behaviour."""
    rng = np.random.default_rng(seed)
    t = np.arange(L) / L
    freq = rng.uniform(0.5, 1.5, size=(n, D, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, D, 1))
    behavior = np.sin(2 * np.pi * freq * t + phase)
    weights = rng.normal(0, 1.0, size=(C, D))
    log_rate = np.log(0.8) + np.einsum("cd,ndl->ncl", weights, behavior)
    spikes = rng.poisson(np.exp(log_rate)).astype(np.float32)
    return Windows(
        spikes=spikes,
        behavior=behavior,
        day=np.zeros(n),
        trial=np.arange(n),
        t_start=np.arange(n) * L * 0.02,
        target=-np.ones(n),
    )


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two torch threads on a shared 2-core machine stall badly; train on one."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data() -> tuple[Windows, Windows, Windows]:
    # One generator seed so train, val and test share the tuning weights.
    w = _easy_windows(240, seed=0)
    return w[np.arange(160)], w[np.arange(160, 200)], w[np.arange(200, 240)]


def _make(name: str) -> Estimator:
    params = dict(PARAM_GRIDS[name][0])
    if name not in ("Wiener", "PoissonGLM"):
        params.update(FAST)
    return make_baseline(name, **params)


@pytest.mark.parametrize("name", ["Wiener", "GRU", "MLP", "ResNet", "ResNet+UNet"])
def test_decoder_beats_mean_predictor(name: str, data) -> None:
    train, val, test = data
    model = _make(name)
    assert isinstance(model, Estimator)
    model.fit(train, val, task="decode", seed=0)
    pred = model.predict(test.spikes)
    assert pred.shape == test.behavior.shape
    mean_pred = np.broadcast_to(train.behavior.mean(axis=(0, 2))[None, :, None], pred.shape)
    assert r2_score(test.behavior, mean_pred) < 0.01
    assert r2_score(test.behavior, pred) > 0.3, name


@pytest.mark.parametrize(
    "name", ["Wiener", "GRU", "MLP", "ResNet", "ResNet+UNet", "PoissonGLM", "BehaviorMLP"]
)
def test_simulator_beats_mean_rate(name: str, data) -> None:
    train, val, test = data
    model = _make(name)
    assert "simulate" in model.tasks and model.tasks == baseline_tasks(name)
    model.fit(train, val, task="simulate", seed=0)
    rates = model.simulate(test.behavior)
    assert rates.shape == test.spikes.shape
    assert (rates >= 0).all() and np.isfinite(rates).all()
    assert pearson_r(test.spikes, rates) > 0.2, name
    train_mean = train.spikes.mean(axis=(0, 2))
    if name != "Wiener":  # clipped linear rates can hit 0 where a spike occurs
        bits = poisson_log_likelihood_bits_per_spike(test.spikes, rates, reference_rates=train_mean)
        assert bits > 0.05, (name, bits)


def test_same_seed_same_output(data) -> None:
    train, val, test = data
    outs = []
    for _ in range(2):
        model = make_baseline("GRU", hidden=32, epochs=2, batch_size=16)
        model.fit(train, val, task="decode", seed=3)
        outs.append(model.predict(test.spikes))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_simulation_only_models_refuse_decode(data) -> None:
    train, val, _ = data
    with pytest.raises(ValueError, match="cannot decode"):
        make_baseline("PoissonGLM").fit(train, val, task="decode", seed=0)


def test_lagged_features_are_causal_shifts() -> None:
    x = np.arange(2 * 1 * 5, dtype=np.float32).reshape(2, 1, 5)
    f = lagged_features(x, lags=[0, 1, -1])  # [N, L, 3]
    np.testing.assert_array_equal(f[0, :, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(f[0, :, 1], [0, 0, 1, 2, 3])  # past, zero before the window
    np.testing.assert_array_equal(f[0, :, 2], [1, 2, 3, 4, 0])  # future


def test_wrong_channel_count_is_a_data_error(data) -> None:
    from alignnet.errors import DataError

    train, val, test = data
    model = make_baseline("Wiener")
    model.fit(train, val, task="decode", seed=0)
    with pytest.raises(DataError, match="spikes"):
        model.predict(test.spikes[:, :5])


def test_mlp_decoder_is_causal(data) -> None:
    train, val, test = data
    model = make_baseline("MLP", n_lags=3, hidden=32, epochs=2, batch_size=16)
    assert model.causal
    model.fit(train, val, task="decode", seed=0)
    spikes = test.spikes[:4].copy()
    before = model.predict(spikes)
    spikes[:, :, 10:] += 5.0  # change bins 10.. only
    after = model.predict(spikes)
    np.testing.assert_array_equal(before[:, :, :10], after[:, :, :10])
    assert not np.allclose(before[:, :, 10:], after[:, :, 10:])


def test_neural_baseline_uses_shared_loop_and_train_only_norm(data) -> None:
    from alignnet.engine.loop import TrainHistory

    train, val, _ = data
    model = make_baseline("MLP", hidden=32, epochs=3, batch_size=16, patience=0)
    model.fit(train, val, task="decode", seed=0)
    history = model.histories["decode"]
    assert isinstance(history, TrainHistory) and len(history.rows) == 3
    assert 1 <= history.best_epoch <= 3 and np.isfinite(history.val_loss).all()
    stats = model.norm_stats["decode"]
    np.testing.assert_allclose(stats.spike_mean, train.spikes.mean(axis=(0, 2)), rtol=1e-6)
    np.testing.assert_allclose(stats.behavior_std, train.behavior.std(axis=(0, 2)), rtol=1e-6)


def test_cebra_decoder_fits_predicts_and_is_seeded(data) -> None:
    pytest.importorskip("cebra")
    from alignnet.models.baselines.cebra_decoder import CebraDecoder

    train, val, test = data
    preds = []
    for _ in range(2):
        model = CebraDecoder(max_iterations=30)
        model.fit(train, val, task="decode", seed=3)
        preds.append(model.predict(test.spikes))
    assert preds[0].shape == test.behavior.shape
    np.testing.assert_array_equal(preds[0], preds[1])
    assert model.hyperparameters()["k"] in model.k_grid
    with pytest.raises(ValueError, match="only decodes"):
        model.simulate(test.behavior)
