"""Missing behaviour samples (tracking dropouts): mark them, fill short gaps, find long ones.

A video tracker loses the animal now and then; its file holds NaN there, or a fixed value
such as ``(0, 0)``. The rule, the same for every file format:

- `mark_missing`: samples whose every dimension equals ``missing_value`` become NaN (opt-in:
  ``0`` is a real position for a hand centred on the origin);
- `fill_short_gaps`: a run of NaN samples whose valid neighbours are at most ``max_gap_s``
  apart is linearly interpolated between them; longer runs, and runs at the start or end of
  the recording (one neighbour only), stay NaN;
- `missing_bins` (used when windows are cut): a bin is missing when its centre falls in a gap
  that is still NaN. Windows holding a missing bin are **dropped** from training and scoring
  (`alignnet.data.preprocess.windowing` counts them as ``dropped_behavior_gaps``); spikes
  alone (`alignnet align`) do not need behaviour and keep every window.
"""

from __future__ import annotations

import numpy as np

#: Default longest gap filled by interpolation, s (a few video frames at 30-60 Hz).
DEFAULT_MAX_GAP_S = 0.25


def mark_missing(values: np.ndarray, missing_value: float | None) -> np.ndarray:
    """``[n, D]`` float64 copy with samples whose every dimension is ``missing_value`` as NaN."""
    out = np.array(values, dtype=np.float64, copy=True)
    if missing_value is None or out.size == 0:
        return out
    out[np.all(out == float(missing_value), axis=1)] = np.nan
    return out


def fill_short_gaps(
    times: np.ndarray, values: np.ndarray, *, max_gap_s: float
) -> tuple[np.ndarray, dict[str, int]]:
    """Interpolate runs of missing (NaN) samples spanning at most ``max_gap_s``.

    Args:
        times: ``[n]`` strictly increasing sample times, s.
        values: ``[n, D]`` behaviour; a sample with any NaN dimension is missing.
        max_gap_s: longest gap filled, s: the time between the valid samples on either side
            of the run (``0`` fills nothing).

    Returns:
        ``(values [n, D] float64, counts)`` with counts ``missing_samples`` (before),
        ``filled_samples`` and ``gaps_left`` (runs still missing).
    """
    times = np.asarray(times, dtype=np.float64)
    out = np.array(values, dtype=np.float64, copy=True)
    missing = np.isnan(out).any(axis=1) if out.size else np.zeros(0, dtype=bool)
    counts = {"missing_samples": int(missing.sum()), "filled_samples": 0, "gaps_left": 0}
    if not missing.any():
        return out, counts
    out[missing] = np.nan
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # [start, stop)
    for a, b in zip(starts, stops, strict=True):
        if a == 0 or b == missing.size or times[b] - times[a - 1] > max_gap_s:
            counts["gaps_left"] += 1
            continue
        w = (times[a:b] - times[a - 1]) / (times[b] - times[a - 1])
        out[a:b] = (1 - w)[:, None] * out[a - 1] + w[:, None] * out[b]
        counts["filled_samples"] += int(b - a)
    return out, counts


def missing_bins(times: np.ndarray, values: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``[n_bins]`` bool: the bin centre lies in a run of missing samples (or next to one:
    between a missing sample and its valid neighbour), so its value would be made up."""
    missing = np.isnan(np.asarray(values, dtype=np.float64)).any(axis=1)
    if not missing.any():
        return np.zeros(np.shape(centres)[0], dtype=bool)
    return np.interp(centres, times, missing.astype(np.float64)) > 0


def interpolate_over_missing(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``[n, D]`` with missing samples replaced by linear interpolation of the valid ones
    (held at the ends): a finite signal to resample and smooth; the bins that came from
    gaps are then masked with `missing_bins`. All-missing input gives zeros."""
    out = np.array(values, dtype=np.float64, copy=True)
    missing = np.isnan(out).any(axis=1)
    if not missing.any():
        return out
    if missing.all():
        return np.zeros_like(out)
    good = ~missing
    for d in range(out.shape[1]):
        out[missing, d] = np.interp(times[missing], times[good], out[good, d])
    return out
