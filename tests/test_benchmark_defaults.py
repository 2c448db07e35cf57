"""Benchmark defaults that depend on the data (issue 21): which rows run without --models, and
why a test set with constant behaviour has no R²."""

import dataclasses

import numpy as np

from alignnet.evaluation.presets import default_rows
from alignnet.evaluation.scoring import NO_VARIANCE, score
from alignnet.evaluation.tables import skipped_markdown
from alignnet.names import ALIGNMENT_ROWS, DECODE, DEFAULT_MODELS, SIMULATE
from helpers_alignnet import make_windows


def test_several_days_get_the_aligned_and_stabilised_rows():
    assert default_rows(n_days=1, continuous=False) == DEFAULT_MODELS
    assert default_rows(n_days=1, continuous=True) == DEFAULT_MODELS
    several = default_rows(n_days=3, continuous=False)
    assert set(ALIGNMENT_ROWS) <= set(several)
    assert {"AlignNet-aligned", "FA+Procrustes", "CCA-align"} <= set(several)
    assert set(DEFAULT_MODELS) <= set(several)


def test_constant_test_behaviour_has_no_r2_and_says_why():
    test = make_windows(n_days=1, trials_per_day=4, n_channels=4, length=10)
    still = dataclasses.replace(test, behavior=np.full_like(test.behavior, 0.3))
    pred = np.random.default_rng(0).normal(size=still.behavior.shape)
    out = score(DECODE, still, pred, still.spikes.mean(axis=(0, 2)))
    assert np.isnan(out["r2"]) and out["note"] == NO_VARIANCE[DECODE]
    moving = score(DECODE, test, pred, test.spikes.mean(axis=(0, 2)))
    assert np.isfinite(moving["r2"]) and "note" not in moving
    silent = dataclasses.replace(test, spikes=np.zeros_like(test.spikes))
    rates = np.ones_like(silent.spikes)
    assert score(SIMULATE, silent, rates, rates.mean(axis=(0, 2)))["note"] == NO_VARIANCE[SIMULATE]
    records = [{"model": "GRU", "protocol": "single-day", "task": DECODE, **out}]
    table = skipped_markdown([], records)
    assert "| GRU | single-day | 1 | decode: test behaviour has no variance" in table
