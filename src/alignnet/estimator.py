"""`AlignNetEstimator`: AlignNet under the estimator contract every benchmarked model meets.

Flat parameters (`alignnet.models.contract.Estimator`): the neuron kind, the causal and
aligning variants, training lengths, the fine-tuning settings the benchmark tunes, and any
other `AlignNetConfig` setting through ``overrides``. ``pretrain(windows, seed=)`` runs
contrastive pretraining once; each ``fit(train, val, task=, seed=)`` fine-tunes a copy of the
pretrained network for one task, so decode and simulate share one pretraining. The fitted
`alignnet.api.AlignNet` of each task is ``models_[task]`` (save it, embed with it, ...).

The benchmark rows AlignNet-LIF / -bitplane / -ANN (causal, the default), AlignNet-aligned
(``align_new_days=True``: every day it was not trained on is first aligned from its own unlabelled
spikes, `AlignNet.align`) and AlignNet-window (``causal=False``: the paper's acausal window
model) are this class with different parameters.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, cast

import numpy as np

from alignnet.api import AlignNet
from alignnet.data.windows import Windows
from alignnet.models.contract import Estimator, check_task
from alignnet.names import DECODE, LIF, SIMULATE, TASKS, Task


class AlignNetEstimator(Estimator):
    """AlignNet with flat parameters, ``pretrain`` / ``fit`` / ``predict`` / ``simulate``.

    Args:
        neuron: spike-branch activation, ``"lif"``, ``"bitplane"`` or ``"relu"``.
        causal: causal U-Nets (output bin t reads bins <= t; the default); False: the
            paper's acausal window model. Set explicitly on every model, whatever recipe
            ``overrides`` names.
        align_new_days: a day not seen in training is aligned from its own unlabelled spikes
            (`AlignNet.align`: its read-in, read-out and statistics) before it is decoded;
            fine-tuning days the pretrained model has not seen are aligned first too.
        pretrain_epochs, finetune_epochs: training lengths.
        finetune_lr, finetune_weight_decay: fine-tuning settings (None: the recipe's).
        overrides: other `AlignNetConfig` overrides, e.g. ``{"widths": (16, 16),
            "arch": "paper"}`` (see `AlignNetConfig.with_overrides`).
        device: torch device (CPU is bit-reproducible).
        progress: show progress bars.

    Fitted attributes:
        pretrained_: the pretrained `AlignNet` (None without ``pretrain``).
        models_: task -> the fine-tuned `AlignNet`.
    """

    name = "AlignNet"
    tasks = TASKS
    uses_day = True  # predict() / simulate() take the day (per-day normalisation, read-ins)
    per_day_channels = True  # per-day read-ins take days with different channel lists
    pretrains = True
    param_grid = (
        {"finetune_lr": 1e-3},
        {"finetune_lr": 3e-3},
        {"finetune_lr": 3e-4},
        {"finetune_lr": 1e-3, "finetune_weight_decay": 1e-3},
    )

    def __init__(
        self,
        *,
        neuron: str = LIF,
        causal: bool = True,
        align_new_days: bool = False,
        pretrain_epochs: int = 30,
        finetune_epochs: int = 30,
        finetune_lr: float | None = None,
        finetune_weight_decay: float | None = None,
        overrides: dict[str, Any] | None = None,
        device: str = "cpu",
        progress: bool = False,
    ) -> None:
        self.neuron, self.causal, self.align_new_days = neuron, causal, align_new_days
        self.pretrain_epochs, self.finetune_epochs = pretrain_epochs, finetune_epochs
        self.finetune_lr, self.finetune_weight_decay = finetune_lr, finetune_weight_decay
        self.overrides, self.device, self.progress = overrides, device, progress
        self.pretrained_: AlignNet | None = None
        self.models_: dict[str, AlignNet] = {}

    @property
    def aligns_new_days(self) -> bool:
        """predict() aligns a day it was not trained on (``align_new_days=True``)."""
        return bool(self.align_new_days)

    # ------------------------------------------------------------------ configuration
    def config_overrides(self, seed: int) -> dict[str, Any]:
        """The `AlignNetConfig` overrides of these parameters (before fine-tuning)."""
        return {
            "neuron": self.neuron,
            "device": self.device,
            "pretrain.seed": seed,
            "finetune.seed": seed,
            **dict(self.overrides or {}),
            "causal": bool(self.causal),
        }

    def _finetune_overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.finetune_lr is not None:
            out["finetune.lr"] = self.finetune_lr
        if self.finetune_weight_decay is not None:
            out["finetune.weight_decay"] = self.finetune_weight_decay
        return out

    # ------------------------------------------------------------------ the contract
    def pretrain(self, windows: Windows, *, seed: int) -> AlignNetEstimator:
        """Contrastive pretraining on ``windows`` (all their days; labels of both modalities)."""
        model = AlignNet(**self.config_overrides(seed))
        model.pretrain(windows, epochs=self.pretrain_epochs, seed=seed, progress=self.progress)
        self.pretrained_ = model
        self.models_ = {}
        return self

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> AlignNetEstimator:
        """Fine-tune (a copy of the pretrained network, else a new one) for ``task``."""
        check_task(self, task)
        if self.pretrained_ is not None:
            model = copy.deepcopy(self.pretrained_)
        else:
            model = AlignNet(**self.config_overrides(seed))
        model.config = model.config.with_overrides(**self._finetune_overrides())
        if self.align_new_days and self.pretrained_ is not None:
            # Days the pretrained model has not seen (the fine-tuning days, a few-shot day's
            # k trials) are first aligned from their spikes, then fine-tuned with labels.
            for d in train.days.tolist():
                if not model.knows_day(int(d)):
                    model.align(train.select_days([d]), seed=seed, progress=self.progress)
        model.finetune(
            train,
            task=cast(Task, task),  # checked by check_task
            val=val,
            epochs=self.finetune_epochs,
            seed=seed,
            progress=self.progress,
        )
        self.models_[task] = model
        return self

    def _fitted(self, task: str) -> AlignNet:
        if task not in self.models_:
            raise RuntimeError(f"{self.name}: call fit(..., task={task!r}) first")
        return self.models_[task]

    def predict(self, spikes: np.ndarray, *, day: int | None = None) -> np.ndarray:
        model = self._fitted(DECODE)
        if self.align_new_days and day is not None and not model.knows_day(int(day)):
            model.align(spikes, day=day, progress=self.progress)  # zero-shot: its own spikes
        return model.decode(spikes, day=day)

    def simulate(self, behavior: np.ndarray, *, day: int | None = None) -> np.ndarray:
        model = self._fitted(SIMULATE)
        # A day with its own read-out simulates its own channels; others the shared head.
        known = day is not None and model.days.has_adapter(int(day))
        return model.simulate(behavior, day=day if known else None)

    def knows_simulation_day(self, day: int) -> bool:
        """Whether the simulate model was trained on ``day`` or aligned to it."""
        return self._fitted(SIMULATE).knows_day(int(day))

    def align_for_simulation(self, windows: Windows) -> None:
        """Align each day of ``windows`` the simulate model does not know, from their
        unlabelled spikes (`AlignNet.align`): `simulate` then uses that day's read-out."""
        model = self._fitted(SIMULATE)
        for d in windows.days.tolist():
            if not self.knows_simulation_day(int(d)):
                model.align(windows.select_days([d]), progress=self.progress)

    def sample_spikes(
        self, behavior: np.ndarray, *, day: int | None = None, seed: int = 0
    ) -> np.ndarray:
        """``[N, C_day, L]`` spike counts drawn from the full model: the rates of `simulate`
        with the shared trial-to-trial gains fitted at fine-tuning (`AlignNet.simulate`)."""
        model = self._fitted(SIMULATE)
        known = day is not None and model.knows_day(int(day))
        return model.simulate(behavior, day=day if known else None, sample=True, seed=seed)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, task: str = DECODE) -> None:
        """Write the fitted ``task`` model's checkpoint (`AlignNet.save`)."""
        self._fitted(task).save(path)

    @classmethod
    def load(cls, path: str | Path, **params: Any) -> AlignNetEstimator:
        """An estimator whose fitted models are the checkpoint's (one per trained task);
        ``params`` set its parameters (the checkpoint gives ``neuron`` and ``causal``)."""
        model = AlignNet.load(path)
        m = model.config.model
        est = cls(**{"neuron": m.neuron, "causal": m.causal, **params})
        est.models_ = {t: model for t in model.tasks if t in TASKS}
        return est
