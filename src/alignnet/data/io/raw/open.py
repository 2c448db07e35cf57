"""`open_recording`: pick the reader for a raw acquisition file from its name and neighbours."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alignnet.data.io.raw.base import RawRecording
from alignnet.data.io.raw.binary import BinaryRecording
from alignnet.errors import FileFormatError

RawFormat = Literal["openephys", "spikeglx", "blackrock", "intan", "binary"]
FORMATS: tuple[str, ...] = ("openephys", "spikeglx", "blackrock", "intan", "binary")
BINARY_KEYS = ("dtype", "n_channels", "rate_hz")


def detect_format(path: str | Path, *, binary_hint: bool = False) -> RawFormat:
    """Guess the format of ``path``.

    Rules: a folder with ``structure.oebin`` (or a ``structure.oebin`` file) -> Open Ephys;
    ``.bin`` with a ``.meta`` beside it -> SpikeGLX; ``.ns1``-``.ns6`` -> Blackrock;
    ``.rhd``/``.rhs`` -> Intan; ``.dat``/``.bin``/``.raw`` with ``binary_hint`` (an explicit
    dtype etc.) -> plain binary.

    Raises:
        FileFormatError: missing path, missing companion file, or unknown format.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError("no such file or folder", source=path)
    suffix = path.suffix.lower()
    if path.is_dir():
        if any(path.rglob("structure.oebin")):
            return "openephys"
        if any(path.rglob("continuous.dat")):
            raise FileFormatError(
                "looks like Open Ephys binary but structure.oebin is missing",
                field="structure.oebin",
                source=path,
            )
        raise FileFormatError(
            "folder holds no recognised recording (expected Open Ephys structure.oebin)",
            source=path,
        )
    if path.name == "structure.oebin":
        return "openephys"
    if path.name == "continuous.dat" and not binary_hint:
        raise FileFormatError(
            "Open Ephys continuous.dat without its structure.oebin (give the recording folder), "
            "or pass --dtype/--n-channels/--rate-hz to read it as plain binary",
            field="structure.oebin",
            source=path,
        )
    if suffix == ".bin" and path.with_suffix(".meta").is_file():
        return "spikeglx"
    if suffix in {f".ns{i}" for i in range(1, 7)}:
        return "blackrock"
    if suffix in (".rhd", ".rhs"):
        return "intan"
    if suffix in (".dat", ".bin", ".raw") and binary_hint:
        return "binary"
    if suffix == ".bin" and (".ap." in path.name or ".lf." in path.name or ".nidq." in path.name):
        raise FileFormatError(
            f"SpikeGLX file without its companion {path.with_suffix('.meta').name}",
            field="meta",
            source=path,
        )
    if suffix in (".dat", ".bin", ".raw"):
        raise FileFormatError(
            "headerless binary file: give dtype, n_channels and rate_hz "
            "(CLI: --dtype --n-channels --rate-hz)",
            source=path,
        )
    raise FileFormatError(
        f"unknown raw recording format {suffix or '(no suffix)'!r}; known: Open Ephys folder, "
        "SpikeGLX .bin+.meta, Blackrock .ns5/.ns6, Intan .rhd/.rhs, plain .dat/.bin",
        source=path,
    )


def open_recording(
    path: str | Path,
    *,
    format: RawFormat | None = None,  # the user-facing name
    segment_index: int = 0,
    stream_name: str | None = None,
    **binary_kw: Any,
) -> RawRecording:
    """Open a raw acquisition file or folder as a `RawRecording`.

    Args:
        path: file or folder.
        format: one of `FORMATS`; detected with `detect_format` if None.
        segment_index: which segment of a multi-segment file.
        stream_name: Open Ephys stream when a folder holds several.
        **binary_kw: for plain binary: ``dtype``, ``n_channels``, ``rate_hz`` (required),
            ``gain_to_uv``, ``offset_to_uv``, ``t_start``, ``header_bytes``, ``channel_ids``.

    Raises:
        FileFormatError: unknown format, missing companion file, truncated or unreadable file,
            or the ephys extra missing (the message says ``pip install "alignnet[ephys]"``).
    """
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise FileFormatError(
            f"unknown format {format!r}; choose from {', '.join(FORMATS)}",
            field="format",
            source=path,
        )
    fmt = format or detect_format(path, binary_hint=any(k in binary_kw for k in BINARY_KEYS))
    if fmt == "binary":
        missing = [k for k in BINARY_KEYS if binary_kw.get(k) is None]
        if missing:
            raise FileFormatError(
                f"plain binary needs {', '.join(missing)}", field=missing[0], source=path
            )
        return BinaryRecording(path, **{k: v for k, v in binary_kw.items() if v is not None})
    from alignnet.data.io.raw import vendor

    if fmt == "openephys":
        folder = path.parent if path.is_file() else path
        return vendor.open_openephys(folder, stream_name=stream_name, segment_index=segment_index)
    if fmt == "spikeglx":
        return vendor.open_spikeglx(path, segment_index=segment_index)
    if fmt == "blackrock":
        return vendor.open_blackrock(path, segment_index=segment_index)
    return vendor.open_intan(path, segment_index=segment_index)
