"""What `alignnet stream` checks on each incoming sample, without any LSL call (testable).

Two input forms (see `alignnet.realtime.lsl_stream`):

- binned counts: one sample per bin, one channel per model channel. `BinSequence` compares
  each sample's time stamp with the previous one: a step of about one bin is in order, a
  longer one is a gap (bins missing), a step <= 0 is out of order (the sample is dropped;
  the decoder cannot go back in time).
- spike events: one sample per spike, its value the channel index, its time stamp the spike
  time. `EventBinner` counts them into bins of the model's width on the stream's clock
  (bin k covers ``[origin + k * bin_s, origin + (k + 1) * bin_s)``, the origin the first
  spike's time rounded down to a whole bin) and closes a bin when a later spike arrives or
  the caller's clock passes its end.

`check_counts` refuses a sample with NaN/inf or negative counts. `Counters` keeps the tallies
that `alignnet stream` reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

#: A bin time stamp more than this many bins after the previous one starts a gap.
GAP_TOLERANCE_BINS = 1.5


@dataclass
class Counters:
    """Tallies of one `alignnet stream` run (all counts of samples or bins)."""

    received: int = 0  # input samples received (counts: bins; events: spikes)
    decoded: int = 0  # bins decoded and published
    refused_nan: int = 0  # count samples with NaN or inf (not decoded)
    refused_negative: int = 0  # count samples with a negative count (not decoded)
    out_of_order: int = 0  # samples (or spikes) older than the last one (dropped)
    gaps: int = 0  # jumps of more than one bin between consecutive samples
    missing_bins: int = 0  # bins inside those gaps
    bad_channel: int = 0  # spike events naming no model channel (dropped)
    lost: int = 0  # times the input stream disappeared

    def summary(self) -> str:
        """``name=value`` for every tally, in declaration order."""
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def check_counts(sample: np.ndarray) -> str | None:
    """``"nan"`` (a NaN or inf count), ``"negative"`` (a count < 0) or None (usable)."""
    if not np.isfinite(sample).all():
        return "nan"
    if (sample < 0).any():
        return "negative"
    return None


class BinSequence:
    """Classifies consecutive bin time stamps (seconds on the stream's clock).

    `check` returns ``("ok", 0)``, ``("gap", n_missing)`` or ``("out_of_order", 0)``; only an
    ``ok`` or ``gap`` sample becomes the new reference.
    """

    def __init__(self, bin_s: float) -> None:
        self.bin_s = float(bin_s)
        self.last: float | None = None

    def check(self, t: float) -> tuple[str, int]:
        if self.last is None:
            self.last = t
            return "ok", 0
        step = t - self.last
        if step <= 0:
            return "out_of_order", 0
        self.last = t
        if step > GAP_TOLERANCE_BINS * self.bin_s:
            return "gap", max(1, round(step / self.bin_s) - 1)
        return "ok", 0


class EventBinner:
    """Spike events ``(channel, time)`` -> closed bins ``(bin end time, counts [C])``.

    Args:
        n_channels: C; a channel index outside ``0..C-1`` is refused (`add` returns False).
        bin_s: bin width in seconds.
    """

    def __init__(self, n_channels: int, bin_s: float) -> None:
        self.n_channels, self.bin_s = int(n_channels), float(bin_s)
        self.origin: float | None = None
        self.index = 0  # the open bin
        self.counts = np.zeros(self.n_channels, dtype=np.float32)

    def bin_end(self, index: int) -> float:
        assert self.origin is not None
        return self.origin + (index + 1) * self.bin_s

    def _bin_of(self, t: float) -> int:
        assert self.origin is not None
        return math.floor((t - self.origin) / self.bin_s + 1e-9)

    def close_until(self, t: float) -> list[tuple[float, np.ndarray]]:
        """Close every bin that ends at or before ``t`` (empty bins included)."""
        closed: list[tuple[float, np.ndarray]] = []
        if self.origin is None:
            return closed
        while self.bin_end(self.index) <= t + 1e-9:
            closed.append((self.bin_end(self.index), self.counts))
            self.counts = np.zeros(self.n_channels, dtype=np.float32)
            self.index += 1
        return closed

    def add(self, channel: float, t: float) -> tuple[str, list[tuple[float, np.ndarray]]]:
        """Count one spike; returns ``(status, closed bins)`` with status ``"ok"``,
        ``"bad_channel"`` or ``"out_of_order"`` (a spike in a bin already closed)."""
        if not math.isfinite(channel) or channel != int(channel):
            return "bad_channel", []
        ch = int(channel)
        if not 0 <= ch < self.n_channels:
            return "bad_channel", []
        if self.origin is None:
            self.origin = math.floor(t / self.bin_s) * self.bin_s
        if self._bin_of(t) < self.index:
            return "out_of_order", []
        closed = self.close_until(t)
        self.counts[ch] += 1.0
        return "ok", closed
