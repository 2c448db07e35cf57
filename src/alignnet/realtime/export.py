"""Export the decode / simulate paths of a trained AlignNet to TorchScript or ONNX.

The exported graph is self-contained: normalisation statistics are folded in as constants, so
it maps raw units to raw units.

- ``task="decode"``: spike counts ``[B, C, L]`` (float32, counts per bin) -> behaviour
  ``[B, D, L]`` (float32, training units). Spikes are normalised with one fixed set of
  per-channel statistics (a recording ``day`` stored in the checkpoint, or explicit
  ``spike_mean``/``spike_std`` for a new day) and go through that day's read-in.
- ``task="simulate"``: behaviour ``[B, D, L]`` (training units) -> rates ``[B, C, L]``
  (expected counts per bin, >= 0).

The batch size B is dynamic; C, D and L are fixed by the model. Spiking layers are exported
through `TracingLIF`, a plain-tensor-op copy of the LIF forward (the fused path calls numba
kernels or writes into preallocated buffers, and its custom autograd Function is for
training): it evaluates the eager loop's expression, operation for operation, so its spikes
are identical to the eager loop's and to the CPU fused (numba) kernel's, which uses the same
expression. The LIF loop over the L bins is unrolled in the exported graph.

ONNX export uses the ``torch.export``-based exporter (``torch.onnx.export(..., dynamo=True)``),
which needs the ``onnxscript`` package; onnxruntime runs the result.
"""

from __future__ import annotations

import copy
import importlib.util
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from alignnet.errors import CheckpointError, DataError
from alignnet.models.bitplane import (
    BitplaneBlock,
    bitplane_scale,
    decode_planes,
    float_planes,
    plane_weights,
    quantize_levels,
)
from alignnet.models.lif_step import lif_charge
from alignnet.models.neurons import MultiStepLIF
from alignnet.names import ExportFormat, OnnxExporter, Task
from alignnet.realtime.stats import resolve_spike_stats, trained_normalizer
from alignnet.utils.atomic import atomic_path

if TYPE_CHECKING:
    from alignnet.api import AlignNet

ONNX_EXPORTERS = ("auto", "dynamo", "torchscript")
FORMATS = ("onnx", "torchscript")
TASKS = ("decode", "simulate")
ONNX_OPSET = 18


class TracingLIF(nn.Module):
    """Inference-only LIF over ``[T, B, ...]`` in plain tensor ops (traceable, exportable).

    The eager loop's expression (`alignnet.models.neurons.lif_eager`):
    ``V[t] = H[t-1] + (I[t] - (H[t-1] - V_reset)) / tau``, ``S[t] = V[t] >= v_th``,
    ``H[t] = V_reset where S[t] else V[t]``, ``H[-1] = V_reset``.
    """

    def __init__(self, *, tau: float, v_threshold: float, v_reset: float) -> None:
        super().__init__()
        self.tau = float(tau)
        self.v_threshold = float(v_threshold)
        self.v_reset = float(v_reset)

    @classmethod
    def like(cls, lif: MultiStepLIF) -> TracingLIF:
        return cls(tau=lif.tau, v_threshold=lif.v_threshold, v_reset=lif.v_reset)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: input current ``[T, B, ...]`` -> spikes (0.0 / 1.0) of the same shape."""
        h = torch.full_like(x[0], self.v_reset)
        spikes = []
        for x_t in x.unbind(0):
            v = lif_charge(h, x_t, self.tau, self.v_reset)
            fired = v >= self.v_threshold
            spikes.append(fired.to(x.dtype))
            h = torch.where(fired, self.v_reset, v)
        return torch.stack(spikes)


class TracingBitplane(nn.Module):
    """Inference-only `alignnet.models.bitplane.BitplaneBlock` in plain float ops.

    Same result as the block in eval mode: ``I = clip(round(x / scale), 0, 2^n - 1)``, planes
    ``B_k = floor(I / 2^k) - 2 floor(I / 2^(k+1))`` (exact in float for n <= 16), MSB first,
    through ``inner``, decoded as ``scale * sum_k 2^k B_k``. The scale is the block's frozen
    ``running_max / (2^n - 1)`` (an uncalibrated block uses the batch maximum, as it does).
    """

    running_max: torch.Tensor
    significance: torch.Tensor

    def __init__(self, block: BitplaneBlock, inner: nn.Module | None) -> None:
        super().__init__()
        self.n_bits = int(block.n_bits)
        self.inner = inner
        self.calibrated = bool(block.calibrated)
        self.register_buffer("running_max", block.running_max.detach().clone())
        self.register_buffer("significance", plane_weights(self.n_bits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: any shape -> decoded activations, same shape."""
        top = self.running_max if self.calibrated else x.max().clamp_min(0)
        scale = bitplane_scale(top.to(self.running_max.dtype), self.n_bits, x.dtype)
        spikes = float_planes(quantize_levels(x, scale, self.n_bits), self.n_bits)
        if self.inner is not None:
            spikes = self.inner(spikes)
        return decode_planes(spikes, scale, weights=self.significance)


