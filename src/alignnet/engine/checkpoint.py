"""One-file checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a dict of tensors and plain Python values. This module adds and checks the
envelope (``format_version``, ``alignnet_version``); the payload (weights, configuration,
normalisation statistics, training state) is up to the caller.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from alignnet import __version__
from alignnet.errors import CheckpointError, safe_reason
from alignnet.utils.atomic import atomic_path

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
    return data


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict:
    """Read and check a checkpoint; raise `CheckpointError` naming the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
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
