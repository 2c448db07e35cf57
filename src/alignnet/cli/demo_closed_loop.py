"""Closed-loop (lag-0) rows of `alignnet demo`'s report (issue 15).

For the held-out day, binned as one continuous stream, the estimate for bin t is scored
against the behaviour at bin t (`alignnet.realtime.lag0`): the acausal window model through
the window ending at t, and - with ``--causal`` - a causal AlignNet (same settings,
``ModelConfig.causal=True``) through its incremental stream and a GRU baseline (causal by
construction) run over the whole day as one sequence.
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


def closed_loop_rows(
    acausal: AlignNet,
    counts: np.ndarray,
    behavior: np.ndarray,
    *,
    causal: AlignNet | None = None,
    gru: Any | None = None,
    causal_window: Row | None = None,
    test_w: Windows | None = None,
) -> dict[str, Row]:
    """Report rows ``name -> (R², Pearson r)`` of the lag-0 estimates on one continuous day.

    All rows score the same bins (``t >= L - 1``) with the same fixed spike statistics
    (the day's own, from its unlabelled counts); ``gru`` is a fitted `GRUBaseline` (also
    scored on the trial windows ``test_w`` when given).
    """
    mean, std = spike_statistics(counts)
    stats: dict[str, Any] = {"spike_mean": mean, "spike_std": std}
    window_score, _ = lag0_score(acausal, counts, behavior, **stats)
    rows: dict[str, Row] = {
        "decode lag 0: acausal AlignNet (window ending at bin t)": (
            window_score.r2,
            window_score.pearson,
        )
    }
    if causal is not None:
        if causal_window is not None:
            rows["decode: causal AlignNet (windows)"] = causal_window
        score, _ = lag0_score(causal, counts, behavior, **stats)
        rows["decode lag 0: causal AlignNet (incremental stream)"] = (score.r2, score.pearson)
    if gru is not None:
        if test_w is not None:
            windows_pred = gru.predict(test_w.spikes)
            rows["decode: GRU (windows)"] = (
                r2_score(test_w.behavior, windows_pred),
                pearson_r(test_w.behavior, windows_pred),
            )
        first = window_score.first_bin
        pred = gru.predict(counts.T[None])[0].T  # the whole day as one sequence [T, D]
        rows["decode lag 0: GRU (whole day as one sequence)"] = (
            r2_score(behavior[first:], pred[first:]),
            pearson_r(behavior[first:], pred[first:]),
        )
    return rows


def train_causal(overrides: dict[str, Any], pre_w: Windows, fine_w: Windows, out) -> AlignNet:
    """The causal AlignNet: same settings and data as the demo's window model."""
    model = AlignNet(**{**overrides, "causal": True})
    model.pretrain(pre_w, log_csv=out / "causal_pretrain_log.csv")
    model.finetune(fine_w, task="decode", log_csv=out / "causal_finetune_decode_log.csv")
    model.save(out / "model_causal.ckpt")
    return model


def train_gru(fine_w: Windows, *, seed: int, epochs: int, device: str) -> Any:
    """GRU baseline (decode) on the fine-tuning days, 10 % of their trials for validation."""
    from alignnet.models.baselines.gru import GRUBaseline

    gru = GRUBaseline(epochs=epochs, device="cpu" if device == "auto" else device)
    tr, va = split_by_trial(fine_w, test_fraction=0.1, contiguous=False, seed=seed)
    gru.fit(fine_w[tr], fine_w[va], task="decode", seed=seed)
    return gru


def causal_window_row(model: AlignNet, test_w: Windows) -> Row:
    """R² / r of the causal model decoding the held-out day's trial windows."""
    decoded = model.decode(test_w)
    return r2_score(test_w.behavior, decoded), pearson_r(test_w.behavior, decoded)
