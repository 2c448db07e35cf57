"""The data contracts every other layer relies on: Session validation and leak-free splits."""

from __future__ import annotations

import numpy as np
import pytest

from alignnet.data import (
    Session,
    SessionMeta,
    Trials,
    Windows,
    first_trials,
    split_by_day,
    split_by_trial,
)
from alignnet.errors import DataError
from helpers_alignnet import structural_windows


def make_session(**changes) -> Session:
    rng = np.random.default_rng(0)
    times = np.arange(0, 10, 0.001)
    base = dict(
        t_start=0.0,
        t_stop=10.0,
        behavior=np.stack([np.sin(times), np.cos(times)], axis=1),
        behavior_times=times,
        trials=Trials(start=[0.0, 5.0], stop=[4.0, 9.5], target=[1, 2], success=[True, False]),
        meta=SessionMeta(source="hand-made"),
        spike_times=[np.sort(rng.uniform(0, 10, 40)) for _ in range(3)],
    )
    base.update(changes)
    return Session(**base)


def test_valid_session_reports_shape() -> None:
    s = make_session().validate()
    assert s.n_channels == 3 and s.n_behavior_dims == 2
    assert s.meta.channel_ids == ["ch000", "ch001", "ch002"]
    np.testing.assert_allclose(s.firing_rates(), 4.0)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"spike_times": [np.array([0.5, 0.2])]}, "spike_times", "not sorted"),
        ({"spike_times": [np.array([-0.1, 0.2])]}, "spike_times", "negative"),
        ({"spike_times": [np.array([1.0, 10.5])]}, "spike_times", "outside the recording"),
        ({"spike_times": [np.array([np.nan])]}, "spike_times", "NaN"),
        ({"behavior_times": np.arange(0, 5, 0.001)}, "behavior_times", "time stamps for"),
        ({"trials": Trials(start=[], stop=[], target=[], success=[])}, "trials", "zero trials"),
        (
            {"trials": Trials(start=[3.0], stop=[2.0], target=[0], success=[True])},
            "trials.stop",
            "end before",
        ),
    ],
)
def test_bad_sessions_name_the_field(changes, field, words) -> None:
    with pytest.raises(DataError) as info:
        make_session(**changes).validate()
    assert info.value.field == field
    assert words in str(info.value)
    assert "hand-made" in str(info.value)


def test_inf_behaviour_is_located_and_nan_is_a_missing_sample() -> None:
    s = make_session()
    s.behavior[40, 1] = np.inf
    with pytest.raises(DataError, match=r"1 inf values \(first at sample 40"):
        s.validate()
    s.behavior[40, 1] = np.nan  # a tracking dropout: allowed, handled when windows are cut
    s.validate()


def test_behaviour_shorter_than_spikes_is_refused() -> None:
    times = np.arange(0, 6, 0.001)
    s = make_session(behavior=np.zeros((times.size, 2)), behavior_times=times)
    with pytest.raises(DataError, match="different durations"):
        s.validate()


def make_windows(n_days: int = 2, trials_per_day: int = 10, windows_per_trial: int = 2) -> Windows:
    return structural_windows(
        n_days=n_days,
        trials_per_day=trials_per_day,
        windows_per_trial=windows_per_trial,
        n_channels=4,
        length=100,
    )


def test_trial_split_never_shares_a_trial() -> None:
    w = make_windows()
    train, test = split_by_trial(w, test_fraction=0.2)
    assert np.intersect1d(train, test).size == 0 and train.size + test.size == len(w)
    train_keys = set(zip(w.day[train], w.trial[train], strict=True))
    test_keys = set(zip(w.day[test], w.trial[test], strict=True))
    assert not train_keys & test_keys
    # last 2 of 10 trials of each day are held out
    assert test_keys == {(d, t) for d in (0, 1) for t in (8, 9)}


def test_random_trial_split_is_seeded() -> None:
    w = make_windows()
    a = split_by_trial(w, contiguous=False, seed=3)[1]
    b = split_by_trial(w, contiguous=False, seed=3)[1]
    c = split_by_trial(w, contiguous=False, seed=4)[1]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_day_split_and_errors() -> None:
    w = make_windows(n_days=3)
    train, test = split_by_day(w, train_days=[0, 1], test_days=[2])
    assert set(w.day[train]) == {0, 1} and set(w.day[test]) == {2}
    with pytest.raises(DataError, match="both train and test"):
        split_by_day(w, train_days=[0, 1], test_days=[1])
    with pytest.raises(DataError, match="no windows"):
        split_by_day(w, train_days=[0], test_days=[7])


def test_first_trials_and_indexing() -> None:
    w = make_windows(n_days=2)
    idx = first_trials(w, n_trials=3, day=1)
    assert set(w.trial[idx]) == {0, 1, 2} and set(w.day[idx]) == {1}
    assert len(w[idx]) == 6
    both = Windows.concatenate([w[:4], w[4:]])
    np.testing.assert_array_equal(both.t_start, w.t_start)


def test_windows_reject_mismatched_shapes_and_nan() -> None:
    with pytest.raises(DataError, match="does not match spikes"):
        Windows(
            spikes=np.zeros((2, 4, 100)),
            behavior=np.zeros((2, 2, 90)),
            day=[0, 0],
            trial=[0, 1],
            t_start=[0, 1],
            target=[0, 0],
        )
    spikes = np.zeros((2, 4, 100))
    spikes[1, 2, 3] = np.nan
    with pytest.raises(DataError, match="NaN"):
        Windows(
            spikes=spikes,
            behavior=np.zeros((2, 2, 100)),
            day=[0, 0],
            trial=[0, 1],
            t_start=[0, 1],
            target=[0, 0],
        )
