"""AlignNet behind the benchmark's model protocol (three rows: LIF, bit-plane and ANN spikes).

`AlignNetAdapter.pretrain` runs contrastive pretraining once per fold; each `fit` fine-tunes a
copy of the pretrained estimator for one task, so decode and simulate share one pretraining.
If ``alignnet.api`` cannot be imported, `alignnet_available` says why and the benchmark runs
without AlignNet rows.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.models.baselines.base import TASKS, check_task
from alignnet.names import ALIGNED_ROW, CAUSAL_ROW, LIF, ROW_OF_NEURON

ROW_NAMES = ROW_OF_NEURON
NEURON_OF_ROW = {v: k for k, v in ROW_NAMES.items()}
NEURON_OF_ROW[ALIGNED_ROW] = LIF
NEURON_OF_ROW[CAUSAL_ROW] = LIF

# Fine-tuning settings searched with the same budget as the baselines (default first).
FINETUNE_GRID: list[dict[str, Any]] = [
    {"finetune.lr": 1e-3},
    {"finetune.lr": 3e-3},
    {"finetune.lr": 3e-4},
    {"finetune.lr": 1e-3, "finetune.weight_decay": 1e-3},
]


def alignnet_available() -> str | None:
    """None when ``alignnet.api.AlignNet`` imports, else the reason it does not."""
    try:
        from alignnet.api import AlignNet  # noqa: F401
    except Exception as exc:  # any failure of a module still being built
        return f"{type(exc).__name__}: {exc}"
    return None


class AlignNetAdapter:
    """`Model`-protocol wrapper of `alignnet.api.AlignNet`.

    Args:
        neuron: spike-branch activation, ``"lif"``, ``"bitplane"`` or ``"relu"``.
        pretrain_epochs, finetune_epochs: training lengths.
        overrides: extra `AlignNetConfig` overrides (e.g. ``{"widths": (32, 48)}``).
    """

    tasks = TASKS
    causal = False
    uses_day = True  # predict() takes the test day (per-day spike normalisation)
    per_day_channels = True  # per-day read-ins take days with different channel lists

    def __init__(
        self,
        *,
        neuron: str = "lif",
        pretrain_epochs: int = 30,
        finetune_epochs: int = 30,
        overrides: dict[str, Any] | None = None,
        align: bool = False,
        causal: bool = False,
    ) -> None:
        if neuron not in ROW_NAMES:
            raise ValueError(f"neuron must be one of {sorted(ROW_NAMES)}, got {neuron!r}")
        self.neuron, self.align, self.causal = neuron, align, causal
        self.name = ALIGNED_ROW if align else CAUSAL_ROW if causal else ROW_NAMES[neuron]
        self.pretrain_epochs, self.finetune_epochs = pretrain_epochs, finetune_epochs
        self.overrides = {**dict(overrides or {}), **({"causal": True} if causal else {})}
        self.finetune_params: dict[str, Any] = dict(FINETUNE_GRID[0])
        self._pretrained = None
        self._fitted: dict[str, Any] = {}

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "neuron": self.neuron,
            "pretrain_epochs": self.pretrain_epochs,
            "finetune_epochs": self.finetune_epochs,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in self.overrides.items()},
            **self.finetune_params,
            "align": self.align,
        }

    def configure(self, **finetune_params: Any) -> None:
        """Set the fine-tuning settings of the next `fit` (keys of `FINETUNE_GRID`)."""
        self.finetune_params = dict(finetune_params)

    def _new_estimator(self, seed: int):
        from alignnet.api import AlignNet

        return AlignNet(
            neuron=self.neuron,
            device="cpu",
            **{"pretrain.seed": seed, "finetune.seed": seed},
            **self.overrides,
        )

    def pretrain(self, windows: Windows, *, seed: int) -> None:
        """Contrastive pretraining on ``windows`` (all their days; labels of both modalities)."""
        est = self._new_estimator(seed)
        est.pretrain(windows, epochs=self.pretrain_epochs, seed=seed, progress=False)
        self._pretrained = est

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> None:
        check_task(self, task)
        est = copy.deepcopy(self._pretrained) if self._pretrained else self._new_estimator(seed)
        est.config = est.config.with_overrides(**self.finetune_params)
        if self.align and self._pretrained is not None:
            # Days the pretrained model has not seen (the fine-tuning days, a few-shot day's
            # k trials) are first aligned from their spikes, then fine-tuned with labels.
            for d in train.days.tolist():
                if not est.knows_day(int(d)):
                    est.align(train.select_days([d]), seed=seed, progress=False)
        est.finetune(
            train, task=task, val=val, epochs=self.finetune_epochs, seed=seed, progress=False
        )
        self._fitted[task] = est

    def predict(self, spikes: np.ndarray, *, day: int | None = None) -> np.ndarray:
        est = self._fitted["decode"]
        if self.align and day is not None and not est.knows_day(int(day)):
            est.align(spikes, day=day, progress=False)  # zero-shot: the day's own spikes
        return est.decode(spikes, day=day)

    def simulate(self, behavior: np.ndarray, *, day: int | None = None) -> np.ndarray:
        est = self._fitted["simulate"]
        return est.simulate(behavior, day=day if est.network.adapters.has(int(day or -1)) else None)
