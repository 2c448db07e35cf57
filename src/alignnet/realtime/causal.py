"""Incremental closed-loop decoding with a causal AlignNet (`CausalStreamingDecoder`).

A causal model (``ModelConfig.causal=True``, see `alignnet.models.unet`) computes output bin t
from input bins <= t. Its decode path (per-day read-in -> spike U-Net encoder -> behaviour
U-Net decoder -> read-out) can therefore be run one bin at a time, carrying state instead of
recomputing a window:

- every kernel-3 convolution keeps its last 3 input vectors (a shift buffer, zeros before
  the stream began: the batch model's left zero-padding);
- the behaviour decoder's bottleneck context (`alignnet.models.context`, ``"tcn"``) keeps the
  last ``2 d + 1`` bottleneck steps of each dilated block;
- every LIF layer keeps its membrane potential (eq. 10-12, the eager loop's expression in
  float32, so a layer fed the same currents gives identical spikes);
- U-Net level l (resolution 1/2^l) steps only on bins t with ``t % 2**l == 0``: its pooling
  keeps the previous and current output of the level above (pooled bin j = max(x[2j-1],
  x[2j])), and the transposed convolution that brings a coarse feature back up is a matrix
  per output phase (bin parity).

Eval-mode BatchNorm is a per-channel affine and is folded into the convolution before it;
the per-day read-in (a C x C matrix) is folded into the first convolution. Everything runs
in numpy float32 (tiny matrix-vector products; no torch dispatch per bin).

Equivalence (tested): streaming bins 0..T-1 after `reset` equals the batch decode of the
whole block ``[1, C, T]`` (`decode_continuous`) within float rounding (~1e-6), with the
same normalisation (fixed per-channel statistics: a stored day's, or given ones).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from alignnet.errors import CheckpointError
from alignnet.models.activations import TemporalLIF
from alignnet.realtime.stats import (
    FixedStats,
    resolve_spike_stats,
    stream_block,
    trained_normalizer,
    z_score_bin,
    z_score_block,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from alignnet.api import AlignNet
    from alignnet.models.context import DilatedBlock


def _np(t: torch.Tensor | nn.Module | None) -> np.ndarray:
    """A weight or buffer of the network as float64 numpy."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"expected a tensor of the network, got {type(t).__name__}")
    return t.detach().cpu().double().numpy()


class _Conv:
    """Causal kernel-k convolution, one bin at a time: ``[I] -> [O]`` (BN folded in)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        out_w, in_w, k = weight.shape
        # Tap-major flattening: buffer = [x[t-k+1], ..., x[t]], tap j multiplies x[t-k+1+j].
        self.weight = np.ascontiguousarray(weight.transpose(0, 2, 1).reshape(out_w, k * in_w))
        self.weight = self.weight.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.in_width = in_w
        self.buffer = np.zeros(k * in_w, dtype=np.float32)

    def reset(self) -> None:
        self.buffer.fill(0.0)

    def step(self, x: np.ndarray) -> np.ndarray:
        n = self.in_width
        self.buffer[:-n] = self.buffer[n:]
        self.buffer[-n:] = x
        return self.weight @ self.buffer + self.bias


class _LIF:
    """LIF membrane state of one layer; `step` is eq. 10-12 for one bin: ``[W] -> spikes``."""

    def __init__(self, width: int, *, tau: float, v_threshold: float, v_reset: float) -> None:
        self.tau, self.v_threshold, self.v_reset = tau, v_threshold, v_reset
        self.h = np.full(width, v_reset, dtype=np.float32)

    def reset(self) -> None:
        self.h.fill(self.v_reset)

    def step(self, x: np.ndarray) -> np.ndarray:
        h = self.h
        v = h + (x - (h - self.v_reset)) / self.tau
        fired = v >= self.v_threshold
        self.h = np.where(fired, np.float32(self.v_reset), v)
        return fired.astype(np.float32)


class _ReLU:
    def reset(self) -> None:
        pass

    def step(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, np.float32(0.0))


class _Dilated:
    """A causal `alignnet.models.context.DilatedBlock`, one bottleneck step at a time:
    ``x + W_out relu(W_0 x[j-2d] + W_1 x[j-d] + W_2 x[j] + b) + b_out``."""

    def __init__(self, block: DilatedBlock) -> None:
        w = _np(block.conv.weight)  # [O, I, 3]
        self.taps = tuple(np.ascontiguousarray(w[:, :, k]).astype(np.float32) for k in range(3))
        assert block.conv.bias is not None and block.out.bias is not None
        self.bias = _np(block.conv.bias).astype(np.float32)
        self.out_w = _np(block.out.weight)[:, :, 0].astype(np.float32)
        self.out_b = _np(block.out.bias).astype(np.float32)
        self.dilation = block.dilation
        self.history = np.zeros((2 * self.dilation + 1, w.shape[1]), dtype=np.float32)

    def reset(self) -> None:
        self.history.fill(0.0)

    def step(self, x: np.ndarray) -> np.ndarray:
        self.history[:-1] = self.history[1:]
        self.history[-1] = x
        d, h = self.dilation, self.history
        pre = self.taps[0] @ h[0] + self.taps[1] @ h[d] + self.taps[2] @ h[2 * d] + self.bias
        return x + self.out_w @ np.maximum(pre, np.float32(0.0)) + self.out_b


def _context_steps(net: nn.Module) -> list[_Dilated]:
    """The behaviour decoder's bottleneck context as steppable blocks (none: empty list)."""
    context = getattr(net, "behavior_context", None)
    if context is None or context.kind == "none":
        return []
    if context.kind != "tcn":
        raise CheckpointError(
            f"incremental streaming supports the 'tcn' and 'none' contexts, not {context.kind!r}"
        )
    return [_Dilated(block) for block in context.blocks]


