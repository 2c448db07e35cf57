"""Closed-loop (lag-0) rows of `alignnet demo`'s report (issues 15, 23).

For the held-out day, binned as one continuous stream, the estimate for bin t is scored
against the behaviour at bin t (`alignnet.realtime.lag0`): a causal AlignNet (the default)
through its incremental stream, the acausal window model (``--acausal``) through the window
ending at t, and - with ``--gru`` - a GRU baseline (causal by construction) run over the whole
day as one sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alignnet.api import AlignNet
from alignnet.data.preprocess import PreprocessConfig
from alignnet.data.session import Session
from alignnet.data.windows import Windows, split_by_trial
from alignnet.evaluation.metrics import pearson_r, r2_score
from alignnet.realtime.lag0 import continuous_day, lag0_score
from alignnet.realtime.stats import spike_statistics

Row = tuple[float, float | None]


def held_out_stream(sessions: list[Session], day: int) -> tuple[np.ndarray, np.ndarray]:
    """``(counts [T, C], behavior [T, D])`` of the session recorded on ``day``."""
    session = next(s for s in sessions if int(s.meta.day) == int(day))
    return continuous_day(session, PreprocessConfig())


def lag0_row_name(model: AlignNet) -> str:
    """The report row of ``model``'s lag-0 estimate."""
    if model.config.model.causal:
        return "decode lag 0: AlignNet, causal (incremental stream)"
    return "decode lag 0: AlignNet, acausal (window ending at bin t)"


def closed_loop_rows(
    model: AlignNet,
    counts: np.ndarray,
    behavior: np.ndarray,
    *,
    gru: Any | None = None,
    test_w: Windows | None = None,
) -> dict[str, Row]:
    """Report rows ``name -> (R², Pearson r)`` of the lag-0 estimates on one continuous day.

    All rows score the same bins (``t >= L - 1``) with the same fixed spike statistics
    (the day's own, from its unlabelled counts); ``gru`` is a fitted `GRUBaseline` (also
    scored on the trial windows ``test_w`` when given).
    """
    mean, std = spike_statistics(counts)
    score, _ = lag0_score(model, counts, behavior, spike_mean=mean, spike_std=std)
    rows: dict[str, Row] = {lag0_row_name(model): (score.r2, score.pearson)}
    if gru is not None:
        if test_w is not None:
            windows_pred = gru.predict(test_w.spikes)
            rows["decode: GRU (trial windows)"] = (
                r2_score(test_w.behavior, windows_pred),
                pearson_r(test_w.behavior, windows_pred),
            )
        first = score.first_bin
        pred = gru.predict(counts.T[None])[0].T  # the whole day as one sequence [T, D]
        rows["decode lag 0: GRU (whole day as one sequence)"] = (
            r2_score(behavior[first:], pred[first:]),
            pearson_r(behavior[first:], pred[first:]),
        )
    return rows


def train_gru(fine_w: Windows, *, seed: int, epochs: int, device: str) -> Any:
    """GRU baseline (decode) on the fine-tuning days, 10 % of their trials for validation."""
    from alignnet.models.baselines.gru import GRUBaseline

    gru = GRUBaseline(epochs=epochs, device="cpu" if device == "auto" else device)
    tr, va = split_by_trial(fine_w, test_fraction=0.1, contiguous=False, seed=seed)
    gru.fit(fine_w[tr], fine_w[va], task="decode", seed=seed)
    return gru
