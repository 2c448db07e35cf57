"""Spike and energy accounting: per-layer firing rates, synaptic operations and energy.

:func:`profile_model` runs one forward pass of a model on an example input with forward hooks
and reports, per layer:

- spiking layers (any module with ``record`` / ``last_firing_rate`` / ``last_time_steps``, e.g.
  :class:`~alignnet.models.neurons.MultiStepLIF`, :class:`~alignnet.models.bitplane.BitplaneBlock`):
  output firing rate (mean spikes per neuron per time step) and time steps T;
- weight layers (``Conv1d/2d/3d``, ``ConvTranspose1d/2d/3d``, ``Linear``): multiply-accumulates
  (MACs) of the layer run as an ANN on this input, the kind of its input (binary ``spikes``,
  non-negative integer ``counts``, or ``real``), and synaptic operations.

Rules (stated in :data:`ASSUMPTIONS` and ``docs/spiking.md``):

- MACs count every time step the layer sees: a 1-D temporal conv over ``L`` bins or a 2-D conv
  over a ``[T*B, ...]`` batch already includes all steps, so ``MACs = MACs per step x T``.
- Spiking input: ``SynOps = MACs x input firing rate`` (= per-step MACs x rate x T): only
  synapses whose input spiked do an accumulate. Count input (e.g. binned spike counts):
  ``SynOps = MACs x mean count`` (a count of n is n accumulates). Real input: the layer must
  multiply, so it is charged its MACs.
- Energy (45 nm CMOS, Horowitz 2014): 0.9 pJ per accumulate (32-bit float add), 4.6 pJ per
  multiply-accumulate (32-bit float mult + add). Only the arithmetic of weight layers is
  counted: no memory traffic, no neuron-state updates, no normalisation/pooling, no bit-plane
  encode/decode.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from alignnet.models.alignnet import AlignNetModel
from alignnet.training.flops import TRANSPOSED_LAYERS, WEIGHT_LAYERS, layer_macs

E_AC_PJ = 0.9
E_MAC_PJ = 4.6

ASSUMPTIONS = (
    "MACs: every multiply-accumulate of the layer run as an ANN on this input, all time steps.",
    "SynOps: MACs x input firing rate for binary spike input (MACs x mean count for count "
    "input); layers with real-valued input are charged their MACs.",
    "Energy, 45 nm (Horowitz 2014): 0.9 pJ per accumulate, 4.6 pJ per multiply-accumulate; "
    "arithmetic of conv/linear layers only (no memory access, neuron updates, normalisation, "
    "pooling, or bit-plane encode/decode).",
    "Per window: totals of the example batch divided by its number of windows.",
)


@dataclass
class LayerProfile:
    """One row of the table; operation counts and energies are per window."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    time_steps: int | None = None
    firing_rate: float | None = None
    input_kind: str | None = None
    input_rate: float | None = None
    macs: float = 0.0
    synops: float = 0.0
    energy_ann_nj: float = 0.0
    energy_snn_nj: float = 0.0


@dataclass
class ProfileReport:
    """Per-layer rows plus totals (per window) and the assumptions behind the figures."""

    layers: list[LayerProfile]
    n_windows: int
    e_ac_pj: float = E_AC_PJ
    e_mac_pj: float = E_MAC_PJ
    assumptions: tuple[str, ...] = field(default=ASSUMPTIONS)

    @property
    def total_macs(self) -> float:
        return sum(row.macs for row in self.layers)

    @property
    def total_synops(self) -> float:
        """Operations as run by the hybrid network: SynOps where input spikes, else MACs."""
        return sum(row.synops for row in self.layers)

    @property
    def energy_ann_nj(self) -> float:
        return sum(row.energy_ann_nj for row in self.layers)

    @property
    def energy_snn_nj(self) -> float:
        return sum(row.energy_snn_nj for row in self.layers)

    def to_dict(self) -> dict:
        """JSON-ready dict (rows, totals, assumptions)."""
        return {
            "n_windows": self.n_windows,
            "e_ac_pj": self.e_ac_pj,
            "e_mac_pj": self.e_mac_pj,
            "layers": [asdict(row) for row in self.layers],
            "total_macs_per_window": self.total_macs,
            "total_ops_per_window": self.total_synops,
            "energy_ann_nj_per_window": self.energy_ann_nj,
            "energy_hybrid_nj_per_window": self.energy_snn_nj,
            "assumptions": list(self.assumptions),
        }

    def to_table(self) -> str:
        """Plain-text table, one line per layer, then totals and assumptions."""
        nw = min(60, max([5, *(len(r.name) for r in self.layers)]))
        head = (
            f"{'layer':<{nw}} {'type':<16} {'T':>4} {'fire rate':>9} {'input':>7} {'in rate':>8} "
            f"{'MACs':>10} {'SynOps':>10} {'E ANN nJ':>9} {'E SNN nJ':>9}"
        )
        lines = [head, "-" * len(head)]
        for r in self.layers:
            lines.append(
                f"{r.name[-nw:]:<{nw}} {r.kind[:16]:<16} {_fmt(r.time_steps, 'd'):>4} "
                f"{_fmt(r.firing_rate, '.3f'):>9} {r.input_kind or '':>7} "
                f"{_fmt(r.input_rate, '.3f'):>8} {_si(r.macs):>10} {_si(r.synops):>10} "
                f"{r.energy_ann_nj:>9.2f} {r.energy_snn_nj:>9.2f}"
            )
        ratio = self.energy_ann_nj / self.energy_snn_nj if self.energy_snn_nj > 0 else math.nan
        lines += [
            "-" * len(head),
            f"per window (mean of {self.n_windows}): MACs {_si(self.total_macs)}, operations as "
            f"run {_si(self.total_synops)}, energy ANN {self.energy_ann_nj:.2f} nJ, hybrid "
            f"SNN {self.energy_snn_nj:.2f} nJ (ANN / SNN = {ratio:.2f}x)",
            "assumptions:",
            *(f"  - {text}" for text in self.assumptions),
        ]
        return "\n".join(lines)


