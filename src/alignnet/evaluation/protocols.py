"""Evaluation protocols as index arrays into one `Windows` (paper section 4.1, plus few-shot
and days-apart curves). Every protocol returns a list of `Fold`s; the benchmark fits one model
per fold and task and scores it on each of the fold's test sets.

- ``single-day``: each day alone; the last 20 % of its trials are the test set (no window
  shared), the last 20 % of the remaining trials the validation set.
- ``cross-day``: train on ``n_train_days`` consecutive days, test on the next (held-out) day;
  AlignNet may pretrain on every other day (19 of 22 on the paper's data).
- ``few-shot``: as cross-day, plus the first ``k`` labelled trials of the new day in training;
  the new day's test trials (its last 20 %) are the same for every ``k``.
- ``days-apart``: train on the first day, test on every day; score against the gap in days.
- ``contiguous``: one continuous recording without trials (the real .mat files): first 80 %
  of windows (by time) train, last 20 % test, as in ``shared/anchors.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alignnet.data.windows import Windows, first_trials, split_by_day, split_by_trial
from alignnet.errors import DataError
from alignnet.names import (
    CONTIGUOUS,
    CROSS_DAY,
    DAYS_APART,
    FEW_SHOT,
    PROTOCOLS,  # noqa: F401 - re-exported
    SINGLE_DAY,
)

DEFAULT_SHOTS = (0, 10, 25, 50, 100, 200)


@dataclass(frozen=True)
class TestSet:
    """Windows one fitted model is scored on.

    Attributes:
        label: e.g. ``"day 3"``.
        index: int64 indices into the windows.
        day: the test day.
        days_apart: test day minus the last training day (0 within a day).
    """

    label: str
    index: np.ndarray
    day: int
    days_apart: int = 0


@dataclass(frozen=True)
class Fold:
    """One fit: train / validation / pretraining indices and the test sets scored after it.

    Attributes:
        protocol: one of ``PROTOCOLS``.
        label: human-readable fold name.
        train, val: int64 indices (validation never overlaps train or any test set).
        pretrain: indices AlignNet may pretrain on (never a test window); baselines ignore it.
        tests: the test sets.
        info: protocol details (training days, shots ``k``, ...), JSON-serialisable.
    """

    protocol: str
    label: str
    train: np.ndarray
    val: np.ndarray
    pretrain: np.ndarray
    tests: tuple[TestSet, ...]
    info: dict[str, Any] = field(default_factory=dict)


def _sub(idx: np.ndarray, local: np.ndarray) -> np.ndarray:
    return np.sort(idx[local]).astype(np.int64)


def carve_validation(
    windows: Windows, index: np.ndarray, *, val_fraction: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``index`` into ``(train, val)``: the last ``val_fraction`` of each day's trials."""
    index = np.asarray(index, dtype=np.int64)
    tr, va = split_by_trial(windows[index], test_fraction=val_fraction, contiguous=True)
    return _sub(index, tr), _sub(index, va)


def single_day_folds(
    windows: Windows,
    *,
    days: Sequence[int] | None = None,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
) -> list[Fold]:
    """One fold per day: 80/20 by trial (last trials test), validation carved from the 80 %."""
    folds = []
    for d in windows.days if days is None else days:
        in_day = np.flatnonzero(windows.day == d)
        tr, te = split_by_trial(windows[in_day], test_fraction=test_fraction, contiguous=True)
        train_all, test = _sub(in_day, tr), _sub(in_day, te)
        train, val = carve_validation(windows, train_all, val_fraction=val_fraction)
        folds.append(
            Fold(
                protocol=SINGLE_DAY,
                label=f"day {int(d)}",
                train=train,
                val=val,
                pretrain=train_all,
                tests=(TestSet(f"day {int(d)}", test, int(d)),),
                info={"day": int(d)},
            )
        )
    return folds


def _cross_day_parts(
    windows: Windows, *, test_day: int, n_train_days: int
) -> tuple[list[int], np.ndarray, np.ndarray]:
    days = [int(d) for d in windows.days]
    pos = days.index(test_day)
    if pos < n_train_days:
        raise DataError(
            f"test day {test_day} has only {pos} earlier day(s); cross-day needs {n_train_days}",
            source="protocols",
        )
    train_days = days[pos - n_train_days : pos]
    train_all, _ = split_by_day(windows, train_days=train_days, test_days=[test_day])
    others = [d for d in days if d not in train_days and d != test_day]
    pretrain = np.flatnonzero(np.isin(windows.day, others)) if others else train_all
    return train_days, train_all, pretrain.astype(np.int64)


def cross_day_folds(
    windows: Windows,
    *,
    n_train_days: int = 2,
    n_folds: int = 1,
    val_fraction: float = 0.2,
) -> list[Fold]:
    """Train on ``n_train_days`` consecutive days, test on the day after them.

    Fold ``i`` tests on the ``i``-th day from the end. AlignNet's pretraining set is every day
    that is neither a training nor the test day (the training days when there is none).
    """
    days = [int(d) for d in windows.days]
    if len(days) < n_train_days + 1:
        raise DataError(
            f"{len(days)} day(s); cross-day needs at least {n_train_days + 1}", source="protocols"
        )
    folds = []
    for i in range(min(n_folds, len(days) - n_train_days)):
        test_day = days[-1 - i]
        train_days, train_all, pretrain = _cross_day_parts(
            windows, test_day=test_day, n_train_days=n_train_days
        )
        train, val = carve_validation(windows, train_all, val_fraction=val_fraction)
        test = np.flatnonzero(windows.day == test_day)
        folds.append(
            Fold(
                protocol=CROSS_DAY,
                label=f"days {train_days} -> {test_day}",
                train=train,
                val=val,
                pretrain=pretrain,
                tests=(TestSet(f"day {test_day}", test, test_day, test_day - train_days[-1]),),
                info={"train_days": train_days, "test_day": test_day},
            )
        )
    return folds


