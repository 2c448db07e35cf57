"""Stabilised linear decoders (FA + Procrustes, CCA alignment): alignment helps on a new day.

Synthetic windows: a 4-D latent (velocity and position of centre-out reaches to 8 targets)
drives Poisson channels through ``exp(b + W z)``; behaviour is the velocity. The new day
replaces a third of the channels (turnover) and kills three; for CCA the remaining channels
also read a rotated latent (``W R``), a known linear remix.
"""

from __future__ import annotations

import numpy as np
import pytest

from alignnet.data.windows import Windows
from alignnet.errors import DataError
from alignnet.models.baselines import BASELINES, PARAM_GRIDS, baseline_tasks, make_baseline
from alignnet.models.baselines.cca_align import CCAAlign, cca_map
from alignnet.models.baselines.stabilized import FAProcrustes, align_stable_channels

pytest.importorskip("sklearn")

L, K, C = 50, 4, 48
NEW_DAY = 10


def _latents(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``z`` ``[n, 4, L]``, velocity ``[n, 2, L]``, target ``[n]`` of centre-out reaches."""
    target = rng.integers(0, 8, n)
    t = np.arange(L) / L
    onset = 0.25 + rng.uniform(-0.05, 0.05, (n, 1))
    duration = 0.4 * rng.uniform(0.85, 1.15, (n, 1))
    speed = np.sin(np.pi * np.clip((t - onset) / duration, 0, 1)) ** 2 * rng.uniform(
        0.8, 1.2, (n, 1)
    )
    theta = 2 * np.pi * target / 8
    vel = np.stack([speed * np.cos(theta)[:, None], speed * np.sin(theta)[:, None]], 1)
    pos = np.cumsum(vel, axis=2) / (0.2 * L)
    return np.concatenate([vel * 1.6, pos * 1.2], 1), vel, target


def _day(
    day: int,
    w: np.ndarray,
    b: np.ndarray,
    n: int,
    rng: np.random.Generator,
    dead: np.ndarray | None = None,
) -> Windows:
    z, vel, target = _latents(n, rng)
    rate = np.exp(b[None, :, None] + np.einsum("ck,nkl->ncl", w, z))
    spikes = rng.poisson(np.minimum(rate, 20.0)).astype(np.float32)
    if dead is not None:
        spikes[:, dead] = 0.0
    return Windows(
        spikes=spikes,
        behavior=vel.astype(np.float32),
        day=np.full(n, day),
        trial=np.arange(n),
        t_start=np.zeros(n),
        target=target,
        bin_s=0.02,
        channel_ids=[f"ch{i}" for i in range(w.shape[0])],
    )


@pytest.fixture(scope="module")
def data() -> dict:
    rng = np.random.default_rng(0)
    w0 = rng.normal(0.0, 0.5, (C, K))
    b0 = np.log(rng.uniform(0.2, 1.5, C))
    train = _day(0, w0, b0, 200, rng)
    new = rng.random(C) < 0.35  # turnover: fresh tuning and baseline
    w1, b1 = w0.copy(), b0.copy()
    w1[new] = rng.normal(0.0, 0.5, (int(new.sum()), K))
    b1[new] = np.log(rng.uniform(0.2, 1.5, int(new.sum())))
    dead = np.flatnonzero(~new)[:3]
    rotation, _ = np.linalg.qr(rng.normal(size=(K, K)))
    w2 = w0 @ rotation  # every surviving channel reads the rotated latent
    w2[new] = w1[new]
    return {
        "train": train[np.arange(160)],
        "val": train[np.arange(160, 200)],
        "fa_day": _day(NEW_DAY, w1, b1, 160, rng, dead=dead),
        "cca_day": _day(NEW_DAY, w2, b1, 160, rng, dead=dead),
        "w2": w2,
        "b1": b1,
        "rng": rng,
    }


def _r2(pred: np.ndarray, y: np.ndarray) -> float:
    p = pred.transpose(0, 2, 1).reshape(-1, y.shape[1])
    t = y.transpose(0, 2, 1).reshape(-1, y.shape[1])
    return float(np.mean(1 - ((p - t) ** 2).sum(0) / ((t - t.mean(0)) ** 2).sum(0)))


def test_fa_procrustes_alignment_beats_the_fixed_decoder(data: dict) -> None:
    test = data["fa_day"]
    scores, preds = {}, {}
    for align in (True, False):
        model = FAProcrustes(n_factors=4, align_new_days=align)
        model.fit(data["train"], data["val"], task="decode", seed=0)
        same_day = _r2(model.predict(data["val"].spikes, day=0), data["val"].behavior)
        assert same_day > 0.6
        preds[align] = model.predict(test.spikes, day=NEW_DAY)
        scores[align] = _r2(preds[align], test.behavior)
    assert scores[True] > 0.6
    assert scores[True] > scores[False] + 0.15, scores
    assert model.alignment_info == {}  # align_new_days=False never aligns

    again = FAProcrustes(n_factors=4)
    again.fit(data["train"], data["val"], task="decode", seed=0)
    np.testing.assert_array_equal(again.predict(test.spikes, day=NEW_DAY), preds[True])
    stable = again.alignment_info[NEW_DAY]["stable_channels"]
    assert len(stable) >= 4
    # the cached alignment is reused for the same spikes
    np.testing.assert_array_equal(again.predict(test.spikes, day=NEW_DAY), preds[True])
    hp = again.hyperparameters()
    assert hp["n_factors"] == 4 and hp["alpha"] is not None


def test_cca_alignment_beats_the_fixed_decoder(data: dict) -> None:
    test = data["cca_day"]
    scores, preds = {}, {}
    for align in (True, False):
        model = CCAAlign(n_components=4, align_new_days=align)
        model.fit(data["train"], data["val"], task="decode", seed=0)
        assert _r2(model.predict(data["val"].spikes, day=0), data["val"].behavior) > 0.6
        preds[align] = model.predict(test.spikes, day=NEW_DAY, target=test.target)
        scores[align] = _r2(preds[align], test.behavior)
    assert scores[True] > 0.6
    assert scores[True] > scores[False] + 0.3, scores

    again = CCAAlign(n_components=4)
    again.fit(data["train"], data["val"], task="decode", seed=0)
    np.testing.assert_array_equal(
        again.predict(test.spikes, day=NEW_DAY, target=test.target), preds[True]
    )
    info = again.alignment_info[NEW_DAY]
    assert info["conditions"] == list(range(8)) and min(info["canonical_correlations"]) > 0.5

    with pytest.warns(UserWarning, match="grand-average"):
        fallback = again.predict(test.spikes, day=NEW_DAY + 1)  # no labels: weaker fallback
    assert fallback.shape == test.behavior.shape


def test_cca_takes_days_with_their_own_channel_counts(data: dict) -> None:
    rng = np.random.default_rng(1)
    keep = np.sort(rng.choice(C, 36, replace=False))  # the new day has 36 channels
    test = _day(NEW_DAY, data["w2"][keep], data["b1"][keep], 160, rng)
    # ragged training: day 0 (48 channels) and day 1 (40 channels, zero-padded rows)
    other = _day(1, data["w2"][:40], data["b1"][:40], 120, rng)
    padded = np.zeros((len(other), C, L), dtype=np.float32)
    padded[:, :40] = other.spikes
    train, val = data["train"], data["val"]
    ragged = Windows(
        spikes=np.concatenate([train.spikes, padded]),
        behavior=np.concatenate([train.behavior, other.behavior]),
        day=np.concatenate([train.day, other.day]),
        trial=np.concatenate([train.trial, other.trial]),
        t_start=np.zeros(len(train) + len(other)),
        target=np.concatenate([train.target, other.target]),
        channel_policy="unit",
        day_channel_ids={0: train.channel_ids, 1: other.channel_ids},
    )
    assert ragged.ragged
    model = CCAAlign(n_components=4)
    model.fit(ragged, val, task="decode", seed=0)
    assert model.reference_day == 0
    assert _r2(model.predict(other.spikes, day=1), other.behavior) > 0.5
    assert _r2(model.predict(padded, day=1), other.behavior) > 0.5  # zero padding is trimmed
    assert _r2(model.predict(test.spikes, day=NEW_DAY, target=test.target), test.behavior) > 0.5

    with pytest.raises(DataError, match="same channel"):
        FAProcrustes(n_factors=4).fit(ragged, val, task="decode", seed=0)


def test_fa_procrustes_needs_the_same_channels(data: dict) -> None:
    model = FAProcrustes(n_factors=4)
    model.fit(data["train"], data["val"], task="decode", seed=0)
    with pytest.raises(DataError, match="electrode policy"):
        model.predict(data["fa_day"].spikes[:, :40], day=NEW_DAY)
    silent = np.zeros_like(data["fa_day"].spikes)
    with pytest.raises(DataError, match="activity"):
        model.predict(silent, day=NEW_DAY)
    with pytest.raises(ValueError, match="cannot simulate"):
        model.fit(data["train"], data["val"], task="simulate", seed=0)


def test_alignment_helpers_recover_known_transforms() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(size=(30, 3))
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    loadings = reference @ rotation.T  # reference = loadings @ rotation
    loadings[:5] += rng.normal(0.0, 3.0, (5, 3))  # five unstable channels
    o, stable, _ = align_stable_channels(loadings, reference, np.ones(30, bool), n_stable=20)
    np.testing.assert_allclose(o, rotation, atol=1e-8)
    assert not stable[:5].any()

    z = rng.normal(size=(200, 3))
    mix = rng.normal(size=(3, 3))
    mapping = cca_map(z, z @ mix + 1.0)
    np.testing.assert_allclose(mapping(z @ mix + 1.0), z, atol=1e-8)


def test_registered_as_benchmark_baselines() -> None:
    for name, cls in (("FA+Procrustes", FAProcrustes), ("CCA-align", CCAAlign)):
        assert name in BASELINES and PARAM_GRIDS[name]
        assert baseline_tasks(name) == frozenset({"decode"})
        model = make_baseline(name, **PARAM_GRIDS[name][0])
        assert isinstance(model, cls) and model.name == name
        assert model.uses_day and model.causal and model.tasks == frozenset({"decode"})
