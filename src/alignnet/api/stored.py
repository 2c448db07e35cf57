"""What an `AlignNet` checkpoint holds besides the weights, and reading it back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignnet.config import AlignNetConfig
from alignnet.data.preprocess import NormStats
from alignnet.data.registry import DayRegistry
from alignnet.engine.checkpoint import check_payload, load_checkpoint
from alignnet.engine.loop import TrainHistory
from alignnet.errors import CheckpointError, DataError
from alignnet.models import variability as gain_model
from alignnet.training.align import LatentStats


@dataclass
class Stored:
    """The fields of a checkpoint, checked (see `read`)."""

    config: AlignNetConfig
    normalizer: NormStats | None
    tasks: list[str]
    bin_s: float | None
    behavior_names: list[str]
    registry: DayRegistry
    reference: LatentStats | None
    history: TrainHistory | None
    state: dict[str, Any]
    variability: dict[int, gain_model.SharedGain]


def payload(
    *,
    config: AlignNetConfig,
    normalizer: NormStats | None,
    tasks: list[str],
    bin_s: float | None,
    behavior_names: list[str],
    registry: DayRegistry,
    reference: LatentStats | None,
    variability: dict[int, gain_model.SharedGain] | None = None,
) -> dict[str, Any]:
    """The checkpoint fields of a model (without its weights)."""
    return {
        "config": config.to_dict(),
        "normalizer": None if normalizer is None else normalizer.to_dict(),
        "tasks": list(tasks),
        "bin_s": bin_s,  # bin width of the training data, s
        "behavior_names": [str(n) for n in behavior_names],  # of the D outputs ([]: unknown)
        "days": registry.to_dict(),
        # read-in widths, also in "days"; kept so the weights' shapes read without the registry
        "adapter_days": {str(d): n for d, n in registry.adapter_days().items()},
        "reference_latent": None if reference is None else reference.to_dict(),
        "variability": gain_model.gains_to_dict(variability or {}),  # sampling gains per day
    }


def read(path: str | Path) -> Stored:
    """Read and check a checkpoint written by `AlignNet.save` or a training run.

    Raises:
        CheckpointError: a missing or malformed field, naming ``path``.
    """
    data = check_payload(load_checkpoint(path), path)
    try:
        config = AlignNetConfig.from_dict(data["config"])
        stored = data["normalizer"]
        state = data["model_state"]
        bin_s = None if data.get("bin_s") is None else float(data["bin_s"])
        behavior_names = [str(n) for n in data.get("behavior_names", [])]
    except KeyError as exc:
        raise CheckpointError(f"{path}: checkpoint lacks {exc}") from exc
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed checkpoint field: {exc}") from exc
    try:
        # None (or a legacy dict without behaviour statistics): saved before any training.
        untrained = stored is None or stored.get("behavior_mean", []) is None
        normalizer = None if untrained else NormStats.from_dict(stored)
    except (DataError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: unreadable normalisation statistics: {exc}") from exc
    try:
        if "days" in data:
            registry = DayRegistry.from_dict(data["days"])
        else:  # written before the day registry
            per_day = normalizer.day_spike_mean if normalizer and normalizer.per_day else {}
            registry = DayRegistry.from_legacy(
                setup=data.get("data_layout"),  # the old name of the recording setup
                adapter_days=dict(data.get("adapter_days", {})),
                stats_days=sorted(per_day),
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: unreadable day registry: {exc}") from exc
    try:
        variability = gain_model.gains_from_dict(data.get("variability"))
    except (DataError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable sampling gains: {exc}") from exc
    stored_ref = data.get("reference_latent")
    history = None
    if "train_state" in data:
        history = TrainHistory.from_dict(data["train_state"]["history"])
    return Stored(
        config=config,
        normalizer=normalizer,
        tasks=list(data.get("tasks", [])),
        bin_s=bin_s,
        behavior_names=behavior_names,
        registry=registry,
        reference=None if stored_ref is None else LatentStats.from_dict(stored_ref),
        history=history,
        state=state,
        variability=variability,
    )