def _fold_conv_bn(conv: nn.Module, bn: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """conv (no bias) -> eval BN as one convolution: ``(weight [O, I, k], bias [O])``."""
    if not isinstance(conv, nn.Conv1d) or not isinstance(bn, nn.BatchNorm1d):
        raise TypeError(
            f"expected Conv1d -> BatchNorm1d, got {type(conv).__name__}, {type(bn).__name__}"
        )
    scale = _np(bn.weight) / np.sqrt(_np(bn.running_var) + bn.eps)
    weight = _np(conv.weight) * scale[:, None, None]
    bias = _np(bn.bias) - _np(bn.running_mean) * scale
    if conv.bias is not None:
        bias = bias + _np(conv.bias) * scale
    return weight, bias


def _activation(module: nn.Module, width: int) -> _LIF | _ReLU:
    if isinstance(module, nn.ReLU):
        return _ReLU()
    if isinstance(module, TemporalLIF):
        lif = module.lif
        return _LIF(width, tau=lif.tau, v_threshold=lif.v_threshold, v_reset=lif.v_reset)
    raise CheckpointError(
        f"incremental streaming supports LIF and ReLU neurons, not {type(module).__name__}"
    )


class _Block:
    """One ConvBlock (conv -> BN -> act, twice), stepped one bin at a time."""

    def __init__(self, block: nn.Module, readin: np.ndarray | None = None) -> None:
        if not isinstance(block, nn.Sequential):
            raise TypeError(f"expected a ConvBlock (nn.Sequential), got {type(block).__name__}")
        conv_a, bn_a, act_a, conv_b, bn_b, act_b = list(block)
        w_a, b_a = _fold_conv_bn(conv_a, bn_a)
        if readin is not None:  # conv(R x) = (W_j R) x for every tap j
            w_a = np.einsum("oik,ic->ock", w_a, readin)
        w_b, b_b = _fold_conv_bn(conv_b, bn_b)
        self.convs = (_Conv(w_a, b_a), _Conv(w_b, b_b))
        self.acts = (_activation(act_a, w_a.shape[0]), _activation(act_b, w_b.shape[0]))
        self.trace: list[list[np.ndarray]] | None = None

    def reset(self) -> None:
        for part in (*self.convs, *self.acts):
            part.reset()

    def step(self, x: np.ndarray) -> np.ndarray:
        for i, (conv, act) in enumerate(zip(self.convs, self.acts, strict=True)):
            x = act.step(conv.step(x))
            if self.trace is not None:
                self.trace[i].append(x)
        return x


def _day_readin(model: AlignNet, day: int | None) -> np.ndarray | None:
    """The day's read-in matrix ``[C, N_d]`` in front of the spike encoder, or None (identity)."""
    if day is None or not model.days.has_adapter(int(day)):
        return None
    return _np(model.network.adapters.readin_weight(int(day)))


class CausalStreamingDecoder:
    """Decode behaviour bin by bin from a live spike stream, updating a causal AlignNet's
    state incrementally (constant work per bin, independent of any window length).

    Args:
        model: a trained `AlignNet` built with ``causal=True`` and fine-tuned for ``"decode"``.
        day: recording day whose stored statistics (and per-day read-in) to use.
        spike_mean, spike_std: ``[C]`` counts-per-bin statistics for a day the model has not
            seen (e.g. `alignnet.realtime.spike_statistics` of a calibration block); override
            ``day``'s statistics.
        trace: record every spiking/ReLU layer's output per bin (`traces`; for tests).

    Attributes:
        n_channels, n_behavior: C and D.
        n_levels: U-Net levels K (level l updates every ``2**l`` bins).
        bins_seen: bins received since the last `reset`.
    """

    def __init__(
        self, model: AlignNet, *, trace: bool = False, **stats: Unpack[FixedStats]
    ) -> None:
        cfg = model.config.model
        day = stats.get("day")
        if "decode" not in model.tasks:
            raise CheckpointError(
                "this model has not been fine-tuned for decoding (tasks "
                f"{model.tasks}); run finetune(task='decode') first"
            )
        if not cfg.causal:
            raise CheckpointError(
                "incremental streaming needs a causal model (ModelConfig.causal=True, the "
                "default of `alignnet pretrain` and AlignNet()); this checkpoint is the acausal "
                "window model - use StreamingDecoder for it, or train a causal one"
            )
        net = model.network
        readin = _day_readin(model, day)  # [C, N_d] or None (identity)
        self.n_channels = cfg.n_channels if readin is None else readin.shape[1]
        self.n_behavior = cfg.n_behavior
        self.day = day
        self._spike_mean, self._spike_std = resolve_spike_stats(
            model.normalizer, n_channels=self.n_channels, **stats
        )
        self._normalizer = trained_normalizer(model.normalizer)
        enc, dec = net.spike_encoder, net.behavior_decoder
        self.n_levels = len(enc.blocks)
        self._enc = [
            _Block(block, readin if i == 0 else None) for i, block in enumerate(enc.blocks)
        ]
        bottleneck = enc.bottleneck[0]
        self._bottleneck_w = _np(bottleneck.weight)[:, :, 0].astype(np.float32)
        self._bottleneck_b = _np(bottleneck.bias).astype(np.float32)
        self._context = _context_steps(net)
        # Decoder: dec.ups[i] / dec.blocks[i] serve level K-1-i.
        self._dec = [_Block(block) for block in reversed(list(dec.blocks))]
        self._up = []
        for up in reversed(list(dec.ups)):
            w = _np(up.weight)  # [in, out, 2]
            taps = tuple(np.ascontiguousarray(w[:, :, k].T).astype(np.float32) for k in range(2))
            self._up.append((taps, _np(up.bias).astype(np.float32)))
        head, readout = dec.head, net.behavior_readout
        w_head, w_out = _np(head.weight)[:, :, 0], _np(readout.weight)[:, :, 0]
        self._out_w = (w_out @ w_head).astype(np.float32)
        self._out_b = (w_out @ _np(head.bias) + _np(readout.bias)).astype(np.float32)
        self._scratch = np.zeros(self.n_channels, dtype=np.float64)
        self.traces: dict[str, list[list[np.ndarray]]] | None = None
        if trace:
            self.traces = {}
            for name, blocks in (("encoder", self._enc), ("decoder", self._dec)):
                for level, block in enumerate(blocks):
                    block.trace = [[], []]
                    self.traces[f"{name}{level}"] = block.trace
        self.reset()

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, **stats: Unpack[FixedStats]
    ) -> CausalStreamingDecoder:
        """Load a checkpoint written by `AlignNet.save` (or a training run) and wrap it."""
        from alignnet.api import AlignNet

        return cls(AlignNet.load(path, device="cpu"), **stats)

    def reset(self) -> None:
        """Forget every bin received: convolution buffers to zero, membranes to rest."""
        for step in self._context:
            step.reset()
        for block in (*self._enc, *self._dec):
            block.reset()
            if block.trace is not None:
                for layer in block.trace:
                    layer.clear()
        k = self.n_levels
        self._enc_cur = [np.full(1, -np.inf, dtype=np.float32) for _ in range(k)]
        self._enc_prev = [np.full(1, -np.inf, dtype=np.float32) for _ in range(k)]
        self._dec_cur: list[np.ndarray | None] = [None] * k
        self._latent: np.ndarray | None = None
        self.bins_seen = 0

    def _normalise(self, counts: np.ndarray) -> np.ndarray:
        z = z_score_bin(
            counts,
            spike_mean=self._spike_mean,
            spike_std=self._spike_std,
            scratch=self._scratch,
            source="CausalStreamingDecoder.step",
        )
        return z.astype(np.float32)

    def step_normalised(self, z: np.ndarray) -> np.ndarray:
        """Advance one bin from z-scored spikes ``[C]``; returns the normalised estimate [D]."""
        t, k = self.bins_seen, self.n_levels
        x = z
        for level in range(k):  # encoder: level l steps when t % 2**l == 0
            if t % (1 << level):
                break
            if level:
                x = np.maximum(self._enc_prev[level - 1], self._enc_cur[level - 1])
            self._enc_prev[level] = self._enc_cur[level]
            x = self._enc_cur[level] = self._enc[level].step(x)
        if t % (1 << k) == 0:
            pooled = np.maximum(self._enc_prev[k - 1], self._enc_cur[k - 1])
            latent = self._bottleneck_w @ pooled + self._bottleneck_b
            latent = np.maximum(latent, np.float32(0.0))
            for step in self._context:  # the behaviour decoder's bottleneck context
                latent = step.step(latent)
            self._latent = latent
        for level in range(k - 1, -1, -1):  # decoder, coarse to fine
            if t % (1 << level):
                continue
            below = self._latent if level == k - 1 else self._dec_cur[level + 1]
            assert below is not None  # the coarsest level updates first
            taps, bias = self._up[level]
            up = taps[(t >> level) & 1] @ below + bias
            block_in = np.concatenate([up, self._enc_cur[level]])
            self._dec_cur[level] = self._dec[level].step(block_in)
        self.bins_seen = t + 1
        return self._out_w @ self._dec_cur[0] + self._out_b

    def step(self, spike_counts: np.ndarray) -> np.ndarray:
        """Add one bin and decode it.

        Args:
            spike_counts: ``[C]`` spike counts of the newest bin (any real dtype).

        Returns:
            ``[D]`` float32 behaviour estimate (training units) for that bin, computed from
            it and the bins before it since the last `reset`.
        """
        return self._normalizer.inverse_behavior_bins(
            self.step_normalised(self._normalise(spike_counts))
        )

    def run(self, counts: np.ndarray) -> np.ndarray:
        """Stream a block bin by bin: ``[T, C]`` counts -> ``[T, D]`` float32 estimates."""
        return stream_block(self.step, counts, n_out=self.n_behavior)


