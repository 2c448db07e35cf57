"""The simulation ceiling (true rates of the generators), its metrics, spike statistics of
samples, AlignNet's shared-gain sampler and the named errors of `simulate`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alignnet.api import AlignNet
from alignnet.data.io.windows_file import load_windows, save_windows
from alignnet.data.preprocess import sessions_to_windows
from alignnet.data.synthetic import generate_sessions, make_config
from alignnet.data.windows import Windows
from alignnet.errors import DataError
from alignnet.evaluation import metrics
from alignnet.evaluation.simulation_metrics import fraction_of_ceiling, psth_r2, simulation_scores
from alignnet.evaluation.spike_stats import (
    autocorrelation,
    compare_matrices,
    count_correlations,
    fano_factor,
    spike_statistics,
)
from alignnet.evaluation.tables import TRUE_RATES_ROW, simulation_markdown, simulation_records
from alignnet.models.variability import fit_shared_gain
from helpers_alignnet import TINY_ALIGNNET as TINY
from helpers_alignnet import make_windows

torch.set_num_threads(1)


@pytest.fixture(scope="module", params=["tiny", "reach-tiny"])
def synthetic(request) -> Windows:
    return sessions_to_windows(generate_sessions(make_config(request.param), seed=0))


# ---------------------------------------------------------------------- the ceiling
def test_generators_keep_true_rates_that_match_the_spikes(synthetic):
    w = synthetic
    assert w.true_rates is not None and w.latent_rates is not None
    assert w.true_rates.shape == w.spikes.shape == w.latent_rates.shape
    # expected counts: the mean count of the spikes they drew, within 5 %
    assert abs(w.latent_rates.mean() / w.spikes.mean() - 1) < 0.05
    assert abs(w.true_rates.mean() / w.spikes.mean() - 1) < 0.05


def test_true_rates_beat_a_shuffled_copy_and_the_latent_beats_behaviour(synthetic):
    w = synthetic
    shuffled = w.true_rates[np.random.default_rng(0).permutation(len(w))]
    bits = metrics.poisson_log_likelihood_bits_per_spike
    assert metrics.pearson_r(w.spikes, w.true_rates) > metrics.pearson_r(w.spikes, shuffled) + 0.1
    assert bits(w.spikes, w.true_rates) > 0 > bits(w.spikes, shuffled)
    # the rates that drew the spikes know the trial-to-trial fluctuations too
    assert bits(w.spikes, w.latent_rates) >= bits(w.spikes, w.true_rates)


def test_true_rates_survive_selection_concatenation_and_the_windows_file(synthetic, tmp_path):
    w = synthetic
    part = w[np.arange(5)]
    np.testing.assert_array_equal(part.true_rates, w.true_rates[:5])
    both = Windows.concatenate([w[np.arange(3)], w[np.arange(3, 6)]])
    np.testing.assert_array_equal(both.latent_rates, w.latent_rates[:6])
    back = load_windows(save_windows(w, tmp_path / "w.npz"))
    np.testing.assert_array_equal(back.true_rates, w.true_rates)
    np.testing.assert_array_equal(back.latent_rates, w.latent_rates)
    without = Windows.concatenate([w[np.arange(2)], _without_truth(w[np.arange(2, 4)])])
    assert without.true_rates is None  # a mix would score some days without a ceiling


def _without_truth(w: Windows) -> Windows:
    return Windows(spikes=w.spikes, behavior=w.behavior, day=w.day, trial=w.trial,
                   t_start=w.t_start, target=w.target, bin_s=w.bin_s,
                   channel_ids=w.channel_ids)  # fmt: skip


def test_fraction_of_ceiling_math():
    assert fraction_of_ceiling(0.1, 0.2) == pytest.approx(0.5)
    assert fraction_of_ceiling(-0.05, 0.1) == pytest.approx(-0.5)
    assert np.isnan(fraction_of_ceiling(0.1, 0.0))
    assert np.isnan(fraction_of_ceiling(0.1, -0.2))
    assert np.isnan(fraction_of_ceiling(float("nan"), 0.2))


def test_scores_of_the_truth_are_the_ceiling_and_bits_use_the_test_days_mean(synthetic):
    w = synthetic
    out = simulation_scores(w, w.true_rates, np.zeros(w.n_channels) + 10.0)
    assert out["pcc_of_ceiling"] == pytest.approx(1.0)
    assert out["bits_of_ceiling"] == pytest.approx(1.0)
    # the test day's own mean rates score exactly 0 bits/spike (the NLB null model) ...
    flat = np.broadcast_to(w.spikes.mean(axis=(0, 2))[None, :, None], w.spikes.shape)
    assert simulation_scores(w, flat, flat[0, :, 0])["bits_per_spike"] == pytest.approx(0, abs=1e-9)
    # ... and a wrong reference (the old one) rewards the mean rates themselves
    assert (
        simulation_scores(w, flat, np.zeros(w.n_channels) + 10.0)["bits_per_spike_vs_train_mean"]
        > 1.0
    )


def test_psth_r2_is_one_for_the_condition_means_and_nan_without_repeats():
    rng = np.random.default_rng(0)
    target = np.repeat(np.arange(4), 10)
    counts = rng.poisson(1.0 + np.arange(4)[:, None, None] * np.ones((4, 3, 20)))[target].astype(
        float
    )
    means = np.stack([counts[target == c].mean(axis=0) for c in range(4)])[target]
    assert psth_r2(counts, means, target) == pytest.approx(1.0)
    assert np.isnan(psth_r2(counts, means, np.arange(40)))


def test_simulation_table_has_the_true_rate_row_and_fractions():
    base = {"protocol": "single-day", "seed": 0, "fold": "day 0", "task": "simulate",
            "test": "day 0", "r2": 0.0, "fr_error": 0.0}  # fmt: skip
    recs = [
        {**base, "model": "PoissonGLM", "pcc": 0.1, "bits_per_spike": 0.02,
         "ceiling_pcc": 0.2, "ceiling_bits_per_spike": 0.04, "pcc_of_ceiling": 0.5,
         "bits_of_ceiling": 0.5},
        {**base, "model": "MLP", "pcc": 0.15, "bits_per_spike": 0.03,
         "ceiling_pcc": 0.2, "ceiling_bits_per_spike": 0.04, "pcc_of_ceiling": 0.75,
         "bits_of_ceiling": 0.75},
    ]  # fmt: skip
    rows = {r["model"]: r for r in simulation_records(recs)}
    assert rows[TRUE_RATES_ROW]["pcc"] == 0.2
    assert rows["MLP"]["bits_over_glm"] == pytest.approx(0.01)
    assert rows[TRUE_RATES_ROW]["bits_over_glm"] == pytest.approx(0.02)
    table = simulation_markdown(recs)
    assert TRUE_RATES_ROW in table and "PCC / ceiling" in table and "0.750" in table


# ---------------------------------------------------------------------- spike statistics
def test_poisson_counts_have_fano_one_and_no_autocorrelation():
    x = np.random.default_rng(0).poisson(0.4, (300, 6, 100))
    np.testing.assert_allclose(fano_factor(x, bin_s=0.02, window_s=0.1), 1.0, atol=0.06)
    np.testing.assert_allclose(fano_factor(x, bin_s=0.02, window_s=0.5), 1.0, atol=0.12)
    assert np.abs(autocorrelation(x)).max() < 0.02


def test_known_correlations_are_found_and_compared():
    rng = np.random.default_rng(1)
    g = rng.gamma(4.0, 0.25, (400, 1, 20))  # one gain per bin shared by the first 4 channels
    rates = np.concatenate([0.5 * g * np.ones((1, 4, 1)), np.full((400, 4, 20), 0.5)], axis=1)
    c = count_correlations(rng.poisson(rates), bin_s=0.02)
    shared = c[:4, :4][np.triu_indices(4, 1)]
    other = c[4:, 4:][np.triu_indices(4, 1)]
    # 100 ms = 5 bins: cov 5 * 0.5^2 * Var(g) = 0.3125, var 5 * 0.5 + 0.3125 -> r = 0.111
    assert shared.mean() == pytest.approx(0.3125 / 2.8125, abs=0.03)
    assert np.abs(other).mean() < 0.05
    assert compare_matrices(c, c) == (pytest.approx(1.0), pytest.approx(0.0))


def test_shared_gain_sampler_matches_correlated_data_better_than_independent_poisson():
    rng = np.random.default_rng(0)
    n, c, length = 300, 20, 50
    rates = rng.uniform(0.1, 0.5, (1, c, 1)) * np.ones((n, 1, length))
    g = np.exp(rng.normal(0, 0.3, (n, 1)) + rng.normal(0, 0.1, (n, c)) - 0.05)
    counts = rng.poisson(rates * g[:, :, None])
    model = fit_shared_gain(counts[:150], rates[:150])
    a = model.sample(rates[150:], rng=np.random.default_rng(3))
    b = model.sample(rates[150:], rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)  # same seed, same counts
    ours = spike_statistics(counts[150:], a, bin_s=0.02)
    indep = spike_statistics(counts[150:], rng.poisson(rates[150:]), bin_s=0.02)
    assert ours["corr_rmse"] < indep["corr_rmse"]
    assert ours["fano_500ms_error"] < indep["fano_500ms_error"]
    same = fit_shared_gain(rng.poisson(rates[:150]), rates[:150])  # no extra variability
    assert (same.factors**2).sum(axis=1).mean() < 0.02


# ---------------------------------------------------------------------- AlignNet sampling
@pytest.fixture(scope="module")
def simulator():
    data = make_windows(n_days=2, trials_per_day=24, n_channels=6, length=16)
    model = AlignNet(neuron="relu", epochs=2, **TINY)
    model.finetune(data, task="simulate", progress=False)
    return model, data


def test_samples_are_seeded_and_carry_the_fitted_gains(simulator, tmp_path):
    model, data = simulator
    assert set(model.variability) >= {0, 1}
    a = model.simulate(data.behavior, day=0, sample=True, seed=4)
    np.testing.assert_array_equal(a, model.simulate(data.behavior, day=0, sample=True, seed=4))
    assert not np.array_equal(a, model.simulate(data.behavior, day=0, sample=True, seed=5))
    path = tmp_path / "m.pt"
    model.save(path)
    back = AlignNet.load(path)
    np.testing.assert_array_equal(a, back.simulate(data.behavior, day=0, sample=True, seed=4))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("nan", "NaN"),
        ("dims", "expects"),
        ("day", "neither trained on nor aligned"),
        ("seed", "seed must be >= 0"),
    ],
)
def test_simulate_named_errors(simulator, change, match):
    model, data = simulator
    behavior, kwargs = data.behavior.copy(), {}
    if change == "nan":
        behavior[0, 0, 3] = np.nan
    elif change == "dims":
        behavior = np.concatenate([behavior, behavior[:, :1]], axis=1)
    elif change == "day":
        kwargs = {"day": 9}
    else:
        kwargs = {"sample": True, "seed": -1}
    with pytest.raises(DataError, match=match):
        model.simulate(behavior, **kwargs)


def test_segment_gains_find_how_long_fluctuations_last():
    rng = np.random.default_rng(2)
    n, c, length = 400, 12, 40
    rates = np.full((n, c, length), 0.4)
    whole = np.exp(rng.normal(0, 0.4, (n, 1, 1)) - 0.08)  # one gain per window
    per_segment = np.exp(rng.normal(0, 0.4, (n, 1, 4)) - 0.08).repeat(10, axis=2)
    slow = fit_shared_gain(rng.poisson(rates * whole), rates, segment_bins=10)
    fast = fit_shared_gain(rng.poisson(rates * per_segment), rates, segment_bins=10)
    assert slow.rho > 0.8 and fast.rho < 0.2
    assert slow.segment_bins == 10
    back = type(slow).from_dict(slow.to_dict())
    np.testing.assert_array_equal(back.factors, slow.factors)
    assert back.rho == slow.rho


def test_an_aligned_day_simulates_its_own_channels_through_its_read_out(simulator):
    import copy

    model, data = simulator
    model = copy.deepcopy(model)
    new = make_windows(n_days=1, trials_per_day=16, n_channels=5, length=16, seed=3)
    new = Windows(spikes=new.spikes * 3, behavior=new.behavior, day=new.day + 7,
                  trial=new.trial, t_start=new.t_start, target=new.target)  # fmt: skip
    with pytest.raises(DataError, match="neither trained on nor aligned"):
        model.simulate(new.behavior, day=7)
    model.align(new, epochs=2, progress=False)
    rates = model.simulate(new.behavior, day=7)
    assert rates.shape == new.spikes.shape  # the day's 5 channels, not the model's 6
    # the day's rate head starts from its own counts: the rates are on that day's scale
    assert abs(rates.mean() / new.spikes.mean() - 1) < 0.5
    sample = model.simulate(new.behavior, day=7, sample=True, seed=0)
    assert sample.shape == new.spikes.shape


def test_figure7_spike_statistics_is_written(tmp_path):
    from alignnet.evaluation.figures import fig7_spike_statistics

    stats = {f"stats_{k}": 0.5 for k in ("fano_100ms", "fano_500ms_error", "corr_r",
                                          "corr_rmse", "popcount_w1", "rate_rmse_hz")}  # fmt: skip
    base = {"protocol": "single-day", "seed": 0, "fold": "f", "task": "simulate", "test": "t",
            "pcc": 0.1, "decodability": 0.9, **stats}  # fmt: skip
    recs = [{**base, "model": "PoissonGLM"}, {**base, "model": "MLP"}]
    path = fig7_spike_statistics(recs, tmp_path / "f.png")
    assert path is not None and path.stat().st_size > 1000
    assert (
        fig7_spike_statistics([{**base, "model": "X", "task": "decode"}], tmp_path / "g.png")
        is None
    )
