"""Spike binning (paper section 3.1, eq. 2): spike times or finer counts -> counts per bin.

Bins are half-open, ``[edges[k], edges[k + 1])``: a spike exactly on an inner edge belongs
to the later bin, and a spike exactly at the last edge is not counted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alignnet.data.session import Session
from alignnet.errors import DataError

# Tolerance (relative, in bins) for "the recording holds a whole number of bins" and for
# "one bin width is an integer multiple of the other".
_BIN_TOL = 1e-6


def bin_edges(t_start: float, t_stop: float, *, bin_s: float) -> np.ndarray:
    """Edges of the whole bins of width ``bin_s`` that fit in ``[t_start, t_stop]``.

    Args:
        t_start: left edge of the first bin, s.
        t_stop: end of the recording, s; a trailing partial bin is left out.
        bin_s: bin width, s (0.02 in the paper).

    Returns:
        ``[n_bins + 1]`` float64 edges ``t_start + k * bin_s``, s.
    """
    if not bin_s > 0 or not np.isfinite(bin_s):
        raise DataError(f"bin width must be positive and finite, got {bin_s}", field="bin_s")
    if not (np.isfinite(t_start) and np.isfinite(t_stop)) or t_stop < t_start:
        raise DataError(f"bad extent {t_start}..{t_stop} s", field="t_start/t_stop")
    n_bins = int(np.floor((t_stop - t_start) / bin_s + _BIN_TOL))
    return t_start + np.arange(n_bins + 1, dtype=np.float64) * bin_s


def bin_spike_times(spike_times: Sequence[np.ndarray], edges: np.ndarray) -> np.ndarray:
    """Count each channel's spikes per bin (eq. 2: the sum of spikes in each bin).

    Args:
        spike_times: ``C`` sorted 1-D arrays of spike times, s.
        edges: ``[n_bins + 1]`` increasing bin edges, s (see `bin_edges`).

    Returns:
        ``[n_bins, C]`` int64 counts; bins are half-open ``[edges[k], edges[k + 1])``.
    """
    edges = np.asarray(edges, dtype=np.float64)
    n_bins = max(edges.shape[0] - 1, 0)
    counts = np.zeros((n_bins, len(spike_times)), dtype=np.int64)
    for channel, times in enumerate(spike_times):
        # Sorted times: the count in [e_k, e_k+1) is a difference of insertion positions.
        position = np.searchsorted(np.asarray(times, dtype=np.float64), edges, side="left")
        counts[:, channel] = np.diff(position)
    return counts


def rebin_counts(
    counts: np.ndarray,
    *,
    from_bin_s: float,
    to_bin_s: float,
    source: str | None = None,
) -> np.ndarray:
    """Re-bin a count matrix to a coarser width by summing whole groups of bins.

    Only integer factors are possible (``to_bin_s = k * from_bin_s``): counts carry no
    information about where inside a bin a spike fell, so 50 ms counts can become 100 ms or
    150 ms counts, but never 20 ms ones.

    Args:
        counts: ``[n_bins, C]`` counts of width ``from_bin_s``.
        from_bin_s: width of the given bins, s.
        to_bin_s: wanted width, s.
        source: named in the error message.

    Returns:
        ``[n_bins // k, C]`` counts (a trailing incomplete group is dropped), same dtype.

    Raises:
        DataError: "cannot be binned to X ms" when ``to_bin_s / from_bin_s`` is not a
            positive integer.
    """
    factor = to_bin_s / from_bin_s
    k = int(round(factor))
    if k < 1 or abs(factor - k) > _BIN_TOL * max(k, 1):
        raise DataError(
            f"{from_bin_s * 1e3:g} ms counts cannot be binned to {to_bin_s * 1e3:g} ms "
            f"(only to integer multiples of {from_bin_s * 1e3:g} ms: counts cannot be split)",
            field="bin_s",
            source=source,
        )
    if k == 1:
        return counts
    n_out = counts.shape[0] // k
    return counts[: n_out * k].reshape(n_out, k, counts.shape[1]).sum(axis=1, dtype=counts.dtype)


def bin_session_spikes(session: Session, *, bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts of a session at width ``bin_s``, from spike times or by re-binning its counts.

    The bin grid starts at ``session.t_start`` for spike times, and at
    ``session.count_t_start`` for count-only sessions (their own grid, re-binned by an
    integer factor).

    Returns:
        ``(counts [n_bins, C], edges [n_bins + 1] float64 s)``; counts are int64 (float64
        only for a count-only session that stores fractional counts).
    """
    source = session.meta.source or session.meta.session_id
    if session.spike_times is not None:
        edges = bin_edges(session.t_start, session.t_stop, bin_s=bin_s)
        return bin_spike_times(session.spike_times, edges), edges
    if session.spike_counts is None or session.count_bin_s is None:
        raise DataError("no spike times and no counts", field="spikes", source=source)
    raw = np.asarray(session.spike_counts)
    # Integer counts are widened (uint8 in files wraps on summing); fractional ones kept as is.
    wide = np.int64 if np.issubdtype(raw.dtype, np.integer) or raw.dtype == bool else np.float64
    counts = rebin_counts(
        raw.astype(wide, copy=False),
        from_bin_s=session.count_bin_s,
        to_bin_s=bin_s,
        source=source,
    )
    t0 = float(session.count_t_start if session.count_t_start is not None else session.t_start)
    edges = t0 + np.arange(counts.shape[0] + 1, dtype=np.float64) * bin_s
    return counts, edges


def bin_session_true_rates(
    session: Session, edges: np.ndarray, *, key: str = "channel_rate"
) -> np.ndarray | None:
    """A synthetic day's true rates on the spike bins ``edges``, or None.

    Reads ``ground_truth[key]`` (expected counts per channel in fine bins, see
    `alignnet.data.synthetic.truth`; ``"channel_rate_latent"`` for the latent rates) and sums them into the bins of ``edges`` (whole
    multiples of the fine bin, on its grid). None when the session has no true rates or the
    bins do not fall on the fine grid.

    Returns:
        ``[n_bins, C]`` float32 expected spike counts per bin (``n_bins = len(edges) - 1``).
    """
    gt = session.ground_truth or {}
    if key not in gt or len(edges) < 2:
        return None
    fine = np.asarray(gt[key], dtype=np.float64)
    fine_bin = float(gt["channel_rate_bin_s"])
    t0 = float(gt.get("channel_rate_t_start", session.t_start))
    bin_s = float(edges[1] - edges[0])
    k = int(round(bin_s / fine_bin))
    first = (float(edges[0]) - t0) / fine_bin
    if (
        fine.ndim != 2
        or fine.shape[1] != session.n_channels
        or k < 1
        or abs(bin_s / fine_bin - k) > _BIN_TOL * k
        or abs(first - round(first)) > 1e-3
        or round(first) < 0
    ):
        return None
    n_bins = len(edges) - 1
    lo = int(round(first))
    if lo + n_bins * k > fine.shape[0]:  # a last bin past the truth grid: pad with zeros
        fine = np.concatenate([fine, np.zeros((lo + n_bins * k - fine.shape[0], fine.shape[1]))])
    block = fine[lo : lo + n_bins * k].reshape(n_bins, k, fine.shape[1]).sum(axis=1)
    return block.astype(np.float32)
