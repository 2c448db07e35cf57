"""Bounds on every size an input may declare, checked before anything is allocated.

Listed in ``docs/usage.md`` ("Guarantees"); a value outside them is a usage error (command
options) or a named error (`alignnet.errors.FileFormatError` / `CheckpointError`) naming the
file and the field.
"""

from __future__ import annotations

import os

#: Day indices: 0..MAX_DAYS-1, and at most MAX_DAYS of them in one list or checkpoint.
MAX_DAYS = 10_000
#: Channels of one day (recorded, or declared by a checkpoint).
MAX_CHANNELS = 100_000
#: Any other size a checkpoint's model declares (behaviour dims, bins, layer widths, steps).
MAX_MODEL_SIZE = 100_000
#: Bins of one window (``--window-bins``, ``--stride-bins``, smoothing sigma).
MAX_WINDOW_BINS = 100_000
#: Seeds: 0..MAX_SEED (numpy takes seeds below 2**32).
MAX_SEED = 2**32 - 1
#: ``--epochs``: 1..MAX_EPOCHS (a maximum; early stopping may end a run sooner).
MAX_EPOCHS = 100_000
#: Firing rate of synthetic spikes (``profile --rate-hz``), Hz.
MAX_RATE_HZ = 10_000.0
#: Counts a streaming/FALCON decoder takes per call (bins or windows).
MAX_STREAM_COUNT = 1_000_000


def max_npz_bytes() -> int:
    """Most bytes the arrays of one ``.npz`` may expand to when read: the environment
    variable ``ALIGNNET_MAX_NPZ_BYTES`` if set, else this machine's physical memory (a zip
    bomb or a file declaring more is refused before it is decompressed)."""
    env = os.environ.get("ALIGNNET_MAX_NPZ_BYTES")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 64 * 2**30


def zip_problem(path: str | os.PathLike[str], *, crc: bool = False) -> str | None:
    """Why the zip archive at ``path`` (``.npz``, torch checkpoint) must not be read, or None.

    Checked from the archive's directory before anything is decompressed: members declaring
    more than `max_npz_bytes` in all (a zip bomb), and for ``.npy`` members a header whose
    shape needs more bytes than the member holds. With ``crc``, every member is read once
    and its CRC-32 compared (altered bytes). Not a zip archive: None (the reader decides).
    """
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except Exception:  # a damaged directory: the reader names the problem
        return None
    with archive:
        infos = archive.infolist()
        total = sum(max(0, i.file_size) for i in infos)
        if total > max_npz_bytes():
            return (
                f"its arrays would take {total / 2**30:.1f} GiB when read, more than the "
                f"{max_npz_bytes() / 2**30:.1f} GiB allowed (ALIGNNET_MAX_NPZ_BYTES)"
            )
        for info in infos:
            if info.filename.endswith(".npy"):
                problem = _npy_header_problem(archive, info)
                if problem:
                    return problem
        if crc:
            try:
                bad = archive.testzip()
            except Exception as exc:  # zlib/zipfile errors of altered bytes
                return f"damaged archive ({exc})"
            if bad is not None:
                return f"member {bad!r} is damaged (CRC-32 mismatch: the bytes were altered)"
    return None


def _npy_header_problem(archive, info) -> str | None:  # zipfile objects
    import numpy as np

    try:
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read(member, max_header_size=10_000)
            header_len = member.tell()
    except Exception:  # the reader reports damaged headers itself
        return None
    n = 1
    for dim in shape:
        n *= int(dim)
    if dtype.hasobject:
        return None
    if n * dtype.itemsize > max(0, info.file_size - header_len):
        return (
            f"member {info.filename!r} declares shape {tuple(shape)} ({n * dtype.itemsize} "
            f"bytes) but holds {info.file_size - header_len} bytes"
        )
    return None
