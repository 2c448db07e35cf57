"""Fixed spike statistics for streaming and exported models (no per-window statistics).

Batch decoding of a day the model never saw normalises with the statistics of the windows it
is given; a closed-loop or exported model cannot, so it uses one fixed set: a stored day's, or
a set fitted from a block of unlabelled bins of the new day (`spike_statistics`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from alignnet.data.checks import check_array
from alignnet.data.preprocess.normalization import NormStats, mean_std
from alignnet.errors import CheckpointError, DataError
from alignnet.utils.limits import MAX_STREAM_COUNT

if TYPE_CHECKING:  # Python 3.10 has no typing.Unpack
    from typing_extensions import Unpack


class FixedStats(TypedDict, total=False):
    """The fixed normalisation of a streaming, lag-0 or exported decode (keyword bundle of
    `resolve_spike_stats`): ``day`` (a stored day's statistics and read-in) and/or
    ``spike_mean``/``spike_std`` (``[C]`` counts per bin of a calibration block)."""

    day: int | None
    spike_mean: np.ndarray | None
    spike_std: np.ndarray | None


def trained_normalizer(normalizer: NormStats | None) -> NormStats:
    """A model's `NormStats`, or a `CheckpointError` when it was never trained."""
    if normalizer is None:
        raise CheckpointError("the model has no normalisation statistics (it was never trained)")
    return normalizer


def spike_statistics(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of a block of binned counts, as the estimator fits them.

    Args:
        counts: ``[T, C]`` spike counts per bin (e.g. a calibration block of a new day; no
            behaviour needed).

    Returns:
        ``(mean, std)``, each ``[C]`` float64 counts per bin (a std of ~0 becomes 1).
    """
    counts = np.asarray(counts, dtype=np.float32)
    if counts.ndim != 2 or counts.shape[0] < 2:
        raise DataError(f"expected [T, C] with T >= 2, got shape {counts.shape}", field="counts")
    check_array(counts, field="counts")
    return mean_std(counts.T[None])


def resolve_spike_stats(
    normalizer: NormStats | None, *, n_channels: int, **stats: Unpack[FixedStats]
) -> tuple[np.ndarray, np.ndarray]:
    """The fixed ``[C]`` float64 spike statistics a streaming/exported model normalises with.

    Explicit ``spike_mean``/``spike_std`` win; otherwise the checkpoint's statistics of ``day``
    (or its single set when it was trained without per-day normalisation). ``normalizer``:
    the model's `NormStats` (None: never trained).
    """
    day, spike_mean, spike_std = stats.get("day"), stats.get("spike_mean"), stats.get("spike_std")
    if (spike_mean is None) != (spike_std is None):
        raise DataError("give both spike_mean and spike_std, or neither", field="spike_mean")
    if spike_mean is not None:
        mean = np.asarray(spike_mean, dtype=np.float64)
        std = np.asarray(spike_std, dtype=np.float64)
        for name, arr in (("spike_mean", mean), ("spike_std", std)):
            check_array(arr, field=name, shape=(n_channels,))
        if (std <= 0).any():
            raise DataError("standard deviations must be > 0", field="spike_std")
        return mean, std
    if normalizer is None:
        raise DataError("the model has no spike statistics (it was never trained)", field="day")
    known = sorted(normalizer.day_spike_mean) if normalizer.per_day else [-1]
    if normalizer.per_day and day is None:
        raise DataError(
            f"this model normalises each day with its own statistics: name a day (one of "
            f"{known}) or give a new day's spike statistics (spike_mean/spike_std from "
            "spike_statistics; CLI: --calibration)",
            field="day",
        )
    if not normalizer.knows(day):
        raise DataError(
            f"day {day} is not in the checkpoint (days {known}); fit its statistics from "
            "unlabelled bins (spike_statistics; CLI: --calibration) and pass "
            "spike_mean/spike_std",
            field="day",
        )
    return normalizer.day_stats(day)


def checked_counts(counts: object, *, field: str, source: str) -> np.ndarray:
    """Streamed spike counts as float32, refusing what counts cannot be: a non-numeric or
    complex dtype (strings, objects), NaN/inf, negative values, or more than
    `alignnet.utils.limits.MAX_STREAM_COUNT` spikes in one bin.

    Raises:
        DataError: naming ``field`` and ``source``.
    """
    x = np.asarray(counts)
    if x.dtype.kind not in "biuf":
        raise DataError(
            f"spike counts must be real numbers, got dtype {x.dtype}", field=field, source=source
        )
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise DataError("NaN or inf values", field=field, source=source)
    if x.size and float(x.min()) < 0:
        raise DataError(
            f"negative spike counts (min {float(x.min()):g})", field=field, source=source
        )
    if x.size and float(x.max()) > MAX_STREAM_COUNT:
        raise DataError(
            f"{float(x.max()):g} spikes in one bin (at most {MAX_STREAM_COUNT})",
            field=field,
            source=source,
        )
    return x


def z_score_bin(
    counts: np.ndarray,
    *,
    spike_mean: np.ndarray,
    spike_std: np.ndarray,
    scratch: np.ndarray,
    source: str,
) -> np.ndarray:
    """One streamed bin ``[C]`` of counts -> z-scores, written into ``scratch`` (float64 ``[C]``).

    float32 counts -> float64 z-score (the same rounding as batch decoding); the caller casts.

    Raises:
        DataError: a bin of another channel count, or NaN/inf counts, naming ``source``.
    """
    x = checked_counts(counts, field="spike_counts", source=source)
    if x.shape != scratch.shape:
        raise DataError(
            f"shape {x.shape}, expected ({scratch.shape[0]},) counts of one bin",
            field="spike_counts",
            source=source,
        )
    np.subtract(x, spike_mean, out=scratch)
    np.divide(scratch, spike_std, out=scratch)
    return scratch


def z_score_block(
    counts: np.ndarray, *, spike_mean: np.ndarray, spike_std: np.ndarray, source: str
) -> np.ndarray:
    """A continuous block ``[T, C]`` of counts -> float32 z-scores ``[T, C]`` (computed in
    float64 with the fixed ``[C]`` statistics), the normalisation of every continuous-block
    decoder (lag-0 window scoring, causal block decoding, export checks)."""
    counts = check_array(
        checked_counts(counts, field="counts", source=source),
        field="counts",
        source=source,
        shape=(None, spike_mean.shape[0]),
        expected=f"[T, {spike_mean.shape[0]}] counts",
    )
    return ((counts - spike_mean) / spike_std).astype(np.float32)


def stream_block(
    step: Callable[[np.ndarray], np.ndarray], counts: np.ndarray, *, n_out: int
) -> np.ndarray:
    """Run a bin-by-bin decoder's ``step`` (``[C]`` counts -> ``[D]``) over a block.

    Args:
        counts: ``[T, C]`` spike counts.
        n_out: D.

    Returns:
        ``[T, D]`` float32, row t = ``step(counts[t])``, the bins fed in order.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise DataError(f"expected [T, C], got shape {counts.shape}", field="counts")
    out = np.empty((counts.shape[0], n_out), dtype=np.float32)
    for t in range(counts.shape[0]):
        out[t] = step(counts[t])
    return out
