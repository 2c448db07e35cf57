"""Simulation scores of one prediction: against the counts, the test day's own mean rates, the
condition averages and, on synthetic data, the true rates (the ceiling). See docs/metrics.md.

A simulator predicts rates (expected counts per bin) from behaviour. Single-bin Pearson r on
20 ms counts is mostly Poisson noise, so every figure here is also given for the true rates
that generated the spikes (``ceiling_*``) and as a fraction of it (``*_of_ceiling``).
"""

from __future__ import annotations

import warnings

import numpy as np

from alignnet.data.windows import Windows
from alignnet.evaluation import metrics


def fraction_of_ceiling(value: float, ceiling: float) -> float:
    """``value / ceiling``; NaN when either is not finite or the ceiling is not > 0 (a
    ceiling at or below the null model leaves nothing to be a fraction of)."""
    if not (np.isfinite(value) and np.isfinite(ceiling)) or ceiling <= 0:
        return float("nan")
    return float(value / ceiling)


def condition_groups(target: np.ndarray, *, min_repeats: int = 2) -> list[np.ndarray]:
    """Window indices of each condition (``target >= 0``) with at least ``min_repeats``
    windows; empty when fewer than two such conditions exist (no repeated conditions)."""
    target = np.asarray(target)
    groups = [np.flatnonzero(target == c) for c in np.unique(target[target >= 0])]
    groups = [g for g in groups if g.size >= min_repeats]
    return groups if len(groups) >= 2 else []


def psth_r2(counts: np.ndarray, rates: np.ndarray, target: np.ndarray) -> float:
    """R^2 of condition-averaged rates against condition-averaged held-out counts (PSTHs).

    Windows of the same condition (``target``, trial-aligned windows) are averaged:
    ``[n_cond, C, L]``; R^2 per channel over all (condition, bin) pairs, averaged over the
    channels that vary (the Neural Latents Benchmark's PSTH R^2, without smoothing). NaN
    when conditions do not repeat.

    Args:
        counts: ``[N, C, L]`` held-out spike counts.
        rates: ``[N, C, L]`` predicted expected counts.
        target: ``[N]`` condition of each window (``-1`` unknown).
    """
    groups = condition_groups(target)
    if not groups:
        return float("nan")
    true = np.stack([np.asarray(counts)[g].mean(axis=0) for g in groups])  # [K, C, L]
    pred = np.stack([np.asarray(rates)[g].mean(axis=0) for g in groups])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return metrics.r2_score(true, pred)


def _bits(counts: np.ndarray, rates: np.ndarray, reference: np.ndarray | None) -> float:
    try:
        return metrics.poisson_log_likelihood_bits_per_spike(
            counts, rates, reference_rates=reference
        )
    except Exception:  # no spikes in the test set
        return float("nan")


def simulation_scores(test: Windows, pred: np.ndarray, train_mean_counts: np.ndarray) -> dict:
    """Every simulation metric of ``pred`` ``[N, C, L]`` (rates) on ``test``.

    Keys: ``pcc``, ``r2`` (per channel vs counts), ``fr_error`` (eq. 20), ``bits_per_spike``
    (Poisson log-likelihood over the *test day's own* mean rates, the NLB co-bps null),
    ``bits_per_spike_vs_train_mean`` (over the training windows' mean rates: it also counts
    the change of mean rates between days), ``psth_r2`` (NaN without repeated conditions);
    with true rates (given the behaviour) also ``ceiling_pcc``, ``ceiling_bits_per_spike``,
    ``ceiling_psth_r2``, ``pcc_of_ceiling`` and ``bits_of_ceiling``; with latent rates (given
    the generator's behaviour-unrelated fluctuations too) ``latent_pcc`` and
    ``latent_bits_per_spike``.
    """
    counts = test.spikes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of all-NaN -> NaN
        out = {
            "r2": metrics.r2_score(counts, pred),
            "pcc": metrics.pearson_r(counts, pred),
            "fr_error": float(metrics.firing_rate_error(counts, pred).mean()),
            "bits_per_spike": _bits(counts, pred, None),
            "bits_per_spike_vs_train_mean": _bits(counts, pred, train_mean_counts),
            "psth_r2": psth_r2(counts, pred, test.target),
        }
        if test.true_rates is not None:
            truth = test.true_rates
            out["ceiling_pcc"] = metrics.pearson_r(counts, truth)
            out["ceiling_bits_per_spike"] = _bits(counts, truth, None)
            out["ceiling_psth_r2"] = psth_r2(counts, truth, test.target)
            out["pcc_of_ceiling"] = fraction_of_ceiling(out["pcc"], out["ceiling_pcc"])
            out["bits_of_ceiling"] = fraction_of_ceiling(
                out["bits_per_spike"], out["ceiling_bits_per_spike"]
            )
        if test.latent_rates is not None:
            out["latent_pcc"] = metrics.pearson_r(counts, test.latent_rates)
            out["latent_bits_per_spike"] = _bits(counts, test.latent_rates, None)
    return out
