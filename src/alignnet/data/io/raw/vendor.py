"""Vendor acquisition formats (Open Ephys binary, SpikeGLX, Blackrock NSx, Intan) read through
spikeinterface / neo: this module wraps their readers, it does not parse the files itself.

Requires the optional extra: ``pip install "alignnet[ephys]"`` (neo, spikeinterface).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.io.raw.base import RawRecording
from alignnet.errors import FileFormatError

INSTALL_HINT = 'pip install "alignnet[ephys]"'


def require_spikeinterface(source: str | Path) -> Any:
    """Import ``spikeinterface.extractors`` or raise `FileFormatError` with the install hint."""
    try:
        import spikeinterface.extractors as se
    except ImportError as exc:
        raise FileFormatError(
            f"reading this format needs neo and spikeinterface: {INSTALL_HINT}", source=source
        ) from exc
    return se


class SpikeInterfaceRecording(RawRecording):
    """A `RawRecording` over one segment of a spikeinterface ``BaseRecording``.

    Args:
        recording: the spikeinterface recording.
        source: path, for messages.
        segment_index: which segment (Open Ephys "recordingN", etc.).

    The clock is the segment's: ``t_start`` is its start time as the file states it (0 when the
    file gives none).
    """

    def __init__(self, recording: Any, *, source: str | Path, segment_index: int = 0) -> None:
        self.source = str(source)
        n_segments = recording.get_num_segments()
        if not 0 <= segment_index < n_segments:
            raise FileFormatError(
                f"segment {segment_index} asked for, the file has {n_segments}",
                field="segment_index",
                source=source,
            )
        if not recording.has_scaleable_traces():
            raise FileFormatError(
                "the file gives no scaling of its samples to microvolts",
                field="gain",
                source=source,
            )
        self._recording = recording
        self._segment = segment_index
        self.channel_ids = [str(c) for c in recording.get_channel_ids()]
        self.rate_hz = float(recording.get_sampling_frequency())
        self.n_samples = int(recording.get_num_samples(segment_index=segment_index))
        start = recording.get_start_time(segment_index=segment_index)
        self.t_start = float(start) if start is not None else 0.0
        self.gain_to_uv = np.asarray(recording.get_channel_gains(), dtype=np.float64)
        self.offset_to_uv = np.asarray(recording.get_channel_offsets(), dtype=np.float64)

    def _read(self, start: int, stop: int) -> np.ndarray:
        traces = self._recording.get_traces(
            segment_index=self._segment, start_frame=start, end_frame=stop, return_in_uV=True
        )
        return np.asarray(traces, dtype=np.float32)


def _wrap(read: Any, *, source: Path, segment_index: int, **kwargs: Any) -> SpikeInterfaceRecording:
    try:
        recording = read(**kwargs)
    except FileFormatError:
        raise
    except Exception as exc:  # the libraries raise many types for unreadable files
        raise FileFormatError(f"cannot read: {type(exc).__name__}: {exc}", source=source) from exc
    return SpikeInterfaceRecording(recording, source=source, segment_index=segment_index)


def open_openephys(
    folder: str | Path, *, stream_name: str | None = None, segment_index: int = 0
) -> SpikeInterfaceRecording:
    """Open Ephys binary format: a folder holding ``structure.oebin`` (possibly a few levels
    down, under ``Record Node N/experimentN/recordingN``) and ``continuous/*/continuous.dat``."""
    folder = Path(folder)
    se = require_spikeinterface(folder)
    oebins = list(folder.rglob("structure.oebin"))
    if not oebins:
        raise FileFormatError("no structure.oebin under this folder", source=folder)
    for oebin in oebins:
        _check_openephys_sizes(oebin)
    return _wrap(
        se.read_openephys,
        source=folder,
        segment_index=segment_index,
        folder_path=folder,
        stream_name=stream_name,
    )


def open_spikeglx(bin_path: str | Path, *, segment_index: int = 0) -> SpikeInterfaceRecording:
    """SpikeGLX: ``<run>_g0_t0.imec0.ap.bin`` / ``.nidq.bin`` with its ``.meta`` beside it."""
    bin_path = Path(bin_path)
    se = require_spikeinterface(bin_path)
    meta = bin_path.with_suffix(".meta")
    if not meta.is_file():
        raise FileFormatError(f"missing companion file {meta.name}", field="meta", source=bin_path)
    _check_spikeglx_size(bin_path, meta)
    stream_id = _spikeglx_stream_id(bin_path)
    return _wrap(
        se.read_spikeglx,
        source=bin_path,
        segment_index=segment_index,
        folder_path=bin_path.parent,
        stream_id=stream_id,
    )


def _check_openephys_sizes(oebin: Path) -> None:
    """Each ``continuous.dat`` must hold whole int16 frames of its stream's channel count."""
    import json

    try:
        structure = json.loads(oebin.read_text(encoding="utf-8"))
        streams = structure.get("continuous", [])
    except (ValueError, AttributeError) as exc:
        raise FileFormatError(f"not valid JSON: {exc}", source=oebin) from exc
    for stream in streams:
        dat = (
            oebin.parent
            / "continuous"
            / str(stream.get("folder_name", "")).strip("/")
            / "continuous.dat"
        )
        n_channels = int(stream.get("num_channels", 0))
        if dat.is_file() and n_channels > 0 and dat.stat().st_size % (2 * n_channels):
            raise FileFormatError(
                f"{dat.stat().st_size} bytes is not a whole number of {n_channels}-channel int16 "
                "frames (truncated file?)",
                field="continuous.dat",
                source=dat,
            )


def _check_spikeglx_size(bin_path: Path, meta: Path) -> None:
    """The ``.bin`` must have the size its ``.meta`` states (``fileSizeBytes``)."""
    for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "fileSizeBytes":
            expected, actual = int(value), bin_path.stat().st_size
            if actual != expected:
                raise FileFormatError(
                    f"{actual} bytes but the .meta says fileSizeBytes={expected} (truncated file?)",
                    field="fileSizeBytes",
                    source=bin_path,
                )


def _spikeglx_stream_id(bin_path: Path) -> str:
    """``run_g0_t0.imec0.ap.bin`` -> ``"imec0.ap"``; ``run_g0_t0.nidq.bin`` -> ``"nidq"``."""
    parts = bin_path.name.split(".")
    if len(parts) >= 4 and parts[-2] in ("ap", "lf"):
        return f"{parts[-3]}.{parts[-2]}"
    if len(parts) >= 3:
        return parts[-2]
    raise FileFormatError(
        "SpikeGLX file names look like <run>_g0_t0.imec0.ap.bin or <run>_g0_t0.nidq.bin",
        field="file name",
        source=bin_path,
    )


def open_blackrock(path: str | Path, *, segment_index: int = 0) -> SpikeInterfaceRecording:
    """Blackrock NSx continuous file (``.ns5`` = 30 kHz raw, ``.ns6``, ...)."""
    path = Path(path)
    se = require_spikeinterface(path)
    stream_id = path.suffix.lower().lstrip(".").replace("ns", "")
    return _wrap(
        se.read_blackrock,
        source=path,
        segment_index=segment_index,
        file_path=path,
        stream_id=stream_id,
    )


def open_intan(path: str | Path, *, segment_index: int = 0) -> SpikeInterfaceRecording:
    """Intan ``.rhd`` / ``.rhs``: the amplifier channels (stream ``"0"``)."""
    path = Path(path)
    se = require_spikeinterface(path)
    return _wrap(
        se.read_intan, source=path, segment_index=segment_index, file_path=path, stream_id="0"
    )
