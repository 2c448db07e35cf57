"""The paper's baselines (section 4.2) and simulation-only baselines, behind one protocol.

Every model meets `alignnet.models.baselines.base.Model`: ``fit(train, val, task=, seed=)``,
``predict(spikes [N, C, L]) -> [N, D, L]``, ``simulate(behavior [N, D, L]) -> [N, C, L]``.

``PARAM_GRIDS`` declares each model's hyper-parameter search space as an ordered list of
settings (the default first); the benchmark gives every model the same budget: the first
``n_configs`` settings of its grid, each scored on the validation split.
"""

from __future__ import annotations

from typing import Any

from alignnet.models.baselines.base import DECODE, SIMULATE, TASKS, Model

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
    "CCA-align": "alignnet.models.baselines.stabilized:CCAAlign",
}

PARAM_GRIDS: dict[str, list[dict[str, Any]]] = {
    "Wiener": [{"n_lags": 4}, {"n_lags": 9}, {"n_lags": 2}, {"n_lags": 14}],
    "GRU": [
        {"hidden": 128, "lr": 3e-3},
        {"hidden": 64, "lr": 3e-3},
        {"hidden": 128, "lr": 1e-3},
        {"hidden": 256, "lr": 1e-3},
    ],
    "MLP": [
        {"n_lags": 4, "hidden": 256, "dropout": 0.2},
        {"n_lags": 9, "hidden": 256, "dropout": 0.5},
        {"n_lags": 2, "hidden": 128, "dropout": 0.1},
        {"n_lags": 4, "hidden": 512, "dropout": 0.5, "weight_decay": 1e-4},
    ],
    "ResNet": [
        {"width": 64, "blocks": 3},
        {"width": 32, "blocks": 2},
        {"width": 64, "blocks": 3, "lr": 3e-3},
        {"width": 128, "blocks": 4},
    ],
    "ResNet+UNet": [
        {"width": 32, "depth": 2},
        {"width": 16, "depth": 2},
        {"width": 32, "depth": 2, "lr": 3e-3},
        {"width": 32, "depth": 3},
    ],
    "PoissonGLM": [{"n_lags": 5}, {"n_lags": 10}, {"n_lags": 2}, {"n_lags": 15}],
    "BehaviorMLP": [
        {"n_lags": 5, "hidden": 128},
        {"n_lags": 10, "hidden": 128},
        {"n_lags": 5, "hidden": 64, "lr": 3e-3},
        {"n_lags": 10, "hidden": 256},
    ],
    "CEBRA": [{"output_dim": 16, "max_iterations": 2000}],
    "FA+Procrustes": [
        {"n_factors": 10},
        {"n_factors": 6},
        {"n_factors": 16},
        {"n_factors": 10, "n_lags": 9},
    ],
    "CCA-align": [
        {"n_components": 10},
        {"n_components": 6},
        {"n_components": 16},
        {"n_components": 10, "n_lags": 9},
    ],
}

# Keyword arguments that only the neural baselines take (training length and batch size).
NEURAL = frozenset({"GRU", "MLP", "ResNet", "ResNet+UNet", "BehaviorMLP"})


def make_baseline(name: str, **params: Any) -> Model:
    """Instantiate baseline ``name`` (a key of ``BASELINES``) with ``params``."""
    import importlib

    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {sorted(BASELINES)}")
    module_name, cls_name = BASELINES[name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)(**params)


def baseline_tasks(name: str) -> frozenset[str]:
    """Tasks baseline ``name`` can do (without building it)."""
    if name in ("PoissonGLM", "BehaviorMLP"):
        return frozenset({SIMULATE})
    if name in ("CEBRA", "FA+Procrustes", "CCA-align"):
        return frozenset({DECODE})
    return TASKS


__all__ = ["BASELINES", "NEURAL", "PARAM_GRIDS", "Model", "baseline_tasks", "make_baseline"]