@torch.no_grad()
def decode_continuous(
    model: AlignNet, counts: np.ndarray, **stats: Unpack[FixedStats]
) -> np.ndarray:
    """Batch decode of a causal model over one continuous block, as one sequence.

    Args:
        model: a causal `AlignNet` fine-tuned for decoding.
        counts: ``[T, C]`` spike counts (any T >= 1; the causal U-Net needs no window length).
        day, spike_mean, spike_std: the fixed normalisation, as for `CausalStreamingDecoder`.

    Returns:
        ``[T, D]`` float32 estimates in training units; row t uses bins 0..t only (the same
        values `CausalStreamingDecoder` streams).
    """
    if not model.config.model.causal:
        raise CheckpointError("decode_continuous needs a causal model (ModelConfig.causal=True)")
    if "decode" not in model.tasks:
        raise CheckpointError("this model has not been fine-tuned for decoding")
    day = stats.get("day")
    readin = _day_readin(model, day)
    c = model.config.model.n_channels if readin is None else readin.shape[1]
    mean, std = resolve_spike_stats(model.normalizer, n_channels=c, **stats)
    z = z_score_block(counts, spike_mean=mean, spike_std=std, source="decode_continuous")
    z = z.T[None]  # [1, C, T]
    net = model.network.eval()
    device = next(net.parameters()).device
    day_t = torch.tensor([-1 if day is None else int(day)], device=device)
    out = net(spikes=torch.from_numpy(z).to(device), day=day_t, mode="decode")["behavior"]
    y = out[0].float().cpu().numpy().T  # [T, D]
    return trained_normalizer(model.normalizer).inverse_behavior_bins(y)
