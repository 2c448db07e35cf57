"""The one estimator contract AlignNet and every baseline implement (scikit-learn / CEBRA style).

An estimator is built from flat keyword parameters only, and keeps each one as an attribute
of the same name, so `Estimator.get_params`, `Estimator.set_params` and `clone` work without
knowing the class. Everything learned from data is set by ``fit`` (or ``pretrain``) and is a
*fitted attribute* (a trailing underscore, or listed as fitted in the class docstring).

What the benchmark calls, and nothing else::

    est = clone(proto).set_params(**setting)       # one hyper-parameter setting
    est.pretrain(windows, seed=s)                  # only where est.pretrains
    est.fit(train, val, task="decode", seed=s)     # -> est; builds its network once
    est.predict(spikes, day=d)                     # [N, C, L] counts -> [N, D, L] behaviour
    est.simulate(behavior, day=d)                  # [N, D, L] behaviour -> [N, C, L] rates

Declared (class attributes; an estimator whose flag follows one of its parameters may
define it as a property):

- ``tasks``: the tasks it can be fitted for (a subset of `alignnet.names.TASKS`).
- ``causal``: an output bin depends only on the current and earlier input bins.
- ``uses_day``: ``predict``/``simulate`` use the ``day`` (call them one day at a time, with
  that day's own channels); others ignore it.
- ``per_day_channels``: days may have different channel lists (sorted units).
- ``aligns_new_days``: ``predict`` aligns a day it was not trained on from that day's own
  unlabelled spikes.
- ``uses_target``: ``predict`` also takes ``target=`` (the windows' condition labels).
- ``pretrains``: has ``pretrain(windows, *, seed)``, run once before the task fits.
- ``param_grid``: hyper-parameter settings to try, an ordered tuple of dicts of parameters
  (the default first); the benchmark gives every model the same budget, the first
  ``n_configs`` of them.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar

import numpy as np

from alignnet.names import TASKS
from alignnet.utils.plain import plain


class Estimator:
    """Base class of every model the benchmark runs (see the module docstring)."""

    name: ClassVar[str] = "estimator"
    tasks: ClassVar[frozenset[str]] = TASKS
    # Flags an estimator may tie to one of its parameters (a property) are plain attributes.
    causal: bool = False
    uses_day: bool = False
    per_day_channels: bool = False
    uses_target: bool = False
    pretrains: ClassVar[bool] = False
    param_grid: ClassVar[tuple[dict[str, Any], ...]] = ({},)

    # ------------------------------------------------------------------ parameters
    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """Names of the constructor's keyword parameters (following ``**kwargs`` that a
        subclass's ``__init__`` hands to its base class's)."""
        names: list[str] = []
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            params = list(inspect.signature(init).parameters.values())[1:]
            for p in params:
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in names:
                    names.append(p.name)
            if not any(p.kind == p.VAR_KEYWORD for p in params):
                break
        return tuple(names)

    def get_params(self) -> dict[str, Any]:
        """``{name: value}`` of every constructor parameter."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Estimator:
        """Set constructor parameters (the next ``fit`` uses them); returns ``self``."""
        known = self.param_names()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"{self.name}: unknown parameters {unknown}; known: {list(known)}")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def hyperparameters(self) -> dict[str, Any]:
        """JSON-serialisable settings saved beside the results (parameters, and what fitting
        chose where a model chooses something itself)."""
        return plain(self.get_params())

    @property
    def aligns_new_days(self) -> bool:
        """Whether ``predict`` aligns a day it was not trained on (default: no)."""
        return False

    # ------------------------------------------------------------------ the contract
    def pretrain(self, windows: Any, *, seed: int) -> Estimator:
        """Pretrain on ``windows`` of all their days; only where ``pretrains`` is True."""
        raise NotImplementedError(f"{type(self).__name__} does not pretrain")

    def fit(self, train: Any, val: Any, *, task: str, seed: int) -> Estimator:
        """Fit for ``task`` on ``train`` windows (``val``: same days' held-out trials, for
        early stopping and choices made inside); returns ``self``."""
        raise NotImplementedError

    def predict(self, spikes: np.ndarray, *, day: int | None = None) -> np.ndarray:
        """Decode: ``[N, C, L]`` counts -> ``[N, D, L]`` behaviour."""
        raise ValueError(_cannot(self, "decode"))

    def simulate(self, behavior: np.ndarray, *, day: int | None = None) -> np.ndarray:
        """Simulate: ``[N, D, L]`` behaviour -> ``[N, C, L]`` non-negative rates per bin."""
        raise ValueError(_cannot(self, "simulate"))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def clone(estimator: Estimator) -> Estimator:
    """An unfitted copy of ``estimator`` with equal (deep-copied) parameters."""
    return type(estimator)(**copy.deepcopy(estimator.get_params()))


def check_task(model: Estimator, task: str) -> None:
    """Raise ``ValueError`` if ``model`` cannot do ``task``."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(TASKS)}")
    if task not in model.tasks:
        raise ValueError(f"{model.name} cannot {task} (it does {sorted(model.tasks)})")


def _cannot(model: Estimator, task: str) -> str:
    only = {
        frozenset({"decode"}): "; it only decodes",
        frozenset({"simulate"}): "; it only simulates",
    }
    return f"{model.name} cannot {task} (it does {sorted(model.tasks)}{only.get(model.tasks, '')})"