def inference_copy(network: nn.Module) -> nn.Module:
    """Deep copy of ``network`` on the CPU in eval mode with every `MultiStepLIF` swapped for
    a `TracingLIF` and every `BitplaneBlock` for a `TracingBitplane` (the original network
    is not touched)."""
    net = copy.deepcopy(network).cpu().eval()
    for module in list(net.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, MultiStepLIF):
                setattr(module, name, TracingLIF.like(child))
    for module in list(net.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, BitplaneBlock):
                setattr(module, name, TracingBitplane(child, child.inner))
    for p in net.parameters():
        p.requires_grad_(False)
    return net


class DecodeGraph(nn.Module):
    """Spike counts ``[B, C, L]`` -> behaviour ``[B, D, L]`` (training units), statistics folded.

    Args:
        network: an `AlignNetModel` (use `inference_copy` for a traceable one).
        spike_mean, spike_std: ``[C]`` counts-per-bin statistics.
        behavior_mean, behavior_std: ``[D]`` behaviour statistics of the checkpoint.
        day: recording day id passed to the per-day read-in (-1: identity).
    """

    spike_mean: torch.Tensor
    spike_std: torch.Tensor
    behavior_mean: torch.Tensor
    behavior_std: torch.Tensor

    def __init__(
        self,
        network: nn.Module,
        *,
        spike_mean: np.ndarray,
        spike_std: np.ndarray,
        behavior_mean: np.ndarray,
        behavior_std: np.ndarray,
        day: int = -1,
    ) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("spike_mean", _column(spike_mean))
        self.register_buffer("spike_std", _column(spike_std))
        self.register_buffer("behavior_mean", _column(behavior_mean))
        self.register_buffer("behavior_std", _column(behavior_std))
        self.day = int(day)  # a constant of the graph: that day's read-in, no data-dependent op

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        z = (spikes - self.spike_mean) / self.spike_std
        out = self.network(spikes=z, day=self.day, mode="decode")["behavior"]
        return out * self.behavior_std + self.behavior_mean


class SimulateGraph(nn.Module):
    """Behaviour ``[B, D, L]`` (training units) -> rates ``[B, C, L]`` (counts per bin)."""

    behavior_mean: torch.Tensor
    behavior_std: torch.Tensor

    def __init__(
        self, network: nn.Module, *, behavior_mean: np.ndarray, behavior_std: np.ndarray
    ) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("behavior_mean", _column(behavior_mean))
        self.register_buffer("behavior_std", _column(behavior_std))

    def forward(self, behavior: torch.Tensor) -> torch.Tensor:
        z = (behavior - self.behavior_mean) / self.behavior_std
        return self.network(behavior=z, mode="simulate")["rates"]


def _column(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float32))[:, None]


