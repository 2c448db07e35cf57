"""One-file checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a dict of tensors and plain Python values. This module adds and checks the
envelope (``format_version``, ``alignnet_version``); the payload (weights, configuration,
normalisation statistics, training state) is up to the caller.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from alignnet import __version__
from alignnet.errors import CheckpointError, safe_reason
from alignnet.utils.atomic import atomic_path
from alignnet.utils.limits import MAX_CHANNELS, MAX_DAYS, MAX_MODEL_SIZE, zip_problem

FORMAT_VERSION = 1


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` plus the version envelope to ``path`` atomically."""
    data = {**payload, "format_version": FORMAT_VERSION, "alignnet_version": __version__}
    with atomic_path(path) as tmp:
        # Through a Python file object a full disk is an OSError (ENOSPC) that `atomic_path`
        # turns into `OutputError`; torch's own writer would raise an opaque RuntimeError.
        with open(tmp, "wb") as handle:
            torch.save(data, handle)


#: Types of the top-level fields of an `alignnet.api.AlignNet` checkpoint (absent = allowed).
PAYLOAD_TYPES: dict[str, tuple[type, ...]] = {
    "config": (dict,),
    "normalizer": (dict, type(None)),
    "tasks": (list, tuple),
    "bin_s": (int, float, type(None)),
    "behavior_names": (list, tuple),
    "model_state": (dict,),
    "adapter_days": (dict,),
    "readin_days": (list, tuple),
    "data_layout": (dict, type(None)),  # before the day registry ("days")
    "days": (dict,),
    "reference_latent": (dict, type(None)),
    "train_state": (dict,),
}


