"""Tuning: the same budget for every model, the first ``n`` settings of its ``param_grid``,
each fitted from ``clone(proto).set_params(**setting)`` (or a copy of the pretrained
estimator) and ranked on the validation split."""

from __future__ import annotations

import copy
from typing import Any

from alignnet.data.windows import Windows
from alignnet.evaluation.presets import ModelSpec
from alignnet.evaluation.protocols import Fold
from alignnet.evaluation.scoring import predict_windows, val_score
from alignnet.models.contract import Estimator, clone


def tune(
    spec: ModelSpec,
    pretrained: Estimator | None,
    fold: Fold,
    windows: Windows,
    task: str,
    seed: int,
    n: int,
) -> tuple[Estimator, dict[str, Any], list[dict[str, Any]]]:
    """Fit the first ``n`` grid settings (from a copy of the ``pretrained`` estimator, if
    any, else from a clone of the prototype); keep the best on validation."""
    train, val = windows[fold.train], windows[fold.val]
    best, tried = None, []
    for cfg in spec.grid[:n]:
        start = copy.deepcopy(pretrained) if pretrained is not None else clone(spec.proto)
        model = start.set_params(**cfg).fit(train, val, task=task, seed=seed)
        value = val_score(task, val, predict_windows(model, task, val))
        tried.append({"setting": cfg, "val_score": value})
        if best is None or value > best[0]:
            best = (value, model, cfg)
    assert best is not None
    return best[1], {"setting": best[2], **best[1].hyperparameters()}, tried