def build_graph(
    model: AlignNet,
    *,
    task: Task,
    day: int | None = None,
    spike_mean: np.ndarray | None = None,
    spike_std: np.ndarray | None = None,
    traceable: bool = True,
) -> nn.Module:
    """The exportable module of ``task`` (CPU, eval, statistics folded in).

    ``day``/``spike_mean``/``spike_std`` choose the spike statistics of the decode path (see
    `alignnet.realtime.stats.resolve_spike_stats`); the simulate path ignores them.
    ``traceable=False`` keeps the network's own LIF implementation (the PyTorch reference
    that exported files are checked against) instead of `TracingLIF`.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if task not in model.tasks:
        raise CheckpointError(
            f"this model has not been fine-tuned for {task!r}; run finetune(task={task!r}) first"
        )
    norm = model.normalizer
    if norm is None:
        raise CheckpointError("the model has no behaviour statistics (never trained)")
    if traceable:
        network = inference_copy(model.network)
    else:
        network = copy.deepcopy(model.network).cpu().eval()
    if task == "simulate":
        return SimulateGraph(
            network, behavior_mean=norm.behavior_mean, behavior_std=norm.behavior_std
        ).eval()
    mean, std = resolve_spike_stats(
        norm,
        n_channels=model.config.model.n_channels,
        day=day,
        spike_mean=spike_mean,
        spike_std=spike_std,
    )
    return DecodeGraph(
        network,
        spike_mean=mean,
        spike_std=std,
        behavior_mean=norm.behavior_mean,
        behavior_std=norm.behavior_std,
        day=-1 if day is None else day,
    ).eval()


def example_input(model: AlignNet, *, task: Task, batch: int = 2) -> torch.Tensor:
    """A zero input of the task's shape: ``[batch, C, L]`` (decode) or ``[batch, D, L]``."""
    m = model.config.model
    width = m.n_channels if task == "decode" else m.n_behavior
    return torch.zeros(batch, width, m.window_len)


def export_model(
    checkpoint: str | Path | AlignNet,
    *,
    format: ExportFormat,  # the CLI's word
    path: str | Path,
    task: Task = "decode",
    day: int | None = None,
    spike_mean: np.ndarray | None = None,
    spike_std: np.ndarray | None = None,
    onnx_exporter: OnnxExporter = "auto",
    overwrite: bool = False,
) -> Path:
    """Export one path of a trained model to a TorchScript (``.pt``) or ONNX (``.onnx``) file.

    Args:
        checkpoint: checkpoint file written by `AlignNet.save`, or an `AlignNet`.
        format: ``"torchscript"`` (``torch.jit.trace`` + ``freeze``; load with
            ``torch.jit.load``) or ``"onnx"`` (opset 18; input ``"spikes"``/``"behavior"``,
            output ``"behavior"``/``"rates"``, dynamic batch axis ``"batch"``).
        path: output file, written atomically.
        task: ``"decode"`` (counts ``[B, C, L]`` -> behaviour ``[B, D, L]``) or
            ``"simulate"`` (behaviour ``[B, D, L]`` -> rates ``[B, C, L]``).
        day, spike_mean, spike_std: spike statistics folded into the decode graph.
        onnx_exporter: ``"dynamo"`` (``torch.export``-based, needs ``onnxscript``; tens of
            seconds), ``"torchscript"`` (PyTorch's older tracer-based exporter, deprecated
            upstream but fast and dependency-free) or ``"auto"`` (dynamo when ``onnxscript`` is
            installed). Both give the same graph semantics.
        overwrite: replace an existing ``path`` (otherwise `FileExistsError`).

    Returns:
        ``path``.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if onnx_exporter not in ONNX_EXPORTERS:
        raise ValueError(f"onnx_exporter must be one of {ONNX_EXPORTERS}, got {onnx_exporter!r}")
    model = _as_model(checkpoint)
    graph = build_graph(model, task=task, day=day, spike_mean=spike_mean, spike_std=spike_std)
    example = example_input(model, task=task)
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp, torch.no_grad():
        if format == "torchscript":
            traced = torch.jit.trace(graph, (example,), check_trace=False)
            torch.jit.save(torch.jit.freeze(traced.eval()), str(tmp))
        else:
            export_onnx_file(graph, example, tmp, task=task, exporter=onnx_exporter)
    return path


def _as_model(checkpoint: str | Path | AlignNet) -> AlignNet:
    from alignnet.api import AlignNet

    if isinstance(checkpoint, AlignNet):
        return checkpoint
    return AlignNet.load(checkpoint, device="cpu")


def io_names(task: Task) -> tuple[str, str]:
    """(input name, output name) of an exported graph of ``task``."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    return ("spikes", "behavior") if task == "decode" else ("behavior", "rates")