def check_payload(data: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """Check the field types of a loaded checkpoint (`PAYLOAD_TYPES`) and that the weights
    are tensors, so a malformed checkpoint is a `CheckpointError` naming the field."""
    for key, types in PAYLOAD_TYPES.items():
        if key in data and not isinstance(data[key], types):
            raise CheckpointError(
                f"{path}: field {key!r} is a {type(data[key]).__name__}, expected "
                f"{' or '.join(t.__name__ for t in types)}"
            )
    bad = [k for k, v in data.get("model_state", {}).items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{path}: field 'model_state': non-tensor weights {bad[:3]}")
    check_sizes(data, path)
    return data


def _bad(path: str | Path, field: str, problem: str) -> CheckpointError:
    return CheckpointError(f"{path}: field {field!r}: {problem}")


def _count(value: Any, limit: int) -> bool:
    """A whole number 0..limit (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit


def check_sizes(data: dict[str, Any], path: str | Path) -> None:
    """Sizes and nested fields a checkpoint declares, checked before any network is built
    (`alignnet.utils.limits`): model sizes, per-day channel counts, the reference latent and
    the training state. A crafted value is a `CheckpointError` naming the field."""
    model = data.get("config", {}).get("model", {})
    if not isinstance(model, dict):
        raise _bad(path, "config.model", f"a {type(model).__name__}, expected a dict")
    for key, value in model.items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(v, int) and not isinstance(v, bool):
                limit = MAX_CHANNELS if key == "n_channels" else MAX_MODEL_SIZE
                if not _count(v, limit):
                    raise _bad(path, f"config.model.{key}", f"{v} is outside 0..{limit}")
    days = data.get("adapter_days", {})
    if len(days) > MAX_DAYS:
        raise _bad(path, "adapter_days", f"{len(days)} days (at most {MAX_DAYS})")
    for day, n in days.items():
        if not (_count(day, MAX_DAYS) or (isinstance(day, str) and day.isdigit())):
            raise _bad(path, "adapter_days", f"day {day!r} is not a day index")
        if not _count(n, MAX_CHANNELS) or n < 1:
            raise _bad(path, "adapter_days", f"day {day}: {n!r} channels (1..{MAX_CHANNELS})")
    _check_registry(data.get("days"), path)
    readin = data.get("readin_days", [])
    if not all(_count(d, MAX_DAYS) for d in readin):
        raise _bad(path, "readin_days", "not a list of day indices")
    _check_reference(data.get("reference_latent"), path)
    _check_train_state(data.get("train_state"), path)


def _check_registry(registry: Any, path: str | Path) -> None:
    """``days`` (the day registry): at most `MAX_DAYS` day records, each read-in width
    1..`MAX_CHANNELS` (a network is built from them)."""
    if registry is None:
        return
    days = registry.get("days", {})
    if not isinstance(days, dict) or len(days) > MAX_DAYS:
        raise _bad(path, "days", f"not a table of at most {MAX_DAYS} days")
    for day, record in days.items():
        if not (_count(day, MAX_DAYS) or (isinstance(day, str) and day.isdigit())):
            raise _bad(path, "days", f"day {day!r} is not a day index")
        width = record.get("adapter") if isinstance(record, dict) else "?"
        if width is not None and not (_count(width, MAX_CHANNELS) and int(width) >= 1):
            raise _bad(path, "days", f"day {day}: read-in width {width!r} (1..{MAX_CHANNELS})")
        ids = record.get("channel_ids", [])
        if not isinstance(ids, (list, tuple)) or len(ids) > MAX_CHANNELS:
            raise _bad(path, "days", f"day {day}: channel ids are not a list of channels")


def _check_reference(ref: Any, path: str | Path) -> None:
    """``reference_latent``: None or ``{"mean": [E], "cov": [E, E]}`` of finite numbers."""
    if ref is None:
        return
    try:
        mean = np.asarray(ref["mean"], dtype=np.float64)
        cov = np.asarray(ref["cov"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, "reference_latent", f"not a mean and covariance ({exc})") from None
    e = mean.shape[0] if mean.ndim == 1 else -1
    if e < 1 or e > MAX_MODEL_SIZE or cov.shape != (e, e):
        raise _bad(path, "reference_latent", f"mean {mean.shape} / cov {cov.shape} do not fit")
    if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise _bad(path, "reference_latent", "non-finite values")


def _check_train_state(state: Any, path: str | Path) -> None:
    """``train_state``: a dict whose ``history`` has rows, best epoch/score, stopped flag."""
    if state is None:
        return
    history = state.get("history")
    try:
        if not isinstance(history, dict) or not isinstance(history["rows"], list):
            raise TypeError("no history rows")
        if not all(isinstance(r, dict) for r in history["rows"]):
            raise TypeError("history rows are not records")
        int(history["best_epoch"]), float(history["best_score"]), bool(history["stopped_early"])
        for key in ("epoch", "bad_epochs"):
            if key in state and not _count(state[key], 10**9):
                raise TypeError(f"{key} {state[key]!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, "train_state", f"malformed ({exc})") from None


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict:
    """Read and check a checkpoint; raise `CheckpointError` naming the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    problem = zip_problem(path, crc=True)  # sizes and CRC-32s, before torch reads anything
    if problem:
        raise CheckpointError(f"{path}: not a usable AlignNet checkpoint: {problem}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:  # torch's text advises an unsafe retry: not shown
        reason = safe_reason(exc).replace("Weights only load failed.", "").strip()
        what = (
            "holds Python objects a checkpoint may not contain; nothing in it was run "
            "(only tensors and plain values are read)"
            if "GLOBAL" in reason
            else "not a readable AlignNet checkpoint (corrupt file?)"
        )
        raise CheckpointError(f"{path}: {what}: {reason}") from None
    except Exception as exc:  # whatever torch raises on a damaged file
        raise CheckpointError(
            f"{path}: not a readable AlignNet checkpoint (corrupt or truncated file?): "
            f"{type(exc).__name__}: {safe_reason(exc)}"
        ) from exc
    if not isinstance(data, dict) or "format_version" not in data:
        raise CheckpointError(f"{path}: not an AlignNet checkpoint (no format_version)")
    if data["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {data['format_version']} (written by alignnet "
            f"{data.get('alignnet_version', '?')}), this alignnet {__version__} reads version "
            f"{FORMAT_VERSION}"
        )
    return data
