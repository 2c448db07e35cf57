"""Closed-loop (lag-0) evaluation: the estimate a BCI gets for bin t, scored at bin t.

A window model decodes a whole window at once; offline its R² is taken over every bin of
every window, future context included. In a closed loop the estimate for bin t must be
available at bin t, from bins <= t. This module computes those per-bin estimates for a day
of continuous binned spikes and scores them against the behaviour at the same bin:

- acausal (window) model: the estimate for bin t is the last bin of the window that ends at
  bin t (what `StreamingDecoder` returns at ``lag_bins=0``);
- causal model: the incremental stream (`CausalStreamingDecoder`) from the first bin of the
  day, i.e. exactly what a closed loop would get.

Both use fixed spike statistics (a calibration of the day from its unlabelled counts, by
default the whole day's; or a stored day). Bins before the window model's first full window
(``t < L - 1``) have no window estimate; R² is taken over bins ``t >= L - 1`` for every model
so that the figures compare the same bins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from alignnet.data.preprocess import PreprocessConfig
from alignnet.data.preprocess.behavior import gaussian_smooth, resample_behavior
from alignnet.data.preprocess.binning import bin_session_spikes
from alignnet.data.session import Session
from alignnet.errors import DataError
from alignnet.evaluation.metrics import pearson_r, r2_score
from alignnet.realtime.causal import CausalStreamingDecoder
from alignnet.realtime.stats import (
    FixedStats,
    resolve_spike_stats,
    spike_statistics,
    trained_normalizer,
    z_score_block,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from alignnet.api import AlignNet


def continuous_day(
    session: Session, config: PreprocessConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Bin a whole session as one continuous stream, as preprocessing bins its windows.

    Returns:
        ``(counts [T, C] float32, behavior [T, D] float32)``: spike counts per bin and the
        behaviour resampled to the bins and smoothed (the windows' targets).
    """
    config = config or PreprocessConfig()
    counts, edges = bin_session_spikes(session, bin_s=config.bin_s)
    behavior = resample_behavior(
        session.behavior_times, session.behavior, edges, method=config.behavior_method
    )
    behavior = gaussian_smooth(
        behavior, sigma_bins=config.smooth_sigma_bins, truncate=config.smooth_truncate, axis=0
    )
    if config.behavior_fields is not None:
        names = list(session.meta.behavior_names)
        behavior = behavior[:, [names.index(f) for f in config.behavior_fields]]
    return counts.astype(np.float32), behavior.astype(np.float32)


@torch.no_grad()
def window_lag0_estimates(
    model: AlignNet, counts: np.ndarray, *, batch_size: int = 128, **stats: Unpack[FixedStats]
) -> np.ndarray:
    """Acausal window model at lag 0: row t = last bin of the window ending at bin t.

    Args:
        model: an `AlignNet` fine-tuned for decoding (any ``causal`` setting).
        counts: ``[T, C]`` spike counts of one continuous day.
        day, spike_mean, spike_std: fixed normalisation (see `StreamingDecoder`).

    Returns:
        ``[T, D]`` float32 (training units); rows ``t < L - 1`` are NaN (no full window yet).
    """
    counts = np.asarray(counts, dtype=np.float32)
    cfg = model.config.model
    length, day = cfg.window_len, stats.get("day")
    mean, std = resolve_spike_stats(model.normalizer, n_channels=counts.shape[1], **stats)
    z = z_score_block(counts, spike_mean=mean, spike_std=std, source="window_lag0_estimates")
    n = counts.shape[0] - length + 1
    out = np.full((counts.shape[0], cfg.n_behavior), np.nan, dtype=np.float32)
    if n <= 0:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(z, length, axis=0)  # [n, C, L]
    net = model.network.eval()
    device = next(net.parameters()).device
    last = []
    for start in range(0, n, batch_size):
        x = torch.from_numpy(np.ascontiguousarray(windows[start : start + batch_size]))
        day_t = torch.full((x.shape[0],), -1 if day is None else int(day), dtype=torch.long)
        y = net(spikes=x.to(device), day=day_t.to(device), mode="decode")["behavior"]
        last.append(y[:, :, -1].float().cpu().numpy())
    out[length - 1 :] = trained_normalizer(model.normalizer).inverse_behavior_bins(
        np.concatenate(last)
    )
    return out


def stream_lag0_estimates(
    model: AlignNet, counts: np.ndarray, **stats: Unpack[FixedStats]
) -> np.ndarray:
    """Causal model at lag 0: the incremental stream over the day, ``[T, C] -> [T, D]``."""
    return CausalStreamingDecoder(model, **stats).run(counts)


def lag0_estimates(model: AlignNet, counts: np.ndarray, **stats: Unpack[FixedStats]) -> np.ndarray:
    """Per-bin lag-0 estimates ``[T, D]``: the stream for a causal model, the window ending at
    each bin for the acausal one (NaN before its first full window)."""
    if model.config.model.causal:
        return stream_lag0_estimates(model, counts, **stats)
    return window_lag0_estimates(model, counts, **stats)


@dataclass
class Lag0Score:
    """R² / Pearson r of lag-0 estimates over bins ``first_bin..T-1`` of one day."""

    r2: float
    pearson: float
    n_bins: int
    first_bin: int


def lag0_score(
    model: AlignNet,
    counts: np.ndarray,
    behavior: np.ndarray,
    *,
    day: int | None = None,
    spike_mean: np.ndarray | None = None,
    spike_std: np.ndarray | None = None,
    first_bin: int | None = None,
) -> tuple[Lag0Score, np.ndarray]:
    """Score a model's lag-0 estimates against the behaviour at the same bin.

    Args:
        model: a decode-fine-tuned `AlignNet` (causal or not).
        counts: ``[T, C]`` continuous spike counts of one day.
        behavior: ``[T, D]`` behaviour at those bins (training units).
        day, spike_mean, spike_std: fixed normalisation; by default (no day, no statistics)
            the statistics of ``counts`` themselves (zero-shot calibration of a new day).
        first_bin: first scored bin (default ``L - 1``, the window model's first estimate).

    Returns:
        ``(score, estimates [T, D])``.
    """
    counts = np.asarray(counts, dtype=np.float32)
    behavior = np.asarray(behavior, dtype=np.float32)
    if counts.ndim != 2 or behavior.ndim != 2 or counts.shape[0] != behavior.shape[0]:
        raise DataError(
            f"expected counts [T, C] and behavior [T, D], got {counts.shape} and {behavior.shape}",
            field="counts",
        )
    if day is None and spike_mean is None:
        spike_mean, spike_std = spike_statistics(counts)
    est = lag0_estimates(model, counts, day=day, spike_mean=spike_mean, spike_std=spike_std)
    first = model.config.model.window_len - 1 if first_bin is None else int(first_bin)
    truth, pred = behavior[first:], est[first:]
    score = Lag0Score(
        r2=r2_score(truth, pred), pearson=pearson_r(truth, pred), n_bins=len(truth), first_bin=first
    )
    return score, est
