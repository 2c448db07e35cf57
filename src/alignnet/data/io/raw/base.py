"""`RawRecording`: the one interface every raw-voltage reader meets.

A reader exposes the recording's clock (``t_start``, ``rate_hz``, ``n_samples``), its channels
and their scaling to microvolts, and hands out chunks of voltage on request, so that spike
detection can walk an hour-long 30 kHz file with bounded memory.

Clock rule (used everywhere in AlignNet): sample ``k`` of a recording is at time
``t_start + k / rate_hz`` seconds; spike times, behaviour and trial events of an imported
session are all on this clock.
"""

from __future__ import annotations

import abc
from pathlib import Path

import numpy as np

from alignnet.errors import DataError


class RawRecording(abc.ABC):
    """A multichannel voltage recording read chunk by chunk.

    Subclasses set the attributes below and implement `_read`.

    Attributes:
        source: where the data come from (path or description), used in error messages.
        channel_ids: ``[C]`` channel labels.
        rate_hz: sampling rate, Hz.
        n_samples: number of samples (frames) per channel.
        t_start: time of sample 0 on the recording's clock, s.
        gain_to_uv: ``[C]`` float64 microvolts per stored unit.
        offset_to_uv: ``[C]`` float64 microvolts added after the gain.
    """

    source: str
    channel_ids: list[str]
    rate_hz: float
    n_samples: int
    t_start: float
    gain_to_uv: np.ndarray
    offset_to_uv: np.ndarray

    @property
    def n_channels(self) -> int:
        """Channel count ``C``."""
        return len(self.channel_ids)

    @property
    def duration(self) -> float:
        """Length of the recording, s."""
        return self.n_samples / self.rate_hz

    @property
    def t_stop(self) -> float:
        """Time just after the last sample, s (``t_start + n_samples / rate_hz``)."""
        return self.t_start + self.duration

    def get_chunk(self, start: int, stop: int) -> np.ndarray:
        """Voltage of samples ``start <= k < stop``.

        Args:
            start, stop: sample indices, ``0 <= start <= stop <= n_samples``.

        Returns:
            ``[stop - start, C]`` float32, microvolts.
        """
        if not (0 <= start <= stop <= self.n_samples):
            raise DataError(
                f"chunk {start}..{stop} outside 0..{self.n_samples} samples",
                field="get_chunk",
                source=self.source,
            )
        return self._read(int(start), int(stop))

    @abc.abstractmethod
    def _read(self, start: int, stop: int) -> np.ndarray:
        """``[stop - start, C]`` float32 microvolts (bounds already checked)."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.source!r}, {self.n_channels} channels, "
            f"{self.rate_hz:g} Hz, {self.duration:.3f} s from t={self.t_start:g} s)"
        )


class ArrayRecording(RawRecording):
    """A recording held in memory (synthetic voltage, tests, whole-trace detection).

    Args:
        traces: ``[n_samples, C]`` voltage, microvolts (any real dtype; returned as float32).
        rate_hz: sampling rate, Hz.
        t_start: time of sample 0, s.
        channel_ids: ``[C]`` labels (default ``"ch000"``...).
        source: description used in error messages.
    """

    def __init__(
        self,
        traces: np.ndarray,
        *,
        rate_hz: float,
        t_start: float = 0.0,
        channel_ids: list[str] | None = None,
        source: str = "<array>",
    ) -> None:
        traces = np.asarray(traces)
        if traces.ndim != 2:
            raise DataError(
                f"expected [n_samples, C], got shape {traces.shape}", field="traces", source=source
            )
        if not np.issubdtype(traces.dtype, np.number) or np.iscomplexobj(traces):
            raise DataError(
                f"expected real numbers, got {traces.dtype}", field="traces", source=source
            )
        check_rate(rate_hz, source=source)
        self.source = source
        self._traces = traces
        self.rate_hz = float(rate_hz)
        self.n_samples = int(traces.shape[0])
        self.t_start = float(t_start)
        self.channel_ids = (
            list(channel_ids) if channel_ids is not None else default_channel_ids(traces.shape[1])
        )
        if len(self.channel_ids) != traces.shape[1]:
            raise DataError(
                f"{len(self.channel_ids)} channel ids for {traces.shape[1]} channels",
                field="channel_ids",
                source=source,
            )
        self.gain_to_uv = np.ones(traces.shape[1])
        self.offset_to_uv = np.zeros(traces.shape[1])

    def _read(self, start: int, stop: int) -> np.ndarray:
        return np.asarray(self._traces[start:stop], dtype=np.float32)


def default_channel_ids(n_channels: int) -> list[str]:
    """``["ch000", "ch001", ...]``."""
    return [f"ch{i:03d}" for i in range(n_channels)]


def check_rate(rate_hz: float, *, source: str | Path) -> None:
    """Raise `DataError` unless ``rate_hz`` is a positive finite number."""
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise DataError(f"sampling rate must be > 0, got {rate_hz}", field="rate_hz", source=source)
