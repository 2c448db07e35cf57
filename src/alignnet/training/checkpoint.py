"""One-file checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a dict of tensors and plain Python values. This module adds and checks the
envelope (``format_version``, ``alignnet_version``); the payload (weights, configuration,
normalisation statistics, training state) is up to the caller.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from alignnet import __version__
from alignnet.errors import CheckpointError
from alignnet.utils.atomic import atomic_path

FORMAT_VERSION = 1


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` plus the version envelope to ``path`` atomically."""
    data = {**payload, "format_version": FORMAT_VERSION, "alignnet_version": __version__}
    with atomic_path(path) as tmp:
        torch.save(data, tmp)


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict:
    """Read and check a checkpoint; raise `CheckpointError` naming the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(
            f"{path}: not a readable AlignNet checkpoint (corrupt or truncated file?): {exc}"
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
