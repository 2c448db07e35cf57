"""`AlignNet`: the estimator - pretrain, fine-tune, align a new day, decode, simulate, embed.

Units at the boundary: spikes are counts per bin ``[N, C, L]``; behaviour is in the units it
was given in ``[N, D, L]``; normalisation happens inside (`alignnet.data.preprocess.NormStats`
fitted on the first training data, kept as ``model.normalizer``; an unseen day's spikes use
their own statistics, ``unseen_day="own"``). The days the model knows are ``model.days``
(`alignnet.data.registry.DayRegistry`); construction, saving and loading are in
`alignnet.api.state`.

Zero-shot use on a new day means: no labelled window of that day is used. The model (pretrained
and fine-tuned on other days) decodes the new day's spikes after normalising them with
statistics fitted from that day's own, unlabelled spikes. Few-shot adaptation uses
``finetune(..., n_trials=N)`` with the first N labelled trials of the day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

import numpy as np
from torch import nn

from alignnet.api.inputs import check_new_day_spikes
from alignnet.api.state import ModelState
from alignnet.data.checks import check_bin_width
from alignnet.data.session import Session
from alignnet.data.windows import Windows, first_trials
from alignnet.engine.loop import LossFn, TrainHistory, fit
from alignnet.errors import CheckpointError, DataError
from alignnet.models import variability as gain_model
from alignnet.names import Task
from alignnet.training import recipes
from alignnet.training.align import AlignReport, align_day

if TYPE_CHECKING:  # Python 3.10 has no typing.Unpack
    from typing_extensions import Unpack


class TrainRun(TypedDict, total=False):
    """The keywords `AlignNet.pretrain` and `AlignNet.finetune` share (see `pretrain`)."""

    val: Windows | None
    epochs: int | None
    checkpoint: str | Path | None
    resume: bool
    log_csv: str | Path | None
    progress: bool
    seed: int | None


class AlignNet(ModelState):
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
        days: the `DayRegistry` (channel policy, array, day-0 date; per day its date,
            channels, own statistics and read-in).
        alignments: day -> `AlignReport` of the days aligned in this session.
    """

    # ------------------------------------------------------------------ training
    def pretrain(self, data: Windows | Sequence[Session], **run: Unpack[TrainRun]) -> TrainHistory:
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
        seed = run.get("seed")
        seed = cfg.seed if seed is None else seed
        if seed != cfg.seed or not self.tasks:
            self._rebuild(seed=seed)
        self._add_day_adapters(windows, seed=seed)
        train_w, val_w = self._split(windows, run.get("val"), seed=seed)
        self._fit_normalizer(train_w)
        c = self.config
        loss = recipes.pretrain_loss(
            contrastive_weight=c.contrastive_weight,
            spike_weight=c.spike_recon_weight,
            behavior_weight=c.behavior_recon_weight,
        )
        return self._train(
            "pretrain", train_w, val_w, loss=loss, stage="pretrain", seed=seed, run=run
        )

    def finetune(
        self,
        data: Windows | Sequence[Session],
        *,
        task: Task,
        n_trials: int | None = None,
        freeze_encoder: bool = False,
        **run: Unpack[TrainRun],
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
            self._rebuild(seed=self.config.finetune.seed)
        self._fit_normalizer(windows)
        seed = run.get("seed")
        seed = self.config.finetune.seed if seed is None else seed
        self._add_day_adapters(windows, seed=seed)
        if n_trials is not None:
            windows = windows[first_trials(windows, n_trials=n_trials)]
            if len(windows) == 0:
                raise DataError(f"no windows in the first {n_trials} trials", source="finetune")
        train_w, val_w = self._split(windows, run.get("val"), seed=seed)
        if task == "simulate" and "simulate" not in self.tasks:
            self._init_rate_heads()
        loss = (
            recipes.decode_loss()
            if task == "decode"
            else recipes.simulate_loss(self.config.simulate_loss)
        )
        history = self._train(
            task,
            train_w,
            val_w,
            loss=loss,
            stage="finetune",
            seed=seed,
            parameters=recipes.finetune_parameters(
                self.network, task=task, freeze_encoder=freeze_encoder
            ),
            run=run,
        )
        if task == "simulate":
            self._fit_variability(val_w if val_w is not None and len(val_w) >= 8 else train_w)
        return history

    def _train(
        self,
        task: str,
        train_w: Windows,
        val_w: Windows | None,
        *,
        loss: LossFn,
        stage: Literal["pretrain", "finetune"],
        seed: int,
        parameters: Iterable[nn.Parameter] | None = None,
        run: TrainRun,
    ) -> TrainHistory:
        """The one training run of `pretrain` and `finetune`: the loop, then the latent
        statistics `align` aims at."""
        epochs = run.get("epochs")
        cfg = self.config.with_overrides(
            **{f"{stage}.seed": seed, **({f"{stage}.epochs": epochs} if epochs else {})}
        )
        run_cfg = cfg.pretrain if stage == "pretrain" else cfg.finetune
        if task not in self.tasks:
            self.tasks.append(task)
        counts = task == "simulate"
        self.history = fit(
            self.network,
            loss,
            self._tensors(train_w, counts=counts),
            val=None if val_w is None else self._tensors(val_w, counts=counts),
            parameters=parameters,
            config=run_cfg,
            checkpoint=run.get("checkpoint"),
            checkpoint_extra=self._payload,
            resume=run.get("resume", False),
            log_csv=run.get("log_csv"),
            progress=run.get("progress", True),
            desc=stage if stage == "pretrain" else f"finetune {task}",
        )
        self._update_reference(train_w)
        return self.history

    # ------------------------------------------------------------------ new days
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
        if not self.tasks or self.reference is None:
            raise CheckpointError(
                "this model has no trained latent space to align to: pretrain (or fine-tune) "
                "it first"
            )
        if isinstance(spikes, Windows):
            self._check_recording(spikes, "align")
            if day is None:
                if spikes.days.size != 1:
                    raise DataError(
                        f"windows hold days {spikes.days.tolist()}; pass day= or one day",
                        source="align",
                    )
                day = int(spikes.days[0])
            self.days.note_windows(spikes.select_days([int(day)]))
            spikes = spikes.day_spikes(int(day))
        if day is None:
            raise DataError("give the new day's index: align(spikes, day=...)", source="align")
        day = int(day)
        spikes = check_new_day_spikes(spikes, day=day, window_len=self.config.model.window_len)
        norm = self._fitted_normalizer()
        if norm.per_day:
            self._set_normalizer(norm.refit_day(spikes, day=day))
        seed = self.config.finetune.seed if seed is None else int(seed)
        self.network.adapters.add_day(day, spikes.shape[1], seed=seed)
        self.days.note_adapter(day, spikes.shape[1])
        self.days.note_aligned(day)
        self.network.to(self.device)
        z = self._fitted_normalizer().transform_spikes(spikes, day=day)
        c = self.config
        # The pull towards the start only means something when the start is the identity on
        # corresponding channels (electrodes); a unit-policy day starts from a random map.
        identity_start = spikes.shape[1] == c.model.n_channels and (
            self.days.channel_policy != "unit"
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
        self.alignments[day] = report
        if "simulate" in self.tasks and norm.per_day:
            # The day's rate head starts where fine-tuning starts every day's: rates ~=
            # the day's mean + std * (normalised spikes), from its unlabelled counts.
            mean, std = self._fitted_normalizer().day_stats(day)
            n = spikes.shape[1]
            recipes.init_day_rate_head(
                self.network.adapters, day, count_mean=mean[:n], count_std=std[:n]
            )
        return report

    # ------------------------------------------------------------------ inference
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
        shared_variability: bool = True,
    ) -> np.ndarray:
        """Simulate spikes from behaviour (behaviour encoder -> spike decoder).

        Args:
            behavior: ``[N, D, L]`` behaviour (training units), or `Windows` (their days).
            day: the recording day whose channels to simulate (its read-out and rate head;
                days without their own give the model's ``C`` channels). A day the model was
                neither trained on nor aligned to is refused (`DataError`); None uses the
                shared read-out.
            sample: draw spike counts instead of returning the rates: Poisson counts of the
                rates times shared trial-to-trial gains (fitted on held-out windows at
                fine-tuning, `alignnet.models.variability`), so samples carry correlated
                fluctuations.
            seed: seed of the draw (>= 0; same seed -> same counts).
            shared_variability: False draws independent Poisson counts of the rates.

        Returns:
            ``[N, C_day, L]`` float32 rates (expected counts per bin, >= 0) or sampled counts.
        """
        if "simulate" not in self.tasks:
            raise CheckpointError(
                "this model has not been fine-tuned for simulation; run "
                "finetune(task='simulate') first"
            )
        if sample and seed is not None and int(seed) < 0:
            raise DataError(f"seed must be >= 0, got {seed}", field="seed", source="simulate")
        if day is not None and not self.knows_day(int(day)):
            known = sorted(set(self.days.stats_days()) | set(self.days.adapter_days()))
            raise DataError(
                f"day {day} was neither trained on nor aligned (known days: {known}); align "
                "it first (AlignNet.align) or pass day=None for the shared read-out",
                field="day",
                source="simulate",
            )
        if isinstance(behavior, Windows):
            check_bin_width(self.bin_s, behavior.bin_s, source="behavior")
            days = behavior.day
            behavior = behavior.behavior
        else:
            days = np.full(np.shape(behavior)[0], -1 if day is None else int(day), np.int64)
        z = self._behavior_inputs(behavior)
        c = self.config.model.n_channels
        width = max(self.days.adapter_width(int(d), c) for d in np.unique(days))
        rates = self._run("simulate", behavior=z, day=np.asarray(days, np.int64), n_out=width)[
            "rates"
        ]
        if not sample:
            return rates
        rng = np.random.default_rng(seed)
        if not shared_variability:
            return rng.poisson(rates.astype(np.float64)).astype(np.float32)
        out = np.zeros_like(rates)
        for d in np.unique(days).tolist():  # each day with its own channels' gains
            sel = days == d
            n = min(self.days.adapter_width(int(d), c) if d >= 0 else c, rates.shape[1])
            gains = gain_model.gains_for(self.variability, None if d < 0 else int(d), n)
            out[sel, :n] = gains.sample(rates[sel, :n], rng=rng)
        return out

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
        if spikes is not None and behavior is None:
            z, days = self._spike_inputs(spikes, day)
            return self._run("embed_spikes", spikes=z, day=days)["z"]
        if behavior is not None and spikes is None:
            if isinstance(behavior, Windows):
                behavior = behavior.behavior
            return self._run("embed_behavior", behavior=self._behavior_inputs(behavior))["z"]
        raise ValueError("give exactly one of spikes= and behavior=")
