"""The AlignNet network (paper Figure 3 and Figure 4).

Two autoencoders with no shared weights and a contrastive module:
- spike autoencoder: U-Net whose activations are spiking neurons (``lif``), bit-plane blocks
  or ReLU, in one of two layouts (see `alignnet.config.ModelConfig.snn_layout`);
- behaviour autoencoder: a per-bin MLP lifts ``[B, D, L]`` to ``[B, C, L]`` (the spike width,
  so both latents and all skip features have the same shapes), the same U-Net shape with ReLU,
  and a per-bin linear read-out back to D; the behaviour decoder starts with a temporal
  context module at the bottleneck (`alignnet.models.context`, ``ModelConfig.context``) so
  that slow behaviour (position, EMG) can depend on what happened seconds earlier;
- projection heads: latent pooled over time (and channels in the 2-D layout), MLP,
  L2-normalised ``[B, E]`` embeddings for the symmetric InfoNCE.

Fine-tuning paths (Figure 4) route one branch's encoder *and its skip features* into the
other branch's decoder:
- decode: spike encoder -> behaviour decoder -> ``[B, D, L]`` (normalised behaviour units);
- simulate: behaviour encoder -> spike decoder -> softplus -> ``[B, C, L]`` rates (counts/bin).

In the 2-D layout the spike branch runs ``T = time_steps`` LIF steps on ``[T*B, ...]`` tensors
(time-major). Features crossing from the spike branch to the ANN branch are averaged over T
(rate read-out); features crossing the other way are repeated T times.

Inputs to every path are *normalised* (z-scored) spikes and behaviour; the estimator in
`alignnet.api` does the normalisation and its inverse.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from alignnet.config import ModelConfig
from alignnet.models.activations import make_activation
from alignnet.models.context import TemporalContext
from alignnet.models.day_adapters import DayAdapters
from alignnet.models.losses import LearnableTemperature
from alignnet.models.unet import UNetDecoder, UNetEncoder

Mode = Literal["pretrain", "decode", "simulate", "embed_spikes", "embed_behavior"]


def _mlp(in_width: int, hidden: int, out_width: int, *, dims: int = 1) -> nn.Sequential:
    """Per-bin MLP as 1x1 convolutions over ``[B, W, L]`` (``dims=1``) or a plain MLP (0)."""
    if dims == 0:
        return nn.Sequential(nn.Linear(in_width, hidden), nn.ReLU(), nn.Linear(hidden, out_width))
    return nn.Sequential(
        nn.Conv1d(in_width, hidden, kernel_size=1),
        nn.ReLU(),
        nn.Conv1d(hidden, out_width, kernel_size=1),
    )


def _given(x: torch.Tensor | None, name: str, mode: str) -> torch.Tensor:
    """``x``, which mode ``mode`` needs (a ValueError naming it when missing)."""
    if x is None:
        raise ValueError(f"mode {mode!r} needs {name}=")
    return x


class AlignNetModel(nn.Module):
    """Spike SNN U-Net autoencoder + behaviour ANN U-Net autoencoder + projection heads.

    Args:
        config: architecture.
        days: recording day -> its channel count ``N_d``, for the days that get their own
            read-in / read-out / rate head (`DayAdapters`). Days without an entry pass
            through unchanged and must have ``C`` channels.

    ``forward(spikes=, behavior=, day=, mode=)`` is the single entry point (so that DDP and
    ``torch.compile`` see every path); see `Mode`. Shapes: spikes ``[B, C, L]``, behaviour
    ``[B, D, L]``, day ``[B]`` int64.
    """

    def __init__(self, config: ModelConfig, *, days: dict[int, int] | None = None) -> None:
        super().__init__()
        self.config = config
        c, d = config.n_channels, config.n_behavior
        two_d = config.snn_layout == "2d"
        self.time_steps = config.time_steps if two_d else 1
        dims = 2 if two_d else 1
        unet_in = 1 if two_d else c

        def spike_act() -> nn.Module:
            return make_activation(
                config.neuron,
                time_mode="repeat" if two_d else "temporal",
                time_steps=self.time_steps,
                **config.neuron_kw,
            )

        shape: dict[str, Any] = {"dims": dims, "causal": config.causal}
        self.adapters = DayAdapters(c)
        for day, n_inputs in (days or {}).items():
            self.adapters.add_day(day, n_inputs)
        self.spike_encoder = UNetEncoder(
            unet_in, config.widths, config.latent_width, make_act=spike_act, **shape
        )
        self.spike_decoder = UNetDecoder(
            unet_in, config.widths, config.latent_width, make_act=spike_act, **shape
        )
        self.behavior_lift = _mlp(d, config.behavior_mlp_hidden, c)
        self.behavior_encoder = UNetEncoder(
            unet_in, config.widths, config.latent_width, make_act=nn.ReLU, **shape
        )
        self.behavior_context = TemporalContext(
            config.latent_width, kind=config.context, causal=bool(config.causal)
        )
        self.behavior_decoder = UNetDecoder(
            unet_in, config.widths, config.latent_width, make_act=nn.ReLU, **shape
        )
        self.behavior_readout = nn.Conv1d(c, d, kernel_size=1)
        self.spike_projection = _mlp(
            config.latent_width, config.proj_hidden, config.embed_dim, dims=0
        )
        self.behavior_projection = _mlp(
            config.latent_width, config.proj_hidden, config.embed_dim, dims=0
        )
        low, high = config.temperature_range
        self.temperature = LearnableTemperature(config.init_temperature, low=low, high=high)
        # Simulate head: rates = softplus(scale * y + bias) per channel (set from count stats).
        self.rate_scale = nn.Parameter(torch.ones(c))
        self.rate_bias = nn.Parameter(torch.zeros(c))

    # ---------------------------------------------------------------- layout adapters
    def _spike_in(self, spikes: torch.Tensor) -> torch.Tensor:
        """``[B, C, L]`` -> the spike U-Net's input (``[T*B, 1, C, L]`` in the 2-D layout)."""
        if self.config.snn_layout == "temporal":
            return spikes
        x = spikes.unsqueeze(1)
        return x.repeat(self.time_steps, 1, 1, 1)

    def _spike_out(self, y: torch.Tensor) -> torch.Tensor:
        """Spike decoder output -> ``[B, C, L]`` (2-D: mean over the T steps)."""
        if self.config.snn_layout == "temporal":
            return y
        return self._to_ann(y).squeeze(1)

    def _behavior_in(self, lifted: torch.Tensor) -> torch.Tensor:
        return lifted if self.config.snn_layout == "temporal" else lifted.unsqueeze(1)

    def _behavior_out(self, y: torch.Tensor) -> torch.Tensor:
        return y if self.config.snn_layout == "temporal" else y.squeeze(1)

    def _to_ann(self, x: torch.Tensor) -> torch.Tensor:
        """Spike-branch feature ``[T*B, ...]`` -> ``[B, ...]`` (mean over time steps)."""
        if self.time_steps == 1:
            return x
        return x.reshape(self.time_steps, -1, *x.shape[1:]).mean(dim=0)

    def _to_snn(self, x: torch.Tensor) -> torch.Tensor:
        """ANN-branch feature ``[B, ...]`` -> ``[T*B, ...]`` (repeated over time steps)."""
        if self.time_steps == 1:
            return x
        return x.repeat(self.time_steps, *([1] * (x.dim() - 1)))

    # ---------------------------------------------------------------- branches
    def encode_spikes(
        self, spikes: torch.Tensor, day: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Normalised spikes ``[B, C, L]`` -> (latent, skips) in the spike branch's layout."""
        return self.spike_encoder(self._spike_in(self.adapters.read_in(spikes, day)))

    def encode_behavior(self, behavior: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Normalised behaviour ``[B, D, L]`` -> (latent, skips) of the behaviour branch."""
        return self.behavior_encoder(self._behavior_in(self.behavior_lift(behavior)))

    def decode_spikes(self, h: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        """Spike decoder: ``[B, C, L]`` in normalised spike units of the shared width C."""
        return self._spike_out(self.spike_decoder(h, skips))

    def decode_behavior(self, h: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        """Behaviour decoder (bottleneck context, then the U-Net decoder): ``[B, D, L]`` in
        normalised behaviour units."""
        y = self.behavior_decoder(self.behavior_context(h), skips)
        return self.behavior_readout(self._behavior_out(y))

    def _pool(self, h: torch.Tensor) -> torch.Tensor:
        return h.flatten(2).mean(dim=2)

    def embed_spikes_from_latent(self, h: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.spike_projection(self._pool(self._to_ann(h))).float(), dim=1)

    def embed_behavior_from_latent(self, h: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.behavior_projection(self._pool(h)).float(), dim=1)

    def rates_from(
        self, y: torch.Tensor, day: torch.Tensor | None = None, *, width_out: int | None = None
    ) -> torch.Tensor:
        """Spike decoder output ``[B, C, L]`` -> non-negative rates (counts per bin) in each
        day's channels ``[B, width_out, L]`` (the shared head for days without adapters)."""
        return self.adapters.rates(
            y,
            day,
            width_out=y.shape[1] if width_out is None else width_out,
            shared_scale=self.rate_scale,
            shared_bias=self.rate_bias,
        )

    # ---------------------------------------------------------------- entry point
    def forward(
        self,
        spikes: torch.Tensor | None = None,
        behavior: torch.Tensor | None = None,
        *,
        day: torch.Tensor | None = None,
        mode: Mode = "pretrain",
        n_out: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """Run one path; returns a dict of tensors.

        - ``"pretrain"``: ``spike_recon`` ``[B, C, L]``, ``behavior_recon`` ``[B, D, L]``,
          ``z_spikes``/``z_behavior`` ``[B, E]`` and ``temperature`` (scalar);
        - ``"decode"``: ``behavior`` ``[B, D, L]`` (normalised units);
        - ``"simulate"``: ``rates`` ``[B, n_out, L]`` (counts per bin, >= 0) in the channels
          of each window's ``day`` (``n_out``: the widest day's channel count; default C);
        - ``"embed_spikes"`` / ``"embed_behavior"``: ``z`` ``[B, E]``.
        """
        if mode == "pretrain":
            hs, skips_s = self.encode_spikes(_given(spikes, "spikes", mode), day)
            hb, skips_b = self.encode_behavior(_given(behavior, "behavior", mode))
            recon = self.decode_spikes(hs, skips_s)
            return {
                "spike_recon": self.adapters.read_out(
                    recon, day, width_out=_given(spikes, "spikes", mode).shape[1]
                ),
                "behavior_recon": self.decode_behavior(hb, skips_b),
                "z_spikes": self.embed_spikes_from_latent(hs),
                "z_behavior": self.embed_behavior_from_latent(hb),
                "temperature": self.temperature(),
            }
        if mode == "decode":
            hs, skips_s = self.encode_spikes(_given(spikes, "spikes", mode), day)
            cross = [self._to_ann(s) for s in skips_s]
            return {"behavior": self.decode_behavior(self._to_ann(hs), cross)}
        if mode == "simulate":
            hb, skips_b = self.encode_behavior(_given(behavior, "behavior", mode))
            cross = [self._to_snn(s) for s in skips_b]
            y = self.decode_spikes(self._to_snn(hb), cross)
            return {"rates": self.rates_from(y, day, width_out=n_out)}
        if mode == "embed_spikes":
            hs, _ = self.encode_spikes(_given(spikes, "spikes", mode), day)
            return {"z": self.embed_spikes_from_latent(hs)}
        if mode == "embed_behavior":
            hb, _ = self.encode_behavior(_given(behavior, "behavior", mode))
            return {"z": self.embed_behavior_from_latent(hb)}
        raise ValueError(f"unknown mode {mode!r}")

    def encoder_parameters(self, task: Literal["decode", "simulate"]) -> list[nn.Parameter]:
        """Parameters of the encoder a fine-tuning task reads (frozen by ``freeze_encoder``)."""
        if task == "decode":
            mods = [self.spike_encoder, self.adapters.readin]
        else:
            mods = [self.behavior_lift, self.behavior_encoder]
        return [p for m in mods for p in m.parameters()]
