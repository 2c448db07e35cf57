"""The paper's baselines (section 4.2), simulation-only baselines and stabilised decoders.

Every model meets the estimator contract `alignnet.models.contract.Estimator`:
``fit(train, val, task=, seed=) -> self``, ``predict(spikes [N, C, L], day=) -> [N, D, L]``,
``simulate(behavior [N, D, L], day=) -> [N, C, L]``, flat parameters (``get_params`` /
``set_params`` / ``clone``) and declared ``tasks``, ``causal``, ... flags.

Each class declares its hyper-parameter search space as ``param_grid``, an ordered tuple of
settings (the default first); the benchmark gives every model the same budget: the first
``n_configs`` settings, each scored on the validation split. ``PARAM_GRIDS`` reads them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from alignnet.models.contract import Estimator

# name -> "module:class"; imported on use so listing names does not import torch.
BASELINES: dict[str, str] = {
    "Wiener": "alignnet.models.baselines.wiener:WienerFilter",
    "GRU": "alignnet.models.baselines.gru:GRUBaseline",
    "MLP": "alignnet.models.baselines.mlp:MLPBaseline",
    "ResNet": "alignnet.models.baselines.resnet:ResNetBaseline",
    "ResNet+UNet": "alignnet.models.baselines.resnet:ResNetUNetBaseline",
    "PoissonGLM": "alignnet.models.baselines.glm:PoissonGLM",
    "BehaviorMLP": "alignnet.models.baselines.glm:BehaviorMLP",
    "CEBRA": "alignnet.models.baselines.cebra_decoder:CebraDecoder",
    # Stabilised linear decoders (Degenhart et al. 2020; Gallego et al. 2020): decode only.
    "FA+Procrustes": "alignnet.models.baselines.stabilized:FAProcrustes",
    "CCA-align": "alignnet.models.baselines.cca_align:CCAAlign",
}

# Keyword arguments that only the neural baselines take (training length and batch size).
NEURAL = frozenset({"GRU", "MLP", "ResNet", "ResNet+UNet", "BehaviorMLP"})

#: The contract every baseline meets (kept under its old name).


def baseline_class(name: str) -> type[Estimator]:
    """The class of baseline ``name`` (a key of ``BASELINES``)."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {sorted(BASELINES)}")
    module_name, cls_name = BASELINES[name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def make_baseline(name: str, **params: Any) -> Estimator:
    """Instantiate baseline ``name`` (a key of ``BASELINES``) with ``params``."""
    return baseline_class(name)(**params)


def baseline_tasks(name: str) -> frozenset[str]:
    """Tasks baseline ``name`` can do (its class's ``tasks``)."""
    return baseline_class(name).tasks


class _ParamGrids(Mapping[str, list[dict[str, Any]]]):
    """``{name: its class's param_grid}``, read on use (imports the class)."""

    def __getitem__(self, name: str) -> list[dict[str, Any]]:
        return [dict(s) for s in baseline_class(name).param_grid]

    def __iter__(self) -> Iterator[str]:
        return iter(BASELINES)

    def __len__(self) -> int:
        return len(BASELINES)


PARAM_GRIDS: Mapping[str, list[dict[str, Any]]] = _ParamGrids()

__all__ = [
    "BASELINES",
    "NEURAL",
    "PARAM_GRIDS",
    "baseline_class",
    "baseline_tasks",
    "make_baseline",
]
