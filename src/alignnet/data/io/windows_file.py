"""Windows files: a `Windows` stack in one compressed ``.npz`` (written atomically).

Arrays: ``spikes`` ``[N, C, L]`` (stored as the smallest unsigned integer type that holds
them when every value is a whole non-negative number, else float32), ``behavior``
``[N, D, L]`` float32, ``day``, ``trial``, ``target`` ``[N]`` int64, ``t_start`` ``[N]``
float64 s, and ``header``: a JSON string with the format tag, ``bin_s``, ``channel_ids``,
``behavior_names``, ``info`` (preprocessing settings, per-session counts), the
``channel_policy`` and, when days have different channel lists, ``day_channel_ids``; and,
for synthetic data, ``true_rates`` and ``latent_rates`` ``[N, C, L]`` float32 (the
generator's expected counts, see `Windows`).
Loading gives back float32 spikes equal to the saved ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from alignnet.data.checks import check_npz_archive, check_spike_counts
from alignnet.data.windows import RATE_FIELDS, Windows
from alignnet.errors import FileFormatError, safe_reason
from alignnet.utils.atomic import atomic_path
from alignnet.utils.limits import MAX_CHANNELS, MAX_DAYS
from alignnet.utils.plain import json_default

FORMAT = "alignnet-windows"
VERSION = 1
_ARRAYS = ("spikes", "behavior", "day", "trial", "t_start", "target")


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
        "channel_policy": windows.channel_policy,
        "day_channel_ids": {str(d): ids for d, ids in windows.day_channel_ids.items()},
    }
    extra = {n: getattr(windows, n) for n in RATE_FIELDS if getattr(windows, n) is not None}
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(
                handle,
                **extra,
                header=np.array(json.dumps(header, default=json_default)),
                spikes=_compact_spikes(windows.spikes),
                behavior=windows.behavior.astype(np.float32),
                day=windows.day,
                trial=windows.trial,
                t_start=windows.t_start,
                target=windows.target,
            )
    return path


def _check_header(header: dict, path: Path) -> None:
    """The header fields `load_windows` reads must have the right types."""
    bin_s = header.get("bin_s")
    if not isinstance(bin_s, (int, float)) or not np.isfinite(bin_s) or bin_s <= 0:
        raise FileFormatError(
            f"bin width {bin_s!r} is not a number > 0", field="bin_s", source=path
        )
    for name in ("channel_ids", "behavior_names"):
        if not isinstance(header.get(name), list):
            raise FileFormatError("missing or not a list", field=name, source=path)
    if not isinstance(header.get("info", {}), dict):
        raise FileFormatError("not a JSON object", field="info", source=path)
    if not isinstance(header.get("channel_policy", "fixed"), str):
        raise FileFormatError("not a string", field="channel_policy", source=path)
    per_day = header.get("day_channel_ids", {})
    if not isinstance(per_day, dict) or len(per_day) > MAX_DAYS:
        raise FileFormatError(
            f"not a JSON object of at most {MAX_DAYS} days", field="day_channel_ids", source=path
        )
    for day, ids in per_day.items():
        if not (isinstance(day, str) and day.isdigit() and int(day) < MAX_DAYS):
            raise FileFormatError(
                f"key {day!r} is not a day index", field="day_channel_ids", source=path
            )
        if not isinstance(ids, list) or len(ids) > MAX_CHANNELS:
            raise FileFormatError(
                f"day {day}: not a list of channel ids", field="day_channel_ids", source=path
            )


def load_windows(path: str | Path) -> Windows:
    """Read a file written by `save_windows`.

    Raises:
        FileFormatError: missing, truncated or corrupt file, or an ``.npz`` that is not a
            windows file (e.g. a session file).
        DataError: spike counts (whole numbers) that are negative; spikes of another kind
            (e.g. z-scored, non-integer) load as saved, and training refuses negatives.
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError("file not found", source=path)
    check_npz_archive(path)
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            names = set(data.files)
            if "header" not in names:
                raise FileFormatError(
                    f"not a windows file (no 'header'; arrays: {sorted(names)})", source=path
                )
            header = json.loads(str(data["header"]))
            if not isinstance(header, dict):
                raise FileFormatError(
                    "not a windows file (header is not a JSON object)", source=path
                )
            if header.get("format") != FORMAT:
                raise FileFormatError(
                    f"not a windows file (format {header.get('format')!r})", source=path
                )
            missing = [n for n in _ARRAYS if n not in names]
            if missing:
                raise FileFormatError(f"missing arrays {missing}", source=path)
            arrays = {n: data[n] for n in _ARRAYS}
            truth = {n: data[n] for n in RATE_FIELDS if n in names}
            _check_header(header, path)
    except FileFormatError:
        raise
    except Exception as exc:  # zipfile/zlib/numpy errors of a damaged archive
        raise FileFormatError(
            f"truncated or corrupt windows file ({type(exc).__name__}: {safe_reason(exc)})",
            source=path,
        ) from exc
    for name in _ARRAYS:
        if arrays[name].dtype.kind not in "biuf":
            raise FileFormatError(f"values of type {arrays[name].dtype}", field=name, source=path)
    spikes = arrays["spikes"]
    if spikes.dtype.kind in "biu" or np.array_equal(spikes, np.round(spikes)):
        check_spike_counts(spikes, source=path)  # whole numbers are counts: none may be < 0
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
        channel_policy=str(header.get("channel_policy", "fixed")),
        day_channel_ids={int(d): v for d, v in header.get("day_channel_ids", {}).items()},
        **{n: _checked_truth(v, arrays["spikes"].shape, path) for n, v in truth.items()},
    )


def _checked_truth(truth: np.ndarray | None, shape: tuple, path: Path) -> np.ndarray | None:
    if truth is not None and (truth.dtype.kind != "f" or truth.shape != shape):
        raise FileFormatError(
            f"true rates {truth.dtype} {truth.shape} for spikes {shape}",
            field="true_rates",
            source=path,
        )
    return truth