class SpikeAutoencoderPath(nn.Module):
    """Spikes ``[N, C, L]`` -> ``network.encode_spikes`` -> ``network.decode_spikes``: both
    spiking towers of an ``AlignNetModel`` in one forward (for :func:`profile_model`)."""

    def __init__(self, network: AlignNetModel) -> None:
        super().__init__()
        self.network = network

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        """``[N, C, L]`` network input -> reconstruction ``[N, C, L]``."""
        latent, skips = self.network.encode_spikes(spikes, None)
        return self.network.decode_spikes(latent, skips)


def _fmt(value, spec: str) -> str:
    return "" if value is None else format(value, spec)


def _si(value: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.2f}{unit}"
    return f"{value:.0f}"


def input_kind(x: torch.Tensor) -> tuple[str, float]:
    """``("spikes", rate)`` for 0/1 input, ``("counts", mean)`` for non-negative integers,
    ``("real", mean |x|)`` otherwise."""
    x = x.detach()
    if x.is_floating_point():
        integer = bool(torch.all(x == torch.round(x))) and bool(torch.all(x >= 0))
    else:
        integer = bool(torch.all(x >= 0))
    if integer:
        kind = "spikes" if bool(torch.all(x <= 1)) else "counts"
        return kind, float(x.float().mean())
    return "real", float(x.float().abs().mean())


def is_spiking(module: nn.Module) -> bool:
    """Duck-typed: a module that can record its firing rate and time steps."""
    return all(hasattr(module, a) for a in ("record", "last_firing_rate", "last_time_steps"))


@torch.no_grad()
def profile_model(
    model: nn.Module,
    example_input: torch.Tensor | tuple,
    *,
    n_windows: int | None = None,
    e_ac_pj: float = E_AC_PJ,
    e_mac_pj: float = E_MAC_PJ,
) -> ProfileReport:
    """Run ``model(example_input)`` once (eval mode, no grad) and account every layer.

    Args:
        model: any module; spiking layers are found by :func:`is_spiking`, weight layers by type.
        example_input: a tensor (e.g. spikes ``[N, C, L]``) or a tuple of positional inputs.
        n_windows: windows in the example (default: its first dimension) - figures are per window.

    The model's training flag and the spiking layers' ``record`` flags are restored afterwards.
    """
    inputs = example_input if isinstance(example_input, tuple) else (example_input,)
    # A checkpoint loads on its training device ("auto": the GPU when there is one); the
    # example is built on the CPU, so it goes where the weights are.
    weight = next(model.parameters(), None)
    if weight is not None:
        inputs = tuple(x.to(weight.device) if torch.is_tensor(x) else x for x in inputs)
    n = int(n_windows if n_windows is not None else inputs[0].shape[0])
    rows: list[LayerProfile] = []
    handles = []
    spiking = [(name, m) for name, m in model.named_modules() if is_spiking(m)]
    saved_record = [m.record for _, m in spiking]

    def weight_hook(name):
        def hook(module, args, output):
            x = args[0]
            macs = layer_macs(module, x, output) / n
            kind, rate = input_kind(x)
            synops = macs * rate if kind in ("spikes", "counts") else macs
            rows.append(
                LayerProfile(
                    name=name,
                    kind=type(module).__name__,
                    output_shape=tuple(output.shape),
                    input_kind=kind,
                    input_rate=rate if kind != "real" else None,
                    macs=macs,
                    synops=synops,
                    energy_ann_nj=macs * e_mac_pj / 1e3,
                    energy_snn_nj=(synops * e_ac_pj if kind != "real" else macs * e_mac_pj) / 1e3,
                )
            )

        return hook

    def spike_hook(name):
        def hook(module, args, output):
            rows.append(
                LayerProfile(
                    name=name,
                    kind=type(module).__name__,
                    output_shape=tuple(output.shape),
                    time_steps=module.last_time_steps,
                    firing_rate=module.last_firing_rate,
                )
            )

        return hook

    was_training = model.training
    try:
        for name, module in model.named_modules():
            if isinstance(module, WEIGHT_LAYERS + TRANSPOSED_LAYERS):
                handles.append(module.register_forward_hook(weight_hook(name or "(model)")))
        for name, module in spiking:
            module.record = True
            handles.append(module.register_forward_hook(spike_hook(name or "(model)")))
        model.eval()
        model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for (_, module), flag in zip(spiking, saved_record, strict=True):
            module.record = flag
        model.train(was_training)
    return ProfileReport(layers=rows, n_windows=n, e_ac_pj=e_ac_pj, e_mac_pj=e_mac_pj)