def onnxscript_available() -> bool:
    return importlib.util.find_spec("onnxscript") is not None


def export_onnx_file(
    graph: nn.Module, example: torch.Tensor, out: Path, *, task: Task, exporter: str
) -> None:
    """Write ``graph`` (one input, dynamic batch axis) to the ONNX file ``out`` (opset 18)."""
    in_name, out_name = io_names(task)
    if exporter == "auto":
        exporter = "dynamo" if onnxscript_available() else "torchscript"
    if exporter == "dynamo":
        if not onnxscript_available():
            raise RuntimeError(
                "the dynamo ONNX exporter needs the 'onnxscript' package (pip install "
                "onnxscript), or use onnx_exporter='torchscript'"
            )
        program = torch.onnx.export(
            graph,
            (example,),
            dynamo=True,
            input_names=[in_name],
            output_names=[out_name],
            dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
            opset_version=ONNX_OPSET,
            external_data=False,
            verbose=False,
        )
        if program is None:
            raise RuntimeError("torch.onnx.export(dynamo=True) returned no program")
        program.save(str(out), external_data=False)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            graph,
            (example,),
            str(out),
            dynamo=False,
            input_names=[in_name],
            output_names=[out_name],
            dynamic_axes={in_name: {0: "batch"}, out_name: {0: "batch"}},
            opset_version=ONNX_OPSET,
        )


class ExportedRunner:
    """Run an exported file on numpy arrays (CPU): ``runner(x [B, *, L]) -> [B, *, L]``.

    Args:
        path: a file written by `export_model`.
        format: ``"torchscript"`` or ``"onnx"`` (onnxruntime, CPU provider).
        num_threads: intra-op threads of the runtime (1 for closed loop).
    """

    def __init__(self, path: str | Path, *, format: ExportFormat, num_threads: int = 1) -> None:
        self.path, self.format = Path(path), format
        if format == "torchscript":
            self._module = torch.jit.load(str(self.path), map_location="cpu").eval()
        elif format == "onnx":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = num_threads
            options.inter_op_num_threads = 1
            self._session = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
            self._input = self._session.get_inputs()[0].name
        else:
            raise ValueError(f"format must be one of {FORMATS}, got {format!r}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.format == "onnx":
            return self._session.run(None, {self._input: x})[0]
        with torch.inference_mode():
            return self._module(torch.from_numpy(x)).numpy()


def check_export(
    checkpoint: str | Path | AlignNet,
    path: str | Path,
    *,
    format: ExportFormat,
    task: Task = "decode",
    day: int | None = None,
    spike_mean: np.ndarray | None = None,
    spike_std: np.ndarray | None = None,
    batch: int = 4,
    seed: int = 0,
) -> float:
    """Largest absolute difference between an exported file and the PyTorch model.

    Runs the file (through `ExportedRunner`) and the PyTorch network with its own LIF
    implementation and the same folded statistics (``build_graph(..., traceable=False)``) on
    one random input: Poisson counts (mean 1 per bin) ``[batch, C, L]`` for decode, behaviour
    ``[batch, D, L]`` drawn around the training mean with the training std for simulate.
    Outputs are in the task's units (behaviour units / counts per bin).
    """
    model = _as_model(checkpoint)
    rng = np.random.default_rng(seed)
    m, norm = model.config.model, trained_normalizer(model.normalizer)
    if task == "decode":
        x = rng.poisson(1.0, size=(batch, m.n_channels, m.window_len)).astype(np.float32)
        graph = build_graph(
            model, task=task, day=day, spike_mean=spike_mean, spike_std=spike_std, traceable=False
        )
    else:
        z = rng.standard_normal((batch, m.n_behavior, m.window_len))
        x = (z * norm.behavior_std[:, None] + norm.behavior_mean[:, None]).astype(np.float32)
        graph = build_graph(model, task=task, traceable=False)
    with torch.inference_mode():
        reference = graph(torch.from_numpy(x)).numpy()
    got = ExportedRunner(path, format=format)(x)
    if got.shape != reference.shape:
        raise DataError(f"shape {got.shape}, expected {reference.shape}", source=path)
    return float(np.abs(got - reference).max())
