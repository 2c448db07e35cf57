"""`BinaryRecording`: headerless interleaved binary files (``.dat`` / ``.bin``).

Layout: frames of ``n_channels`` samples one after the other (sample-major, "C order"),
optionally after a fixed header of ``header_bytes``. Stored value ``v`` of channel ``c`` is
``v * gain_to_uv[c] + offset_to_uv[c]`` microvolts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignnet.data.io.raw.base import RawRecording, check_rate, default_channel_ids
from alignnet.errors import DataError, FileFormatError


class BinaryRecording(RawRecording):
    """A flat binary voltage file, read through a short-lived `numpy.memmap` per chunk.

    Each `get_chunk` maps only the bytes it needs and drops the map afterwards, so the
    resident memory stays at one chunk however long the file is.

    Args:
        path: the ``.dat`` / ``.bin`` file.
        dtype: stored sample type (e.g. ``"int16"``, ``"<i2"``, ``"float32"``).
        n_channels: channels per frame.
        rate_hz: sampling rate, Hz.
        gain_to_uv: microvolts per stored unit, scalar or ``[C]``.
        offset_to_uv: microvolts added after the gain, scalar or ``[C]``.
        t_start: time of sample 0, s.
        header_bytes: bytes to skip at the start of the file.
        channel_ids: ``[C]`` labels (default ``"ch000"``...).

    Raises:
        FileFormatError: missing file, or a size that is not a whole number of frames.
        DataError: impossible parameters (named field).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        dtype: str | np.dtype,
        n_channels: int,
        rate_hz: float,
        gain_to_uv: float | np.ndarray = 1.0,
        offset_to_uv: float | np.ndarray = 0.0,
        t_start: float = 0.0,
        header_bytes: int = 0,
        channel_ids: list[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.source = str(self.path)
        if not self.path.is_file():
            raise FileFormatError("no such file", source=self.path)
        try:
            self.dtype = np.dtype(dtype)
        except TypeError as exc:
            raise DataError(f"unknown dtype {dtype!r}", field="dtype", source=self.path) from exc
        if self.dtype.kind not in "iuf":
            raise DataError(
                f"dtype {self.dtype} is not an integer or float type",
                field="dtype",
                source=self.path,
            )
        if int(n_channels) != n_channels or n_channels < 1:
            raise DataError(
                f"must be a positive integer, got {n_channels}",
                field="n_channels",
                source=self.path,
            )
        check_rate(rate_hz, source=self.path)
        self.rate_hz = float(rate_hz)
        self.t_start = float(t_start)
        self.header_bytes = int(header_bytes)
        n_channels = int(n_channels)
        frame_bytes = n_channels * self.dtype.itemsize
        size = self.path.stat().st_size - self.header_bytes
        if size <= 0 or size % frame_bytes:
            raise FileFormatError(
                f"{size} data bytes is not a whole number of frames of {n_channels} channels x "
                f"{self.dtype.itemsize} bytes ({self.dtype}); wrong --n-channels/--dtype, or a "
                "truncated file",
                field="size",
                source=self.path,
            )
        self.n_samples = size // frame_bytes
        self.channel_ids = (
            list(channel_ids) if channel_ids is not None else default_channel_ids(n_channels)
        )
        if len(self.channel_ids) != n_channels:
            raise DataError(
                f"{len(self.channel_ids)} channel ids for {n_channels} channels",
                field="channel_ids",
                source=self.path,
            )
        self.gain_to_uv = _per_channel(gain_to_uv, n_channels, "gain_to_uv", self.path)
        self.offset_to_uv = _per_channel(offset_to_uv, n_channels, "offset_to_uv", self.path)
        self._gain32 = self.gain_to_uv.astype(np.float32)
        self._offset32 = self.offset_to_uv.astype(np.float32)
        self._scaled = bool(np.any(self.gain_to_uv != 1.0) or np.any(self.offset_to_uv != 0.0))

    def _read(self, start: int, stop: int) -> np.ndarray:
        n = stop - start
        if n == 0:
            return np.zeros((0, self.n_channels), dtype=np.float32)
        offset = self.header_bytes + start * self.n_channels * self.dtype.itemsize
        mm = np.memmap(
            self.path, mode="r", dtype=self.dtype, offset=offset, shape=(n, self.n_channels)
        )
        try:
            out = np.array(mm, dtype=np.float32)
        finally:
            del mm
        if self._scaled:
            out *= self._gain32
            out += self._offset32
        return out


def _per_channel(value: float | np.ndarray, n: int, name: str, source: Path) -> np.ndarray:
    arr = (
        np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
        if np.ndim(value) == 0
        else np.asarray(value, dtype=np.float64)
    )
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise DataError(
            f"expected a finite scalar or {n} values, got {np.shape(value)}",
            field=name,
            source=source,
        )
    return arr
