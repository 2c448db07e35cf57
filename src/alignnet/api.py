"""`AlignNet`: the estimator - pretrain, fine-tune, decode, simulate, embed, save, load.

Units at the boundary: spikes are counts per bin ``[N, C, L]``; behaviour is in the units it
was given in ``[N, D, L]``; normalisation happens inside (`alignnet.data.preprocess.NormStats`
fitted on the first training data, kept as ``model.normalizer``; an unseen day's spikes use
their own statistics, ``unseen_day="own"``).

Zero-shot use on a new day means: no labelled window of that day is used. The model (pretrained
and fine-tuned on other days) decodes the new day's spikes after normalising them with
statistics fitted from that day's own, unlabelled spikes. Few-shot adaptation uses
``finetune(..., n_trials=N)`` with the first N labelled trials of the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from alignnet import __version__
from alignnet.config import AlignNetConfig
from alignnet.data.checks import check_bin_width, check_spike_counts
from alignnet.data.preprocess import NormStats
from alignnet.data.session import Session
from alignnet.data.windows import Windows, first_trials, split_by_trial
from alignnet.engine.checkpoint import check_payload, load_checkpoint, save_checkpoint
from alignnet.engine.device import resolve_device
from alignnet.engine.loop import TrainHistory, fit
from alignnet.errors import CheckpointError, DataError
from alignnet.models.alignnet import AlignNetModel
from alignnet.training import recipes
from alignnet.training.align import AlignReport, LatentStats, align_day, latent_statistics

Task = Literal["decode", "simulate"]
_INFER_BATCH = 256


def _as_windows(data: Windows | Sequence[Session], *, name: str = "data") -> Windows:
    if isinstance(data, Windows):
        return data
    if isinstance(data, Session) or (
        isinstance(data, Sequence) and data and all(isinstance(s, Session) for s in data)
    ):
        from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows

        sessions = [data] if isinstance(data, Session) else list(data)
        return sessions_to_windows(sessions, preprocess_config_for(sessions))  # the CLI's rule
    raise DataError(
        f"expected Windows or a sequence of Session, got {type(data).__name__}", source=name
    )


def _split_val(windows: Windows, fraction: float, *, seed: int, min_trials: int = 5):
    """(train, val) split by trial, or (windows, None) when there are too few trials."""
    if fraction <= 0:
        return windows, None
    for d in windows.days:
        if np.unique(windows.trial[windows.day == d]).size < min_trials:
            return windows, None
    tr, va = split_by_trial(windows, test_fraction=fraction, contiguous=False, seed=seed)
    return windows[tr], windows[va]


def _windows_layout(windows: Windows) -> dict[str, str]:
    """The channel policy and electrode-array fingerprint the windows were read with, and the
    calendar date of day 0 (so a later recording's date gives its day index)."""
    sessions = windows.info.get("sessions", [])
    arrays = {s.get("array_layout", "") for s in sessions} - {""}
    return {
        "channel_policy": windows.channel_policy,
        "array_layout": arrays.pop() if len(arrays) == 1 else "",
        "origin_date": day_zero_date(sessions),
    }


def day_zero_date(sessions: Sequence[dict[str, Any]]) -> str:
    """ISO date of day 0 from windows' session records (``date`` minus ``day``); "" if none
    has a real date."""
    from datetime import date, timedelta

    for s in sessions:
        text = str(s.get("date", ""))[:10]
        if text and text != "1970-01-01":
            try:
                return (date.fromisoformat(text) - timedelta(days=int(s["day"]))).isoformat()
            except (ValueError, KeyError):
                continue
    return ""


class AlignNet:
    """Contrastive spike-behaviour alignment with a hybrid SNN-ANN U-Net (paper Fig. 3-4).

    Args:
        config: full configuration (default `AlignNetConfig()`).
        **overrides: fields to replace, e.g. ``neuron="relu"``, ``epochs=5``,
            ``"model.widths": (32, 64)`` (see `AlignNetConfig.with_overrides`).

    Attributes:
        network: the torch module (`AlignNetModel`).
        config: the configuration in use.
        normalizer: `NormStats` (``unseen_day="own"``) fitted by the first training call
            (None before); later training calls only add spike statistics of new days.
        tasks: what the network has been trained for (``"pretrain"``, ``"decode"``,
            ``"simulate"``).
        history: the last training run's `TrainHistory`.
    """

    def __init__(self, config: AlignNetConfig | None = None, **overrides: Any) -> None:
        self.config = (config or AlignNetConfig()).with_overrides(**overrides)
        self.normalizer: NormStats | None = None
        self.tasks: list[str] = []
        self.history: TrainHistory | None = None
        self.reference: LatentStats | None = None  # training days' latent statistics
        self.alignments: dict[int, AlignReport] = {}
        self.data_layout: dict[str, str] = {}
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

    # ------------------------------------------------------------------ helpers
    def _build(self, *, seed: int, days: dict[int, int] | None = None) -> AlignNetModel:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return AlignNetModel(self.config.model, days=days).to(self.device)

    def _add_day_adapters(self, windows: Windows, *, seed: int) -> None:
        """Per-day read-in/read-out for the days of ``windows`` that need one: every day when
        ``per_day_readin`` is on, else only days whose channel count differs from C."""
        width = self.config.model.n_channels
        for d, n in windows.channel_counts().items():
            if self.config.model.per_day_readin or n != width:
                self.network.adapters.add_day(d, n, seed=seed)
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

    def _check_spikes(
        self, spikes: np.ndarray, source: str, *, days: np.ndarray | None = None
    ) -> np.ndarray:
        spikes = np.asarray(spikes, dtype=np.float32)
        m = self.config.model
        if spikes.ndim != 3:
            raise DataError(
                f"expected [N, C, L], got shape {spikes.shape}", field="spikes", source=source
            )
        known = self.network.adapters.inputs
        for d in [] if days is None else np.unique(days).tolist():
            want = known.get(int(d), m.n_channels)
            if spikes.shape[1] == want or (int(d) in known and spikes.shape[1] > want):
                continue
            if int(d) in known:
                why = f"{spikes.shape[1]} channels for day {d}, but its read-in takes {want}"
            else:
                why = f"{spikes.shape[1]} channels, but this model was built for {want}"
                if int(d) != -1:
                    why += f" and has no read-in for day {d}: align the day first (align())"
            raise DataError(why, field="spikes", source=source)
        if days is None and spikes.shape[1] != m.n_channels:
            raise DataError(
                f"{spikes.shape[1]} channels, but this model was built for {m.n_channels}",
                field="spikes",
                source=source,
            )
        if spikes.shape[2] != m.window_len:
            raise DataError(
                f"window length {spikes.shape[2]} bins, but this model expects {m.window_len}",
                field="spikes",
                source=source,
            )
        if not np.isfinite(spikes).all():
            raise DataError("NaN or inf values", field="spikes", source=source)
        if spikes.shape[0] == 0:
            raise DataError("no windows (N = 0)", field="spikes", source=source)
        return spikes

    def _check_behavior(self, behavior: np.ndarray, source: str) -> np.ndarray:
        behavior = np.asarray(behavior, dtype=np.float32)
        m = self.config.model
        if behavior.ndim != 3 or behavior.shape[1:] != (m.n_behavior, m.window_len):
            raise DataError(
                f"shape {behavior.shape}, this model expects [N, {m.n_behavior}, {m.window_len}]",
                field="behavior",
                source=source,
            )
        if not np.isfinite(behavior).all():
            raise DataError("NaN or inf values", field="behavior", source=source)
        if behavior.shape[0] == 0:
            raise DataError("no windows (N = 0)", field="behavior", source=source)
        if self.normalizer is None:
            raise CheckpointError("the model has not been trained (no behaviour statistics)")
        return behavior

    def _fitted_normalizer(self) -> NormStats:
        if self.normalizer is None:
            raise CheckpointError("the model has not been trained (no spike statistics)")
        return self.normalizer

    def _fit_normalizer(self, windows: Windows) -> None:
        """First call: fit all statistics on ``windows``; later: add spike stats of new days."""
        if self.normalizer is None:
            self.normalizer = NormStats.fit_arrays(
                windows.spikes,
                windows.behavior,
                day=windows.day,
                per_day=self.config.per_day_norm,
                unseen_day="own",
            )
        else:
            self.normalizer = self.normalizer.with_new_days(windows.spikes, day=windows.day)

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

    def _payload(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "normalizer": None if self.normalizer is None else self.normalizer.to_dict(),
            "tasks": list(self.tasks),
            "bin_s": getattr(self, "bin_s", None),  # bin width of the training data, s
            "adapter_days": {str(d): n for d, n in self.network.adapters.inputs.items()},
            "data_layout": dict(getattr(self, "data_layout", {}) or {}),
            "reference_latent": (
                None if getattr(self, "reference", None) is None else self.reference.to_dict()
            ),
        }

    def _check_layout(self, windows: Windows, source: str) -> None:
        """Refuse windows from another channel policy or electrode array than the model's
        training data (recorded at the first training call)."""
        layout = _windows_layout(windows)
        mine = getattr(self, "data_layout", None) or {}
        if not mine:
            self.data_layout = layout
            return
        for key, what in (("channel_policy", "channel policy"), ("array_layout", "array layout")):
            if mine.get(key) and layout.get(key) and mine[key] != layout[key]:
                raise DataError(
                    f"this model was trained on data with {what} {mine[key]!r}; these windows "
                    f"have {layout[key]!r}",
                    field=key,
                    source=source,
                )

    def _prepare(self, data, name: str) -> Windows:
        windows = _as_windows(data, name=name)
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
        self._check_layout(windows, name)
        check_spike_counts(windows.spikes, source=name)
        check_bin_width(getattr(self, "bin_s", None), windows.bin_s, source=name)
        self.bin_s = float(windows.bin_s)
        return windows

    # ------------------------------------------------------------------ training
    def pretrain(
        self,
        data: Windows | Sequence[Session],
        *,
        val: Windows | None = None,
        epochs: int | None = None,
        checkpoint: str | Path | None = None,
        resume: bool = False,
        log_csv: str | Path | None = None,
        progress: bool = True,
        seed: int | None = None,
    ) -> TrainHistory:
        """Contrastive pretraining of both autoencoders on windows of all given days.

        Args:
            data: training windows (spikes ``[N, C, L]`` counts, behaviour ``[N, D, L]``) or
                sessions (preprocessed with the default `PreprocessConfig`). Batches mix
                all days, so InfoNCE negatives come from every day.
            val: validation windows for early stopping (default: a ``val_fraction`` share
                of the trials of ``data``).
            epochs, seed: override ``config.pretrain``.
            checkpoint: file written after every epoch (and at the end).
            resume: continue an interrupted run from ``checkpoint``.
            log_csv: per-epoch CSV log.
            progress: show progress bars.
        """
        windows = self._prepare(data, "pretrain data")
        cfg = self.config.pretrain
        seed = cfg.seed if seed is None else seed
        if seed != cfg.seed or not self.tasks:
            self.network = self._build(seed=seed)
        self._add_day_adapters(windows, seed=seed)
        train_w, val_w = (
            (windows, val)
            if val is not None
            else _split_val(windows, self.config.val_fraction, seed=seed)
        )
        self._fit_normalizer(train_w)
        run_cfg = self.config.with_overrides(
            **{"pretrain.seed": seed, **({"pretrain.epochs": epochs} if epochs else {})}
        ).pretrain
        c = self.config
        if "pretrain" not in self.tasks:
            self.tasks.append("pretrain")
        self.history = fit(
            self.network,
            recipes.pretrain_loss(
                contrastive_weight=c.contrastive_weight,
                spike_weight=c.spike_recon_weight,
                behavior_weight=c.behavior_recon_weight,
            ),
            self._tensors(train_w),
            val=None if val_w is None else self._tensors(val_w),
            config=run_cfg,
            checkpoint=checkpoint,
            checkpoint_extra=self._payload,
            resume=resume,
            log_csv=log_csv,
            progress=progress,
            desc="pretrain",
        )
        self._update_reference(train_w)
        return self.history

    def finetune(
        self,
        data: Windows | Sequence[Session],
        *,
        task: Task,
        n_trials: int | None = None,
        freeze_encoder: bool = False,
        val: Windows | None = None,
        epochs: int | None = None,
        checkpoint: str | Path | None = None,
        resume: bool = False,
        log_csv: str | Path | None = None,
        progress: bool = True,
        seed: int | None = None,
    ) -> TrainHistory:
        """Supervised fine-tuning of a cross-branch path (paper Figure 4).

        Args:
            data: labelled windows of the fine-tuning day(s). Spike statistics of a day not
                seen before are fitted from all of its windows' spikes (unlabelled use).
            task: ``"decode"`` (spikes -> behaviour, MSE) or ``"simulate"`` (behaviour ->
                spike rates, MSE or Poisson NLL per ``config.simulate_loss``).
            n_trials: use only the first N trials of each day (few-shot adaptation).
            freeze_encoder: train only the decoder side (the task's encoder is fixed).
            val, epochs, checkpoint, resume, log_csv, progress, seed: as in `pretrain`
                (``config.finetune`` settings).
        """
        if task not in ("decode", "simulate"):
            raise ValueError(f"task must be 'decode' or 'simulate', got {task!r}")
        windows = self._prepare(data, "finetune data")
        if self.normalizer is None:
            self.network = self._build(seed=self.config.finetune.seed)
        self._fit_normalizer(windows)
        self._add_day_adapters(windows, seed=self.config.finetune.seed if seed is None else seed)
        if n_trials is not None:
            windows = windows[first_trials(windows, n_trials=n_trials)]
            if len(windows) == 0:
                raise DataError(f"no windows in the first {n_trials} trials", source="finetune")
        cfg = self.config.finetune
        seed = cfg.seed if seed is None else seed
        train_w, val_w = (
            (windows, val)
            if val is not None
            else _split_val(windows, self.config.val_fraction, seed=seed)
        )
        if task == "simulate" and "simulate" not in self.tasks:
            norm = self._fitted_normalizer()
            if norm.count_mean.shape[0] == self.config.model.n_channels:
                recipes.init_rate_head(
                    self.network, count_mean=norm.count_mean, count_std=norm.count_std
                )
            for d, n in self.network.adapters.inputs.items():
                if norm.knows(d):
                    mean, std = norm.day_stats(d)
                    recipes.init_day_rate_head(
                        self.network.adapters, d, count_mean=mean[:n], count_std=std[:n]
                    )
        loss = (
            recipes.decode_loss()
            if task == "decode"
            else recipes.simulate_loss(self.config.simulate_loss)
        )
        run_cfg = self.config.with_overrides(
            **{"finetune.seed": seed, **({"finetune.epochs": epochs} if epochs else {})}
        ).finetune
        if task not in self.tasks:
            self.tasks.append(task)
        self.history = fit(
            self.network,
            loss,
            self._tensors(train_w, counts=task == "simulate"),
            val=None if val_w is None else self._tensors(val_w, counts=task == "simulate"),
            parameters=recipes.finetune_parameters(
                self.network, task=task, freeze_encoder=freeze_encoder
            ),
            config=run_cfg,
            checkpoint=checkpoint,
            checkpoint_extra=self._payload,
            resume=resume,
            log_csv=log_csv,
            progress=progress,
            desc=f"finetune {task}",
        )
        self._update_reference(train_w)
        return self.history

    def _update_reference(self, windows: Windows) -> None:
        """Latent statistics of the (training) windows, the target of `align`."""
        t = self._tensors(windows)
        self.reference = latent_statistics(
            self.network, t["spikes"].numpy(), t["day"].numpy().astype(np.int64)
        )

    # ------------------------------------------------------------------ new days
    def knows_day(self, day: int) -> bool:
        """Whether ``day`` was seen in training or aligned (it has its own spike statistics
        or read-in); a day that was not is what `align` is for."""
        norm = self.normalizer
        per_day = norm is not None and norm.per_day and norm.knows(int(day))
        return per_day or self.network.adapters.has(int(day))

    def align(
        self,
        spikes: np.ndarray | Windows,
        *,
        day: int | None = None,
        epochs: int | None = None,
        seed: int | None = None,
        progress: bool = True,
    ) -> AlignReport:
        """Align a new recording day from its unlabelled spikes (no behaviour needed).

        Fits only what is specific to the day (its spike statistics, read-in and read-out;
        see `alignnet.training.align`), everything shared stays frozen; then `decode`,
        `simulate` and `embed` work on that day. The day may have any number of channels
        (sorted units change from day to day). Aligning a day again starts from its last fit.

        Args:
            spikes: ``[N, N_d, L]`` counts per bin of the new day, or its `Windows`.
            day: its day index (default: the single day of the `Windows`).
            epochs, seed: override ``config.align_epochs`` and the fine-tuning seed.
            progress: show a progress bar.

        Returns:
            An `AlignReport` (loss terms per epoch, wall time); also kept in
            ``self.alignments[day]``.

        Raises:
            CheckpointError: the model was never trained (nothing to align to).
            DataError: no windows, NaN counts, a day without any spike, windows from another
                channel policy or electrode array, or an ambiguous day.
        """
        if not self.tasks or getattr(self, "reference", None) is None:
            raise CheckpointError(
                "this model has no trained latent space to align to: pretrain (or fine-tune) "
                "it first"
            )
        if isinstance(spikes, Windows):
            self._check_layout(spikes, "align")
            check_bin_width(getattr(self, "bin_s", None), spikes.bin_s, source="align")
            if day is None:
                if spikes.days.size != 1:
                    raise DataError(
                        f"windows hold days {spikes.days.tolist()}; pass day= or one day",
                        source="align",
                    )
                day = int(spikes.days[0])
            spikes = spikes.day_spikes(int(day))
        if day is None:
            raise DataError("give the new day's index: align(spikes, day=...)", source="align")
        spikes = np.asarray(spikes, dtype=np.float32)
        if spikes.ndim != 3 or spikes.shape[0] == 0 or spikes.shape[2] != self.config.model.window_len:
            raise DataError(
                f"expected [N > 0, N_d, {self.config.model.window_len}], got {spikes.shape}",
                field="spikes",
                source="align",
            )
        if not np.isfinite(spikes).all():
            raise DataError("NaN or inf values", field="spikes", source="align")
        check_spike_counts(spikes, source="align")
        if not spikes.any():
            raise DataError(
                f"day {day} has zero spikes on every channel: nothing to align",
                field="spikes",
                source="align",
            )
        day = int(day)
        norm = self._fitted_normalizer()
        if norm.per_day:
            norm.day_spike_mean.pop(day, None)
            norm.day_spike_std.pop(day, None)
            days = np.full(spikes.shape[0], day, dtype=np.int64)
            self.normalizer = norm.with_new_days(spikes, day=days)
        seed = self.config.finetune.seed if seed is None else int(seed)
        self.network.adapters.add_day(day, spikes.shape[1], seed=seed)
        self.network.to(self.device)
        z = self._fitted_normalizer().transform_spikes(spikes, day=day)
        c = self.config
        # The pull towards the start only means something when the start is the identity on
        # corresponding channels (electrodes); a unit-policy day starts from a random map.
        identity_start = spikes.shape[1] == c.model.n_channels and (
            (getattr(self, "data_layout", None) or {}).get("channel_policy") != "unit"
        )
        report = align_day(
            self.network,
            z,
            day=day,
            reference=self.reference,
            epochs=c.align_epochs if epochs is None else int(epochs),
            lr=c.align_lr,
            kl_weight=c.align_kl_weight,
            prior_weight=c.align_prior_weight if identity_start else 0.0,
            seed=seed,
            progress=progress,
        )
        if not hasattr(self, "alignments"):
            self.alignments = {}
        self.alignments[day] = report
        return report

    # ------------------------------------------------------------------ inference
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

    def _spike_inputs(self, spikes, day) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(spikes, Windows):
            check_bin_width(getattr(self, "bin_s", None), spikes.bin_s, source="spikes")
            self._check_layout(spikes, "spikes")
            days = spikes.day
            spikes = spikes.spikes
        else:
            days = None
            shape = np.shape(spikes)
            n = shape[0] if len(shape) == 3 else 0
            days = np.full(n, -1 if day is None else int(day), dtype=np.int64)
        spikes = self._check_spikes(spikes, "spikes", days=days)
        z = self._fitted_normalizer().transform_spikes(spikes, day=days)
        return z, np.asarray(days, dtype=np.int64)

    def decode(self, spikes: np.ndarray | Windows, *, day: int | None = None) -> np.ndarray:
        """Decode behaviour from spikes (spike encoder -> behaviour decoder).

        Args:
            spikes: ``[N, C, L]`` counts per bin, or `Windows` (their ``day`` is used).
            day: recording day of an array input. A day seen in training uses its stored
                statistics; None or an unseen day normalises with the statistics of
                ``spikes`` themselves (zero-shot on a new day).

        Returns:
            ``[N, D, L]`` float32 behaviour in the training data's units.
        """
        if "decode" not in self.tasks:
            raise CheckpointError(
                "this model has not been fine-tuned for decoding; run finetune(task='decode') "
                "first (zero-shot = fine-tuned on other days, see docs/model.md)"
            )
        z, days = self._spike_inputs(spikes, day)
        out = self._run("decode", spikes=z, day=days)["behavior"]
        return self._fitted_normalizer().inverse_behavior(out)

    def simulate(
        self,
        behavior: np.ndarray | Windows,
        *,
        day: int | None = None,
        sample: bool = False,
        seed: int | None = None,
    ) -> np.ndarray:
        """Simulate spikes from behaviour (behaviour encoder -> spike decoder).

        Args:
            behavior: ``[N, D, L]`` behaviour (training units), or `Windows` (their days).
            day: the recording day whose channels to simulate (its read-out and rate head;
                days without their own give the model's ``C`` channels).
            sample: draw Poisson counts from the rates instead of returning the rates.
            seed: seed of the Poisson draw (same seed -> same counts).

        Returns:
            ``[N, C_day, L]`` float32 rates (expected counts per bin, >= 0) or sampled counts.
        """
        if "simulate" not in self.tasks:
            raise CheckpointError(
                "this model has not been fine-tuned for simulation; run "
                "finetune(task='simulate') first"
            )
        known = self.network.adapters.inputs
        if isinstance(behavior, Windows):
            check_bin_width(getattr(self, "bin_s", None), behavior.bin_s, source="behavior")
            days = behavior.day
            behavior = behavior.behavior
        else:
            days = np.full(np.shape(behavior)[0], -1 if day is None else int(day), np.int64)
        behavior = self._check_behavior(behavior, "behavior")
        z = self._fitted_normalizer().transform_behavior(behavior)
        width = max(known.get(int(d), self.config.model.n_channels) for d in np.unique(days))
        rates = self._run("simulate", behavior=z, day=np.asarray(days, np.int64), n_out=width)[
            "rates"
        ]
        if not sample:
            return rates
        rng = np.random.default_rng(seed)
        return rng.poisson(rates.astype(np.float64)).astype(np.float32)

    def embed(
        self,
        *,
        spikes: np.ndarray | Windows | None = None,
        behavior: np.ndarray | Windows | None = None,
        day: int | None = None,
    ) -> np.ndarray:
        """Embeddings in the shared latent space: ``[N, E]`` float32, L2-normalised.

        Give exactly one of ``spikes`` (``[N, C, L]`` counts) and ``behavior`` (``[N, D, L]``).
        """
        if (spikes is None) == (behavior is None):
            raise ValueError("give exactly one of spikes= and behavior=")
        if spikes is not None:
            z, days = self._spike_inputs(spikes, day)
            return self._run("embed_spikes", spikes=z, day=days)["z"]
        if isinstance(behavior, Windows):
            behavior = behavior.behavior
        behavior = self._check_behavior(behavior, "behavior")
        z = self._fitted_normalizer().transform_behavior(behavior)
        return self._run("embed_behavior", behavior=z)["z"]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write one checkpoint file atomically: weights, config, statistics, tasks, version."""
        save_checkpoint(path, {**self._payload(), "model_state": self.network.state_dict()})

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> AlignNet:
        """Read a checkpoint written by `save` or by a training run (any epoch)."""
        data = check_payload(load_checkpoint(path), path)
        try:
            config = AlignNetConfig.from_dict(data["config"])
            stored = data["normalizer"]
            state = data["model_state"]
            bin_s = None if data.get("bin_s") is None else float(data["bin_s"])
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
        if device is not None:
            config = config.with_overrides(device=device)
        self = cls.__new__(cls)
        self.config, self.normalizer = config, normalizer
        self.bin_s = bin_s  # None: written before bin widths were recorded (not checked)
        self.tasks = list(data.get("tasks", []))
        self.history = None
        if "train_state" in data:
            self.history = TrainHistory.from_dict(data["train_state"]["history"])
        self.device = resolve_device(config.pretrain.device)
        self.network = self._build(
            seed=0, days={int(d): int(n) for d, n in data.get("adapter_days", {}).items()}
        )
        self.data_layout = dict(data.get("data_layout", {}) or {})
        stored_ref = data.get("reference_latent")
        self.reference = None if stored_ref is None else LatentStats.from_dict(stored_ref)
        self.alignments = {}
        try:
            self.network.load_state_dict(state)
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
