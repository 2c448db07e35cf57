"""Typed configuration of the AlignNet model and of its training (saved in every checkpoint).

Bottom layer: models, training and evaluation import it; it imports only `alignnet.names` and
`alignnet.errors` (``alignnet.config`` re-exports it for older imports).

Three dataclasses: `ModelConfig` (architecture), `TrainConfig` (one run of the training loop)
and `AlignNetConfig` (both, plus the pretraining/fine-tuning recipes' settings). All round-trip
through plain dicts (`to_dict` / `from_dict`) so they can be stored in a checkpoint that is
loaded with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from alignnet.errors import CheckpointError
from alignnet.names import CONTEXT_KINDS, LIF, NEURONS, ContextKind, Neuron, SnnLayout
from alignnet.utils.plain import plain


@dataclass
class ModelConfig:
    """Architecture of the AlignNet network (paper Figure 3).

    Attributes:
        n_channels: C, spike channels of a window ``[C, L]``.
        n_behavior: D, behaviour dimensions of a window ``[D, L]``.
        window_len: L, bins per window (100 = 2 s of 20 ms bins).
        neuron: activation of the spike U-Net: ``"lif"`` (paper), ``"bitplane"`` or ``"relu"``.
        snn_layout: ``"temporal"``: 1-D U-Net over ``[B, C, L]``, convolutions along the bins,
            LIF steps along the bins; ``"2d"``: 2-D U-Net over the ``C x L`` image, the window
            presented for ``time_steps`` LIF steps.
        widths: feature widths of the encoder levels (each level: two convolutions, then a
            /2 max-pool, so L must be divisible by ``2 ** len(widths)``). Temporal layout:
            channels of each level; 2-D layout: feature maps of each level.
        latent_width: feature width of the bottleneck ``H`` (1x1 conv + ReLU).
        time_steps: LIF steps per window in the 2-D layout (ignored by ``"temporal"``).
        behavior_mlp_hidden: hidden width of the per-bin MLP that lifts D to C.
        embed_dim: E, size of the L2-normalised contrastive embeddings.
        proj_hidden: hidden width of the projection heads.
        init_temperature: initial InfoNCE temperature.
        temperature_range: clamp of the learnable temperature.
        per_day_readin: a C x C linear read-in per recording day before the spike encoder.
        neuron_kw: extra keyword arguments of the spiking neuron (tau, v_threshold, ...).
        causal: causal U-Nets (temporal layout only): every output bin t is computed from
            input bins <= t (left-padded convolutions, right-edge pooling; see
            `alignnet.models.unet`), so the estimate at the newest bin of a stream is as good
            as any other and can be updated incrementally
            (`alignnet.realtime.CausalStreamingDecoder`). False: the paper's window model,
            which sees future bins inside its window. None (the default): causal in the
            temporal layout, acausal in the 2-D layout (which has no causal form).
        context: temporal context at the bottleneck of the behaviour decoder
            (`alignnet.models.context`): ``"tcn"`` (residual dilated convolutions, 120 bins
            of context with two levels; causal when ``causal``), ``"gru"`` or ``"none"`` (the
            paper's U-Net, about 30 bins). Checkpoints saved before this setting load as
            ``"none"``.
    """

    n_channels: int = 64
    n_behavior: int = 2
    window_len: int = 100
    neuron: Neuron = LIF
    snn_layout: SnnLayout = "temporal"
    widths: tuple[int, ...] = (64, 96)
    latent_width: int = 64
    time_steps: int = 4
    behavior_mlp_hidden: int = 32
    embed_dim: int = 32
    proj_hidden: int = 64
    init_temperature: float = 0.1
    temperature_range: tuple[float, float] = (0.01, 1.0)
    per_day_readin: bool = False
    neuron_kw: dict[str, Any] = field(default_factory=dict)
    causal: bool | None = None
    context: ContextKind = "tcn"

    def __post_init__(self) -> None:
        self.causal = self.snn_layout == "temporal" if self.causal is None else bool(self.causal)
        self.widths = tuple(int(w) for w in self.widths)
        low, high = self.temperature_range
        self.temperature_range = (float(low), float(high))
        if self.neuron not in NEURONS:
            raise ValueError(f"neuron must be {', '.join(NEURONS)}, got {self.neuron!r}")
        if self.snn_layout not in ("temporal", "2d"):
            raise ValueError(f"snn_layout must be temporal or 2d, got {self.snn_layout!r}")
        if self.context not in CONTEXT_KINDS:
            raise ValueError(f"context must be {', '.join(CONTEXT_KINDS)}, got {self.context!r}")
        if self.causal and self.snn_layout != "temporal":
            raise ValueError("causal=True needs snn_layout='temporal'")
        if not self.widths:
            raise ValueError("widths must name at least one encoder level")
        factor = 2 ** len(self.widths)
        if self.window_len % factor:
            raise ValueError(
                f"window_len {self.window_len} is not divisible by {factor} "
                f"({len(self.widths)} U-Net levels each halve it)"
            )
        if self.snn_layout == "2d" and self.n_channels % factor:
            raise ValueError(f"2-D layout: n_channels {self.n_channels} not divisible by {factor}")


@dataclass
class TrainConfig:
    """One run of the training loop (`alignnet.engine.loop.fit`).

    Attributes:
        epochs: maximum number of passes over the training windows.
        batch_size: global batch size (split across processes under DDP).
        lr: peak learning rate of AdamW.
        weight_decay: AdamW weight decay.
        warmup_fraction: fraction of all steps spent in linear warm-up (then cosine to
            ``min_lr_ratio * lr``).
        min_lr_ratio: final learning rate as a fraction of ``lr``.
        grad_clip: max global gradient norm (0 disables clipping).
        patience: epochs without validation improvement before stopping (0 disables).
        min_delta: improvement smaller than this does not reset the patience counter.
        min_steps: at least this many optimiser steps: ``epochs`` is raised to
            ``ceil(min_steps / steps_per_epoch)`` when the data are small (0: ``epochs`` as
            given). Keeps a few hundred windows from getting only tens of updates.
        amp: bf16 autocast (CUDA; also honoured on CPU for testing).
        compile: wrap the module in ``torch.compile``.
        device: ``"auto"`` (cuda, then mps, then cpu) or a torch device string.
        seed: seeds weights, batch order and every random draw of the run.
    """

    epochs: int = 30
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    patience: int = 8
    min_delta: float = 0.0
    min_steps: int = 0
    amp: bool = False
    compile: bool = False
    device: str = "auto"
    seed: int = 0


#: Named recipes (``AlignNetConfig.arch``, ``AlignNet(arch=...)``, ``--arch``): the settings in
#: which each differs from the `AlignNetConfig` defaults. ``"default"``: this version's recipe
#: (issue 14: fine-tuning in batches of 16 for at least 300 optimiser steps, so that the few
#: hundred labelled windows of one day get enough updates; see docs/results.md, section 6).
#: ``"paper"``: the configuration
#: of the paper reading this project shipped before, kept for comparison and reproduction.
#: The default recipe's model is causal (issue 23: the estimate at the newest bin of a stream
#: is as good as any other); the paper's is its acausal window model.
ARCHS: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {"finetune.batch_size": 64, "finetune.min_steps": 0, "model.causal": False},
}


@dataclass
class AlignNetConfig:
    """Everything an `AlignNet` needs: model, pretraining and fine-tuning settings.

    Attributes:
        model: the architecture.
        pretrain: training-loop settings of contrastive pretraining.
        finetune: training-loop settings of fine-tuning (decode / simulate).
        spike_recon_weight: w_s, weight of the spike reconstruction MSE in pretraining.
        behavior_recon_weight: w_b, weight of the behaviour reconstruction MSE in pretraining.
        contrastive_weight: weight of the symmetric InfoNCE term.
        simulate_loss: ``"mse"`` (paper) or ``"poisson"`` (Poisson NLL of the rates).
        per_day_norm: normalise spikes with each day's own channel mean/std.
        val_fraction: fraction of trials held out for early stopping when no ``val`` is given
            (0 disables; then the training loss drives early stopping).
        align_epochs, align_lr: length (passes over the new day's windows) and Adam learning
            rate of `AlignNet.align` (a new day's read-in/read-out, no labels).
        align_kl_weight: weight of the KL between the new day's and the training days'
            bottleneck-feature Gaussians (per latent dimension).
        align_prior_weight: weight of the pull of the new day's read-in towards its start
            (identity for a day with the model's channel count).
        arch: name of the recipe in `ARCHS` this configuration started from (a label; every
            value is stored explicitly). ``with_overrides(arch="paper")`` resets every setting
            to that recipe (keeping the data shape), then applies the other overrides.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    pretrain: TrainConfig = field(default_factory=TrainConfig)
    finetune: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=30, batch_size=16, lr=1e-3, warmup_fraction=0.0, patience=6, min_steps=300
        )
    )
    spike_recon_weight: float = 1.0
    behavior_recon_weight: float = 1.0
    contrastive_weight: float = 1.0
    simulate_loss: Literal["mse", "poisson"] = "mse"
    per_day_norm: bool = True
    val_fraction: float = 0.1
    align_epochs: int = 40
    align_lr: float = 3e-3
    align_kl_weight: float = 1.0
    align_prior_weight: float = 10.0
    arch: str = "default"

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples become lists), safe for ``weights_only`` checkpoints."""
        return plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlignNetConfig:
        """Inverse of `to_dict`; unknown keys and invalid values (an unknown neuron name, a
        malformed field) raise `CheckpointError`."""
        try:
            data = dict(data)
            model_data = dict(data.pop("model", {}))
            # A checkpoint written before the field existed holds the acausal window model.
            model_data.setdefault("causal", False)
            model_data.setdefault("context", "none")  # saved before the setting existed
            model = ModelConfig(**model_data)
            pre = TrainConfig(**data.pop("pretrain", {}))
            fine = TrainConfig(**data.pop("finetune", {}))
            return cls(model=model, pretrain=pre, finetune=fine, **data)
        except CheckpointError:
            raise
        except (TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"configuration does not fit this version: {exc}") from exc

    def with_overrides(self, **overrides: Any) -> AlignNetConfig:
        """Copy with fields replaced. Keys may be top-level (``simulate_loss``), dotted
        (``"model.neuron"``, ``"pretrain.epochs"``) or a bare field of ModelConfig /
        TrainConfig (``neuron=``, ``epochs=`` - a TrainConfig field sets both pretrain and
        finetune). ``arch=NAME`` first resets every setting to the recipe ``ARCHS[NAME]``
        (keeping C, D and L). Switching to the 2-D layout without naming ``causal`` makes
        the model acausal (that layout has no causal form)."""
        overrides = dict(overrides)
        if "arch" in overrides:
            name = overrides.pop("arch")
            if name not in ARCHS:
                raise ValueError(f"unknown arch {name!r}; known: {sorted(ARCHS)}")
            m = self.model
            shape = {"n_channels": m.n_channels, "n_behavior": m.n_behavior}
            cfg = AlignNetConfig(arch=name).with_overrides(
                **shape, window_len=m.window_len, **ARCHS[name]
            )
        else:
            cfg = AlignNetConfig.from_dict(self.to_dict())
        model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
        train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
        top_fields = {f.name for f in dataclasses.fields(AlignNetConfig)}
        for key, value in overrides.items():
            if "." in key:
                section, name = key.split(".", 1)
                target = getattr(cfg, section, None)
                if target is None or not hasattr(target, name):
                    raise ValueError(f"unknown configuration key {key!r}")
                setattr(target, name, value)
            elif key in top_fields:
                setattr(cfg, key, value)
            elif key in model_fields:
                setattr(cfg.model, key, value)
            elif key in train_fields:
                setattr(cfg.pretrain, key, value)
                setattr(cfg.finetune, key, value)
            else:
                raise ValueError(f"unknown configuration key {key!r}")
        if not {"causal", "model.causal"} & overrides.keys():
            # causal follows the layout unless named: the 2-D layout has no causal form
            cfg.model.causal = cfg.model.causal and cfg.model.snn_layout == "temporal"
        cfg.model.__post_init__()
        return cfg