def few_shot_folds(
    windows: Windows,
    *,
    shots: Sequence[int] = DEFAULT_SHOTS,
    n_train_days: int = 2,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
) -> list[Fold]:
    """R^2 against labelled trials of a new day (the last day).

    Training = the ``n_train_days`` days before it plus the new day's first ``k`` trials; the
    new day's last ``test_fraction`` of trials is the fixed test set. ``k`` is capped by the
    trials the day has outside its test set (the cap itself is added as the last point).
    """
    days = [int(d) for d in windows.days]
    if len(days) < n_train_days + 1:
        raise DataError(
            f"{len(days)} day(s); few-shot needs at least {n_train_days + 1}", source="protocols"
        )
    new_day = days[-1]
    train_days, train_all, pretrain = _cross_day_parts(
        windows, test_day=new_day, n_train_days=n_train_days
    )
    train, val = carve_validation(windows, train_all, val_fraction=val_fraction)
    in_day = np.flatnonzero(windows.day == new_day)
    pool_local, test_local = split_by_trial(
        windows[in_day], test_fraction=test_fraction, contiguous=True
    )
    pool, test = _sub(in_day, pool_local), _sub(in_day, test_local)
    n_pool = int(np.unique(windows.trial[pool]).size)
    ks = sorted({min(int(k), n_pool) for k in shots})
    folds = []
    for k in ks:
        labelled = pool[first_trials(windows[pool], n_trials=k)] if k > 0 else pool[:0]
        folds.append(
            Fold(
                protocol=FEW_SHOT,
                label=f"k={k}",
                train=np.sort(np.concatenate([train, labelled])).astype(np.int64),
                val=val,
                pretrain=pretrain,
                tests=(TestSet(f"day {new_day}", test, new_day, new_day - train_days[-1]),),
                info={"shots": k, "train_days": train_days, "test_day": new_day},
            )
        )
    return folds


def days_apart_folds(
    windows: Windows,
    *,
    train_day: int | None = None,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
) -> list[Fold]:
    """Train on one day (the first by default), test on its held-out trials and on every later
    day; each test set records the gap in days. AlignNet pretrains on the training day only."""
    days = [int(d) for d in windows.days]
    d0 = days[0] if train_day is None else int(train_day)
    (fold,) = single_day_folds(
        windows, days=[d0], test_fraction=test_fraction, val_fraction=val_fraction
    )
    tests = [TestSet(f"day {d0}", fold.tests[0].index, d0, 0)]
    tests += [
        TestSet(f"day {d}", np.flatnonzero(windows.day == d), d, d - d0) for d in days if d > d0
    ]
    return [
        Fold(
            protocol=DAYS_APART,
            label=f"train day {d0}",
            train=fold.train,
            val=fold.val,
            pretrain=fold.pretrain,
            tests=tuple(tests),
            info={"train_day": d0},
        )
    ]


def contiguous_folds(
    windows: Windows, *, test_fraction: float = 0.2, val_fraction: float = 0.2
) -> list[Fold]:
    """One continuous recording: windows ordered by start time; first 80 % train (its last
    ``val_fraction`` validation), last 20 % test. Windows overlapping a boundary are dropped."""
    order = np.argsort(windows.t_start, kind="stable")
    n = order.size
    if n < 5:
        raise DataError(f"{n} windows; a contiguous split needs at least 5", source="protocols")
    n_test = max(1, int(round(test_fraction * n)))
    n_fit = n - n_test
    n_val = max(1, int(round(val_fraction * n_fit)))
    train, val, test = order[: n_fit - n_val], order[n_fit - n_val : n_fit], order[n_fit:]
    span = windows.window_len * windows.bin_s

    def before(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # keep a's windows ending before b
        return a[windows.t_start[a] + span <= windows.t_start[b].min() + 1e-9]

    train, val = before(train, val), before(val, test)
    d = int(windows.day[order[0]])
    return [
        Fold(
            protocol=CONTIGUOUS,
            label="first 80 % -> last 20 %",
            train=np.sort(train).astype(np.int64),
            val=np.sort(val).astype(np.int64),
            pretrain=np.sort(np.concatenate([train, val])).astype(np.int64),
            tests=(TestSet("last 20 %", np.sort(test).astype(np.int64), d),),
            info={"test_fraction": test_fraction},
        )
    ]


def make_folds(protocol: str, windows: Windows, **options: Any) -> list[Fold]:
    """Folds of ``protocol`` (a name in ``PROTOCOLS``) with its keyword ``options``."""
    makers: dict[str, Callable[..., list[Fold]]] = {
        SINGLE_DAY: single_day_folds,
        CROSS_DAY: cross_day_folds,
        FEW_SHOT: few_shot_folds,
        DAYS_APART: days_apart_folds,
        CONTIGUOUS: contiguous_folds,
    }
    if protocol not in makers:
        raise ValueError(f"unknown protocol {protocol!r}; known: {list(makers)}")
    return makers[protocol](windows, **options)
