"""What an `AlignNet` holds (configuration, network, statistics, day registry) and how it is
built, prepared for data, saved and loaded. The methods users call are in `alignnet.api.core`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from alignnet import __version__
from alignnet.api import stored
from alignnet.api.inputs import as_windows, check_behavior, check_spikes, split_val
from alignnet.config import AlignNetConfig
from alignnet.data.checks import check_bin_width, check_spike_counts
from alignnet.data.preprocess import NormStats
from alignnet.data.registry import DayRegistry
from alignnet.data.session import Session
from alignnet.data.windows import Windows
from alignnet.engine.checkpoint import save_checkpoint
from alignnet.engine.device import resolve_device
from alignnet.engine.loop import TrainHistory
from alignnet.errors import CheckpointError, DataError
from alignnet.models import variability as gain_model
from alignnet.models.alignnet import AlignNetModel
from alignnet.training import recipes
from alignnet.training.align import AlignReport, LatentStats, latent_statistics

_INFER_BATCH = 256  # windows per forward pass at inference


_State = TypeVar("_State", bound="ModelState")


class ModelState:
    """Configuration, network, statistics and days of an `AlignNet` (see its docstring)."""

    def __init__(self, config: AlignNetConfig | None = None, **overrides: Any) -> None:
        self.config = (config or AlignNetConfig()).with_overrides(**overrides)
        self.normalizer: NormStats | None = None
        self.tasks: list[str] = []
        self.history: TrainHistory | None = None
        self.reference: LatentStats | None = None  # training days' latent statistics
        self.alignments: dict[int, AlignReport] = {}
        self.days = DayRegistry()
        self.variability: dict[int, gain_model.SharedGain] = {}  # day -> sampling gains
        self.bin_s: float | None = None  # bin width of the training data, s (None: unknown)
        self.behavior_names: list[str] = []  # names of the D behaviour dimensions ([]: unknown)
        self.device = resolve_device(self.config.pretrain.device)
        self._network: AlignNetModel | None = None  # built on first use (see `network`)

    @property
    def network(self) -> AlignNetModel:
        """The torch module. Built on first use from the configuration at that time (seed
        ``config.pretrain.seed``); training calls build it once from the data's shape, so
        an estimator built and then trained builds its network once."""
        if self._network is None:
            self._network = self._build(seed=self.config.pretrain.seed)
        return self._network

    @network.setter
    def network(self, module: AlignNetModel) -> None:
        self._network = module

    # ------------------------------------------------------------------ building
    def _build(self, *, seed: int, days: dict[int, int] | None = None) -> AlignNetModel:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return AlignNetModel(self.config.model, days=days).to(self.device)

    def _rebuild(self, *, seed: int) -> None:
        """A fresh network without per-day read-ins (the registry forgets them)."""
        self.network = self._build(seed=seed)
        for record in self.days.days.values():
            record.adapter = None

    def _add_day_adapters(self, windows: Windows, *, seed: int) -> None:
        """Per-day read-in/read-out for the days of ``windows`` that need one: every day when
        ``per_day_readin`` is on, else only days whose channel count differs from C."""
        width = self.config.model.n_channels
        for d, n in windows.channel_counts().items():
            if self.config.model.per_day_readin or n != width:
                self.network.adapters.add_day(d, n, seed=seed)
                self.days.note_adapter(d, n)
        self.network.to(self.device)

    def _adapt_shape(self, windows: Windows) -> None:
        """Before any training, take C, D and L from the data (rebuilding the network)."""
        m = self.config.model
        shape = (windows.n_channels, windows.n_behavior_dims, windows.window_len)
        if windows.ragged and not m.per_day_readin:
            # Days with different channel lists (unit policy) need their own read-ins.
            self.config = self.config.with_overrides(per_day_readin=True)
        if shape != (m.n_channels, m.n_behavior, m.window_len):
            self.config = self.config.with_overrides(
                n_channels=shape[0], n_behavior=shape[1], window_len=shape[2]
            )
            self._network = None  # rebuilt on first use, for the new shape
            for record in self.days.days.values():
                record.adapter = None

    # ------------------------------------------------------------------ statistics
    def _fitted_normalizer(self) -> NormStats:
        if self.normalizer is None:
            raise CheckpointError("the model has not been trained (no spike statistics)")
        return self.normalizer

    def _set_normalizer(self, normalizer: NormStats) -> None:
        self.normalizer = normalizer
        if normalizer.per_day:
            self.days.note_stats(sorted(normalizer.day_spike_mean))

    def _fit_normalizer(self, windows: Windows) -> None:
        """First call: fit all statistics on ``windows``; later: add spike stats of new days."""
        if self.normalizer is None:
            self._set_normalizer(
                NormStats.fit_arrays(
                    windows.spikes,
                    windows.behavior,
                    day=windows.day,
                    per_day=self.config.per_day_norm,
                    unseen_day="own",
                )
            )
        else:
            self._set_normalizer(self.normalizer.with_new_days(windows.spikes, day=windows.day))

    def _tensors(self, windows: Windows, *, counts: bool = False) -> dict[str, torch.Tensor]:
        norm = self._fitted_normalizer()
        t = {
            "spikes": torch.from_numpy(norm.transform_spikes(windows.spikes, day=windows.day)),
            "behavior": torch.from_numpy(norm.transform_behavior(windows.behavior)),
            "day": torch.from_numpy(windows.day),
        }
        if counts:
            t["counts"] = torch.from_numpy(windows.spikes)
        return t

    # ------------------------------------------------------------------ data
    def _check_recording(self, windows: Windows, source: str) -> None:
        """Refuse windows from another channel policy, electrode array or bin width than the
        model's training data (recorded by the first training call)."""
        self.days.check(windows, source=source)
        check_bin_width(self.bin_s, windows.bin_s, source=source)

    def _prepare(self, data: Windows | Session | Sequence[Session], name: str) -> Windows:
        windows = as_windows(data, name=name)
        if len(windows) == 0:
            raise DataError("empty training set (0 windows)", source=name)
        if not self.tasks:
            self._adapt_shape(windows)
        if windows.window_len != self.config.model.window_len:
            raise DataError(
                f"window length {windows.window_len} bins, but this model expects "
                f"{self.config.model.window_len}",
                field="spikes",
                source=name,
            )
        self.days.check(windows, source=name)
        check_spike_counts(windows.spikes, source=name)
        check_bin_width(self.bin_s, windows.bin_s, source=name)
        self.bin_s = float(windows.bin_s)
        if not self.behavior_names:  # the first data seen name the outputs
            self.behavior_names = [str(n) for n in windows.behavior_names]
        self.days.note_windows(windows)
        return windows

    def knows_day(self, day: int) -> bool:
        """Whether ``day`` was seen in training or aligned (it has its own spike statistics
        or read-in); a day that was not is what `align` is for."""
        return self.days.knows(int(day))

    def _split(
        self, windows: Windows, val: Windows | None, *, seed: int
    ) -> tuple[Windows, Windows | None]:
        """(train, val): the given ``val``, else a ``val_fraction`` share of the trials."""
        if val is not None:
            return windows, val
        return split_val(windows, self.config.val_fraction, seed=seed)

    def _init_rate_heads(self) -> None:
        """Start the rate heads (shared and per-day) at the training counts' statistics."""
        norm = self._fitted_normalizer()
        if norm.count_mean.shape[0] == self.config.model.n_channels:
            recipes.init_rate_head(
                self.network, count_mean=norm.count_mean, count_std=norm.count_std
            )
        for d, n in self.days.adapter_days().items():
            if norm.knows(d):
                mean, std = norm.day_stats(d)
                recipes.init_day_rate_head(
                    self.network.adapters, d, count_mean=mean[:n], count_std=std[:n]
                )

    def _fit_variability(self, windows: Windows) -> None:
        """Shared trial-to-trial gains of each day's spikes around the simulated rates, from
        held-out windows (`alignnet.models.variability`); `simulate(sample=True)` draws them."""
        c = self.config.model.n_channels

        def rates(behavior: np.ndarray, day: int) -> np.ndarray:  # `AlignNet.simulate`
            return self.simulate(behavior, day=day if self.knows_day(day) else None)  # type: ignore[attr-defined]

        widths = {
            int(d): min(windows.n_channels_of(int(d)), self.days.adapter_width(int(d), c))
            for d in windows.days
        }
        segment = max(1, int(round(gain_model.SEGMENT_S / windows.bin_s)))
        self.variability.update(
            gain_model.fit_day_gains(
                rates,
                windows.behavior,
                windows.spikes,
                windows.day,
                widths=widths,
                segment_bins=segment,
            )
        )

    def _update_reference(self, windows: Windows) -> None:
        """Latent statistics of the (training) windows, the target of `align`."""
        t = self._tensors(windows)
        self.reference = latent_statistics(
            self.network, t["spikes"].numpy(), t["day"].numpy().astype(np.int64)
        )

    # ------------------------------------------------------------------ inference plumbing
    @torch.no_grad()
    def _run(
        self, mode: str, *, n_out: int | None = None, **inputs: np.ndarray
    ) -> dict[str, np.ndarray]:
        self.network.eval()
        options = {} if n_out is None else {"n_out": n_out}
        n = next(iter(inputs.values())).shape[0]
        parts: dict[str, list[np.ndarray]] = {}
        for start in range(0, n, _INFER_BATCH):
            batch = {
                k: torch.from_numpy(v[start : start + _INFER_BATCH]).to(self.device)
                for k, v in inputs.items()
            }
            out = self.network(**batch, mode=mode, **options)
            for k, v in out.items():
                parts.setdefault(k, []).append(v.float().cpu().numpy())
        return {k: np.concatenate(v) for k, v in parts.items()}

    def _spike_inputs(
        self, spikes: np.ndarray | Windows, day: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Checked, z-scored ``[N, C, L]`` spikes and their ``[N]`` days (-1: no day)."""
        if isinstance(spikes, Windows):
            self._check_recording(spikes, "spikes")
            days = spikes.day
            spikes = spikes.spikes
        else:
            shape = np.shape(spikes)
            n = shape[0] if len(shape) == 3 else 0
            days = np.full(n, -1 if day is None else int(day), dtype=np.int64)
        spikes = check_spikes(
            spikes, model=self.config.model, registry=self.days, source="spikes", days=days
        )
        z = self._fitted_normalizer().transform_spikes(spikes, day=days)
        return z, np.asarray(days, dtype=np.int64)

    def _behavior_inputs(self, behavior: np.ndarray) -> np.ndarray:
        """Checked, z-scored ``[N, D, L]`` behaviour."""
        behavior = check_behavior(behavior, model=self.config.model, source="behavior")
        if self.normalizer is None:
            raise CheckpointError("the model has not been trained (no behaviour statistics)")
        return self.normalizer.transform_behavior(behavior)

    # ------------------------------------------------------------------ persistence
    def _payload(self) -> dict[str, Any]:
        return stored.payload(
            config=self.config,
            normalizer=self.normalizer,
            tasks=self.tasks,
            bin_s=self.bin_s,
            behavior_names=self.behavior_names,
            registry=self.days,
            reference=self.reference,
            variability=self.variability,
        )

    def save(self, path: str | Path) -> None:
        """Write one checkpoint file atomically: weights, config, statistics, days, tasks,
        version."""
        save_checkpoint(path, {**self._payload(), "model_state": self.network.state_dict()})

    @classmethod
    def load(cls: type[_State], path: str | Path, *, device: str | None = None) -> _State:
        """Read a checkpoint written by `save` or by a training run (any epoch)."""
        data = stored.read(path)
        self = cls(data.config) if device is None else cls(data.config, device=device)
        self.normalizer = data.normalizer
        self.bin_s = data.bin_s  # None: written before bin widths were recorded (not checked)
        self.behavior_names = data.behavior_names
        self.tasks = data.tasks
        self.history = data.history
        self.days = data.registry
        self.reference = data.reference
        self.variability = data.variability
        self.network = self._build(seed=0, days=self.days.adapter_days())
        try:
            self.network.load_state_dict(data.state)
        except RuntimeError as exc:
            raise CheckpointError(
                f"{path}: weights do not fit the stored configuration: {exc}"
            ) from exc
        self.network.to(self.device)
        return self

    def __repr__(self) -> str:
        m = self.config.model
        return (
            f"AlignNet(C={m.n_channels}, D={m.n_behavior}, L={m.window_len}, neuron={m.neuron!r}, "
            f"layout={m.snn_layout!r}, trained={self.tasks}, version={__version__})"
        )
