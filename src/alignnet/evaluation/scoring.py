"""Scoring: a model's predictions on windows (one day at a time where it uses the day), the
test metrics of one prediction, the validation score tuning ranks settings by, and why a
model cannot be scored on a fold or test day."""

from __future__ import annotations

import warnings

import numpy as np

from alignnet.data.windows import Windows
from alignnet.evaluation import metrics
from alignnet.evaluation.presets import ModelSpec
from alignnet.evaluation.protocols import Fold
from alignnet.evaluation.simulation_metrics import simulation_scores
from alignnet.models.contract import Estimator
from alignnet.names import DECODE, SIMULATE


def predict_windows(model: Estimator, task: str, windows: Windows) -> np.ndarray:
    """Predictions for ``windows``; a model that uses the day gets one day at a time, with
    that day's own channels (and the windows' targets, if it uses them)."""
    by_day = model.uses_day
    if task == SIMULATE:
        if not by_day:
            return model.simulate(windows.behavior)
        rates = np.zeros_like(windows.spikes)  # days of other widths: zero past their channels
        for d in windows.days.tolist():
            sel = windows.day == d
            pred = model.simulate(windows.behavior[sel], day=int(d))
            rates[sel, : pred.shape[1]] = pred
        return rates
    if by_day:
        out = np.empty_like(windows.behavior)
        for d in windows.days.tolist():
            sel = windows.day == d
            # Gallego et al.'s CCA alignment matches trials by target (never by behaviour).
            extra = {"target": windows.target[sel]} if model.uses_target else {}
            out[sel] = model.predict(windows.day_spikes(d), day=int(d), **extra)
        return out
    return model.predict(windows.spikes)


def channel_problem(spec: ModelSpec, fold: Fold, windows: Windows) -> str | None:
    """Why ``spec`` cannot run ``fold`` (days with different channel lists), or None."""
    index = np.concatenate([fold.train, fold.val, *[t.index for t in fold.tests]])
    if not windows[index].ragged or spec.proto.per_day_channels:
        return None
    return (
        "its days have different channel lists (unit policy) and this model needs the same "
        "channels every day; read the recordings with --channels electrode"
    )


def unseen_channels(seen: Windows, test: Windows, what: str) -> str | None:
    """Why ``what`` is undefined on the test day: its channel list (sorted units) appears on
    no day the model was trained on and the model cannot align a new day; else None."""
    day = int(test.days[0])
    if any(seen.channel_ids_of(int(d)) == test.channel_ids_of(day) for d in seen.days):
        return None
    return f"day {day}'s channels (sorted units) appear on no training day: {what}"


def score(task: str, test: Windows, pred: np.ndarray, train_mean_counts: np.ndarray) -> dict:
    """Metrics of one prediction: decode R^2 / Pearson r; simulate: see `simulation_scores`.

    A prediction that is constant in every dimension has no Pearson r (NaN, shown as "-").
    A test set whose behaviour (decode) or spikes (simulate) are constant in every dimension
    has no R² (NaN); its ``"note"`` says so (``NO_VARIANCE``; e.g. an animal at rest, or
    tracking lost for the whole test split).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of all-NaN -> NaN
        return _score(task, test, pred, train_mean_counts)


#: Why a test set's R² is NaN when its target never varies.
NO_VARIANCE = {
    DECODE: "test behaviour has no variance (R² undefined)",
    SIMULATE: "test spikes have no variance (R² undefined)",
}


def _no_variance(target: np.ndarray) -> bool:
    """True when every dimension of ``[N, D, L]`` is constant over windows and bins."""
    flat = np.moveaxis(np.asarray(target, dtype=np.float64), 1, -1).reshape(-1, target.shape[1])
    return bool(np.all(np.ptp(flat, axis=0) == 0)) if flat.size else True


def _score(task: str, test: Windows, pred: np.ndarray, train_mean_counts: np.ndarray) -> dict:
    target = test.behavior if task == DECODE else test.spikes
    note = {"note": NO_VARIANCE[task]} if _no_variance(target) else {}
    if task == DECODE:
        return {
            "r2": metrics.r2_score(test.behavior, pred),
            "pcc": metrics.pearson_r(test.behavior, pred),
            **note,
        }
    return {**simulation_scores(test, pred, train_mean_counts), **note}


def val_score(task: str, val: Windows, pred: np.ndarray) -> float:
    """Higher is better: validation R^2 (decode) or PCC (simulate)."""
    target = val.behavior if task == DECODE else val.spikes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = (
            metrics.r2_score(target, pred) if task == DECODE else metrics.pearson_r(target, pred)
        )
    return value if np.isfinite(value) else -np.inf
