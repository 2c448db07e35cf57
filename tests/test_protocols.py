"""Protocols: folds never leak test windows into training, validation or pretraining."""

from __future__ import annotations

import numpy as np
import pytest

from alignnet.data.windows import Windows
from alignnet.errors import DataError
from alignnet.evaluation.protocols import (
    contiguous_folds,
    cross_day_folds,
    days_apart_folds,
    few_shot_folds,
    make_folds,
    single_day_folds,
)
from helpers_alignnet import structural_windows


def _windows(n_days: int = 5, trials: int = 30, per_trial: int = 2) -> Windows:
    return structural_windows(n_days=n_days, trials_per_day=trials, windows_per_trial=per_trial)


def _trial_keys(w: Windows, idx: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(w.day[idx].tolist(), w.trial[idx].tolist(), strict=True))


def _assert_disjoint(w: Windows, fold) -> None:
    tests = np.concatenate([t.index for t in fold.tests])
    assert not set(fold.train) & set(fold.val)
    for t in fold.tests:
        assert not _trial_keys(w, fold.train) & _trial_keys(w, t.index)
        assert not _trial_keys(w, fold.val) & _trial_keys(w, t.index)
        assert not set(fold.pretrain) & set(t.index)
    assert len(fold.train) and len(fold.val) and len(tests)


def test_single_day_is_80_20_by_trial_last_trials_test() -> None:
    w = _windows()
    folds = single_day_folds(w)
    assert [f.info["day"] for f in folds] == [0, 1, 2, 3, 4]
    for f in folds:
        _assert_disjoint(w, f)
        test_trials = np.unique(w.trial[f.tests[0].index])
        np.testing.assert_array_equal(test_trials, np.arange(24, 30))  # last 20 % of 30
        assert set(w.day[np.concatenate([f.train, f.val])]) == {f.info["day"]}
        assert w.trial[f.val].min() > w.trial[f.train].max()  # validation = later trials


def test_cross_day_trains_on_two_days_and_pretrains_on_the_rest() -> None:
    w = _windows(n_days=5)
    folds = cross_day_folds(w, n_folds=2)
    assert [f.info["test_day"] for f in folds] == [4, 3]
    assert folds[0].info["train_days"] == [2, 3]
    assert set(w.day[folds[0].pretrain]) == {0, 1}
    assert set(w.day[folds[1].pretrain]) == {0, 4}
    for f in folds:
        _assert_disjoint(w, f)
        assert set(w.day[f.train]) == set(f.info["train_days"])


def test_cross_day_needs_three_days() -> None:
    with pytest.raises(DataError, match="at least 3"):
        cross_day_folds(_windows(n_days=2))


def test_few_shot_fixed_test_set_and_capped_shots() -> None:
    w = _windows(n_days=3, trials=30)
    folds = few_shot_folds(w, shots=(0, 10, 200))
    # 30 trials, last 6 are test: at most 24 labelled trials; 200 is capped to 24
    assert [f.info["shots"] for f in folds] == [0, 10, 24]
    tests = {tuple(f.tests[0].index) for f in folds}
    assert len(tests) == 1
    for f in folds:
        _assert_disjoint(w, f)
        new_day = w.day[f.train] == 2
        assert np.unique(w.trial[f.train][new_day]).size == f.info["shots"]


def test_days_apart_tests_every_day_with_its_gap() -> None:
    w = _windows(n_days=4)
    (fold,) = days_apart_folds(w)
    assert [t.days_apart for t in fold.tests] == [0, 1, 2, 3]
    assert set(w.day[fold.train]) == {0}
    _assert_disjoint(w, fold)


def test_contiguous_first_80_last_20_without_overlap() -> None:
    n = 50
    w = Windows(
        spikes=np.zeros((n, 2, 10)),
        behavior=np.zeros((n, 2, 10)),
        day=np.zeros(n),
        trial=np.arange(n),
        t_start=np.arange(n) * 0.1,  # windows overlap: each spans 10 bins x 0.02 s = 0.2 s
        target=-np.ones(n),
    )
    (fold,) = contiguous_folds(w)
    test = fold.tests[0].index
    np.testing.assert_array_equal(test, np.arange(40, 50))
    span = 10 * w.bin_s
    assert (w.t_start[fold.train] + span <= w.t_start[fold.val].min() + 1e-9).all()
    assert (w.t_start[fold.val] + span <= w.t_start[test].min() + 1e-9).all()


def test_make_folds_rejects_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="unknown protocol"):
        make_folds("leave-one-out", _windows())
