"""Minimal writers of Blackrock files for tests (neo reads Blackrock but cannot write it).

Written to the Blackrock NEV / NSx file specifications (2.3 and 3.0), fields in file order:

NEV basic header (336 bytes): ``"NEURALEV"``, spec major/minor (uint8 x2), additional flags
(uint16; bit 0 set: 16-bit waveforms), bytes in headers (uint32), bytes per data packet (uint32), time-stamp resolution
(uint32, 30000), sample resolution (uint32, 30000), time origin (8 x uint16, a Windows
SYSTEMTIME), creating application (32 chars), comment (256 chars), number of extended headers
(uint32). Extended headers, 32 bytes each: ``NEUEVWAV`` (electrode id uint16, connector uint8,
pin uint8, digitisation factor uint16 nV/bit, energy threshold uint16, high/low threshold
int16, sorted units uint8, bytes per waveform sample uint8, spike width uint16 samples, 8
unused) and ``NEUEVLBL`` (electrode id uint16, label 16 chars, 6 unused). Spike packets:
time stamp (uint32 in 2.x, uint64 in 3.0), packet id = electrode (uint16), unit class (uint8:
0 unsorted, 1-5 sorted, 255 noise), reserved (uint8), waveform (spike width x int16).

NSx basic header (2.3 / 3.0, 314 bytes): ``"NEURALCD"``, spec (uint8 x2), bytes in headers
(uint32), label (16), comment (256), period (uint32, samples of 1/30 kHz), time-stamp
resolution (uint32), time origin (8 x uint16), channel count (uint32); one 66-byte ``CC``
extended header per channel (electrode id, label, connector, pin, min/max digital and analog
values, units, filter settings); then data blocks: header flag 0x01, time stamp (uint32 /
uint64 in 3.0), number of samples (uint32), int16 samples ``[n, channels]``.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

WAVE_SAMPLES = 48
RESOLUTION = 30_000
_ORIGIN = (2026, 2, 1, 2, 10, 0, 0, 0)  # year, month, weekday, day, hour, min, s, ms


def write_nev(
    path: Path,
    *,
    electrodes: list[int],
    spikes: list[tuple[float, int, int]],
    spec: str = "2.3",
) -> Path:
    """Write a ``.nev`` holding ``spikes``: ``(time s, electrode id, unit class)`` each."""
    major, minor = (int(x) for x in spec.split("."))
    ts_fmt = "<Q" if major >= 3 else "<I"
    ts_bytes = 8 if major >= 3 else 4
    packet = ts_bytes + 4 + 2 * WAVE_SAMPLES
    n_ext = 2 * len(electrodes)
    header_bytes = 336 + 32 * n_ext
    out = bytearray()
    out += b"NEURALEV" + struct.pack(
        "<BBHIIII", major, minor, 1, header_bytes, packet, RESOLUTION, RESOLUTION
    )
    out += struct.pack("<8H", *_ORIGIN)
    out += b"alignnet test writer".ljust(32, b"\0") + b"".ljust(256, b"\0")
    out += struct.pack("<I", n_ext)
    for e in electrodes:
        out += (
            b"NEUEVWAV"
            + struct.pack("<HBBHHhhBBH", e, 1, e % 32 + 1, 250, 0, 0, -300, 5, 2, WAVE_SAMPLES)
            + b"\0" * 8
        )
        out += b"NEUEVLBL" + struct.pack("<H", e) + f"elec{e}".encode().ljust(16, b"\0") + b"\0" * 6
    assert len(out) == header_bytes
    wave = (np.sin(np.linspace(0, np.pi, WAVE_SAMPLES)) * -200).astype("<i2").tobytes()
    for t, e, code in sorted(spikes):
        out += struct.pack(ts_fmt, int(round(t * RESOLUTION))) + struct.pack("<HBB", e, code, 0)
        out += wave
    path.write_bytes(bytes(out))
    return path


def write_nsx(
    path: Path,
    *,
    labels: list[str],
    data: np.ndarray,
    rate_hz: float = 1000.0,
    t_start: float = 0.0,
    spec: str = "2.3",
    units: str = "mV",
    scale: float = 0.25,
) -> Path:
    """Write a ``.ns2`` / ``.ns3`` with ``data`` ``[n, channels]`` (analog units; stored as
    int16 with ``scale`` analog units per bit) starting at ``t_start`` s."""
    major, minor = (int(x) for x in spec.split("."))
    n_ch = len(labels)
    header_bytes = 314 + 66 * n_ch
    period = int(round(RESOLUTION / rate_hz))
    out = bytearray()
    out += b"NEURALCD" + struct.pack("<BBI", major, minor, header_bytes)
    out += b"analog".ljust(16, b"\0") + b"".ljust(256, b"\0")
    out += struct.pack("<II", period, RESOLUTION) + struct.pack("<8H", *_ORIGIN)
    out += struct.pack("<I", n_ch)
    digital = 32767
    for i, label in enumerate(labels):
        analog = int(round(digital * scale))
        out += b"CC" + struct.pack("<H", 129 + i) + label.encode().ljust(16, b"\0")
        out += struct.pack("<BBhhhh", 9, i + 1, -digital, digital, -analog, analog)
        out += units.encode().ljust(16, b"\0") + struct.pack("<IIHIIH", 0, 0, 0, 0, 0, 0)
    assert len(out) == header_bytes
    samples = np.clip(np.round(np.asarray(data, float) / scale), -digital, digital).astype("<i2")
    ts = struct.pack("<Q" if major >= 3 else "<I", int(round(t_start * RESOLUTION)))
    out += b"\x01" + ts + struct.pack("<I", samples.shape[0]) + samples.tobytes()
    path.write_bytes(bytes(out))
    return path
