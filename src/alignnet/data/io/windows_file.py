"""Windows files: a `Windows` stack in one compressed ``.npz`` (written atomically).

Arrays: ``spikes`` ``[N, C, L]`` (stored as the smallest unsigned integer type that holds
them when every value is a whole non-negative number, else float32), ``behavior``
``[N, D, L]`` float32, ``day``, ``trial``, ``target`` ``[N]`` int64, ``t_start`` ``[N]``
float64 s, and ``header``: a JSON string with the format tag, ``bin_s``, ``channel_ids``,
``behavior_names`` and ``info`` (preprocessing settings, per-session counts).
Loading gives back float32 spikes equal to the saved ones.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from alignnet.data.windows import Windows
from alignnet.errors import FileFormatError
from alignnet.utils.atomic import atomic_path

FORMAT = "alignnet-windows"
VERSION = 1
_ARRAYS = ("spikes", "behavior", "day", "trial", "t_start", "target")


def _json_default(obj: object) -> object:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _compact_spikes(spikes: np.ndarray) -> np.ndarray:
    """Integer counts -> uint8/uint16/uint32 (the smallest that fits); anything else float32."""
    if spikes.size == 0 or spikes.min() < 0 or not np.array_equal(spikes, np.round(spikes)):
        return spikes.astype(np.float32)
    top = float(spikes.max())
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return spikes.astype(dtype)
    return spikes.astype(np.float32)


def save_windows(windows: Windows, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``windows`` to ``path`` (``.npz``) atomically.

    Args:
        windows: the windows.
        path: destination; must end in ``.npz``.
        overwrite: replace an existing file (otherwise ``FileExistsError``).

    Returns:
        ``path``.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"{path}: windows files end in .npz")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "bin_s": windows.bin_s,
        "channel_ids": list(windows.channel_ids),
        "behavior_names": list(windows.behavior_names),
        "info": windows.info,
    }
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(
                handle,
                header=np.array(json.dumps(header, default=_json_default)),
                spikes=_compact_spikes(windows.spikes),
                behavior=windows.behavior.astype(np.float32),
                day=windows.day,
                trial=windows.trial,
                t_start=windows.t_start,
                target=windows.target,
            )
    return path


def load_windows(path: str | Path) -> Windows:
    """Read a file written by `save_windows`.

    Raises:
        FileFormatError: missing, truncated or corrupt file, or an ``.npz`` that is not a
            windows file (e.g. a session file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError("file not found", source=path)
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            names = set(data.files)
            if "header" not in names:
                raise FileFormatError(
                    f"not a windows file (no 'header'; arrays: {sorted(names)})", source=path
                )
            header = json.loads(str(data["header"]))
            if header.get("format") != FORMAT:
                raise FileFormatError(
                    f"not a windows file (format {header.get('format')!r})", source=path
                )
            missing = [n for n in _ARRAYS if n not in names]
            if missing:
                raise FileFormatError(f"missing arrays {missing}", source=path)
            arrays = {n: data[n] for n in _ARRAYS}
    except FileFormatError:
        raise
    except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise FileFormatError(
            f"truncated or corrupt windows file ({type(exc).__name__}: {exc})", source=path
        ) from exc
    return Windows(
        spikes=arrays["spikes"].astype(np.float32),
        behavior=arrays["behavior"],
        day=arrays["day"],
        trial=arrays["trial"],
        t_start=arrays["t_start"],
        target=arrays["target"],
        bin_s=float(header["bin_s"]),
        channel_ids=list(header["channel_ids"]),
        behavior_names=list(header["behavior_names"]),
        info=dict(header.get("info", {})),
    )
