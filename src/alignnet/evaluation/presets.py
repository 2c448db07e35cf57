"""Benchmark presets (sizes of data and training) and the registry of model rows.

`PRESETS` names the sizes of a run; `MODEL_ROWS` says how each row (names in
`alignnet.names`) is built: an estimator class meeting `alignnet.models.contract.Estimator`,
the row's own parameters and which training budget of the preset it takes. A new model is a
new class plus one entry here (and its name in `alignnet.names`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from alignnet.data.windows import Windows
from alignnet.evaluation.protocols import DEFAULT_SHOTS
from alignnet.models.baselines import BASELINES, NEURAL
from alignnet.models.contract import Estimator
from alignnet.names import (
    ALIGNED_ROW,
    ALIGNMENT_ROWS,
    CROSS_DAY,
    DEFAULT_MODELS,
    FEW_SHOT,
    LIF,
    NEURONS,
    OPTIONAL_ROWS,
    ROW_OF_NEURON,
    SINGLE_DAY,
    WINDOW_ROW,
)


@dataclass(frozen=True)
class BenchmarkPreset:
    """Sizes of one benchmark preset.

    Attributes:
        data_preset: synthetic data preset used with ``--data synthetic`` (it sets the data
            size; recordings on disk ignore it).
        epochs: max epochs of the neural baselines (early stopping on validation).
        batch_size: neural baselines' batch size.
        n_configs: hyper-parameter settings tried per model, fold and task.
        pretrain_epochs, finetune_epochs: AlignNet's training lengths.
        alignnet_overrides: AlignNet configuration overrides (smaller networks for tiny).
        shots: few-shot points (labelled trials of the new day).
        cross_day_folds: cross-day folds (test days counted from the last).
        single_day_days: single-day folds on only the last this many days (None: every day);
            on ``paper`` these are the cross-day test days, so both protocols score the same days.
    """

    data_preset: str
    epochs: int
    batch_size: int
    n_configs: int
    pretrain_epochs: int
    finetune_epochs: int
    alignnet_overrides: dict[str, Any] = field(default_factory=dict)
    shots: tuple[int, ...] = DEFAULT_SHOTS
    cross_day_folds: int = 1
    single_day_days: int | None = None


_STANDARD = BenchmarkPreset(
    data_preset="demo",
    epochs=40,
    batch_size=32,
    n_configs=2,
    pretrain_epochs=15,
    finetune_epochs=20,
    shots=(0, 10, 25, 50, 100),
    cross_day_folds=2,
)

#: ``tiny``: unit tests (seconds). ``demo``: every row and protocol on the demo data in CI-sized
#: time (one tuning setting, short training, one cross-day fold, three few-shot points).
#: ``standard``: the same data with longer training, two tuning settings, five few-shot points
#: and two cross-day folds; also the preset for recordings on disk. ``reach``: ``standard``'s
#: sizes on a different data regime (one day of centre-out hand reaching, 100 sorted units, hand
#: velocity; `alignnet.data.synthetic.reach`); ``reach-position`` and ``reach-emg``: the same
#: with hand position or EMG-like envelopes as the behaviour; ``reach-days`` /
#: ``reach-position-days``: ``demo``'s sizes on three drifting days of it. ``paper``: the paper-sized synthetic data (22
#: days), four tuning settings, three cross-day folds.
_DEMO = BenchmarkPreset(
    data_preset="demo",
    epochs=15,
    batch_size=32,
    n_configs=1,
    pretrain_epochs=5,
    finetune_epochs=8,
    shots=(0, 25, 100),
    cross_day_folds=1,
    single_day_days=2,
)

PRESETS: dict[str, BenchmarkPreset] = {
    "tiny": BenchmarkPreset(
        data_preset="tiny",
        epochs=2,
        batch_size=16,
        n_configs=1,
        pretrain_epochs=1,
        finetune_epochs=1,
        alignnet_overrides={"widths": (16, 16), "latent_width": 16, "batch_size": 16},
        shots=(0, 5),
    ),
    "demo": _DEMO,
    "standard": _STANDARD,
    "reach": replace(_STANDARD, data_preset="reach"),  # standard's sizes on the reach data
    "reach-position": replace(_STANDARD, data_preset="reach-position"),
    "reach-emg": replace(_STANDARD, data_preset="reach-emg"),
    # demo's sizes on three drifting days of the reach regime (cross-day, days-apart)
    "reach-days": replace(_DEMO, data_preset="reach-days"),
    "reach-position-days": replace(_DEMO, data_preset="reach-position-days"),
    "paper": BenchmarkPreset(
        data_preset="paper",
        epochs=100,
        batch_size=64,
        n_configs=4,
        pretrain_epochs=30,
        finetune_epochs=30,
        cross_day_folds=3,
        single_day_days=3,
    ),
}


# ---------------------------------------------------------------------- model rows
_ALIGNNET = "alignnet.estimator:AlignNetEstimator"


@dataclass(frozen=True)
class RowEntry:
    """How a benchmark row is built: the estimator class, its fixed parameters, which of
    the preset's training budgets it takes, and an optional dependency it needs.

    Attributes:
        target: ``"module:Class"`` of an `Estimator` (imported on use).
        params: the row's own parameters (e.g. ``{"neuron": "relu"}``).
        budget: ``"alignnet"`` (pretrain/fine-tune epochs and the preset's AlignNet
            overrides), ``"neural"`` (epochs and batch size) or None.
        requires: a module that must import (optional dependencies), or None.
    """

    target: str
    params: dict[str, Any] = field(default_factory=dict)
    budget: str | None = None
    requires: str | None = None


#: Every row of the benchmark: the one registry of models (names from `alignnet.names`).
MODEL_ROWS: dict[str, RowEntry] = {
    **{ROW_OF_NEURON[n]: RowEntry(_ALIGNNET, {"neuron": n}, "alignnet") for n in NEURONS},
    ALIGNED_ROW: RowEntry(_ALIGNNET, {"neuron": LIF, "align_new_days": True}, "alignnet"),
    WINDOW_ROW: RowEntry(_ALIGNNET, {"neuron": LIF, "causal": False}, "alignnet"),
    **{
        name: RowEntry(
            target,
            budget="neural" if name in NEURAL else None,
            requires="cebra" if name in OPTIONAL_ROWS else None,
        )
        for name, target in BASELINES.items()
    },
}


def estimator_class(row: str) -> type[Estimator]:
    """The estimator class of ``row`` (imports it)."""
    module_name, cls_name = MODEL_ROWS[row].target.split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def make_estimator(row: str, **params: Any) -> Estimator:
    """A new, unfitted estimator of ``row`` (its fixed parameters, then ``params``)."""
    return estimator_class(row)(**{**MODEL_ROWS[row].params, **params})


@dataclass
class ModelSpec:
    """A row as the runner sees it: an unfitted prototype and the settings to try.

    ``proto`` carries the row's parameters and the preset's training budget; every fit
    starts from ``clone(proto).set_params(**setting)`` (or from a copy of the pretrained
    prototype, for an estimator that ``pretrains``). Its flags are the prototype's
    (``spec.proto.tasks``, ``spec.proto.causal``, ...).
    """

    name: str
    proto: Estimator
    grid: list[dict[str, Any]]


def _budget(entry: RowEntry, preset: BenchmarkPreset, epochs: Callable[[int], int]) -> dict:
    """The preset's training budget in the parameters of ``entry``'s estimator."""
    if entry.budget == "alignnet":
        return {
            "pretrain_epochs": epochs(preset.pretrain_epochs),
            "finetune_epochs": epochs(preset.finetune_epochs),
            "overrides": dict(preset.alignnet_overrides),
        }
    if entry.budget == "neural":
        return {"epochs": epochs(preset.epochs), "batch_size": preset.batch_size}
    return {}


def default_rows(*, n_days: int, continuous: bool) -> tuple[str, ...]:
    """The rows a benchmark runs when none are named: `DEFAULT_MODELS`, and on data of several
    days (not one continuous recording) also `ALIGNMENT_ROWS` (AlignNet-aligned and the
    stabilised baselines FA+Procrustes and CCA-align), whose protocols test days a model was
    not trained on."""
    if n_days > 1 and not continuous:
        return DEFAULT_MODELS + ALIGNMENT_ROWS
    return DEFAULT_MODELS


def build_specs(
    models: Sequence[str] | None, preset: BenchmarkPreset, epochs: Callable[[int], int]
) -> tuple[list[ModelSpec], dict[str, str]]:
    """Specs of the rows ``models`` (default: `DEFAULT_MODELS`) with ``preset``'s budget
    (``epochs`` scales its epoch counts), and ``{row: reason}`` for rows that cannot run
    here (an optional dependency that does not import; any other error is raised)."""
    specs, skipped = [], {}
    for name in models or DEFAULT_MODELS:
        entry = MODEL_ROWS[name]
        try:
            if entry.requires:
                importlib.import_module(entry.requires)
            cls = estimator_class(name)
        except ImportError as exc:
            skipped[name] = (
                f"{entry.requires} is not installed (optional: pip install {entry.requires})"
                if entry.requires
                else f"{entry.target.split(':')[0]} not importable ({type(exc).__name__}: {exc})"
            )
            continue
        proto = cls(**{**entry.params, **_budget(entry, preset, epochs)})
        specs.append(ModelSpec(name, proto, [dict(g) for g in cls.param_grid]))
    return specs, skipped


def fold_options(protocol: str, preset: BenchmarkPreset, windows: Windows) -> dict[str, Any]:
    """Keyword options of `make_folds` for ``protocol`` under ``preset``."""
    if protocol == SINGLE_DAY and preset.single_day_days is not None:
        return {"days": [int(d) for d in windows.days[-preset.single_day_days :]]}
    if protocol == FEW_SHOT:
        return {"shots": preset.shots}
    if protocol == CROSS_DAY:
        return {"n_folds": preset.cross_day_folds}
    return {}
