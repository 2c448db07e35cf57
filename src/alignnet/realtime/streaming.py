"""Closed-loop decoding one 20 ms bin at a time (`StreamingDecoder`).

Each call to `StreamingDecoder.step` takes the spike counts of the newest bin ``[C]``, writes
them (normalised) into a ring buffer of the last ``window_bins`` bins and runs the decode path
of the network (spike encoder -> behaviour decoder) on that one window ``[1, C, L]``. It
returns the behaviour estimate ``[D]`` (training units) of the newest bin, i.e. exactly the
value that `alignnet.api.AlignNet.decode` gives at the last bin of the window that ends at
this bin. The network is run whole on every step: in the temporal layout every window starts
its LIF neurons at rest, so no state can be carried from one window to the next without
changing the result.

Normalisation is the one batch decoding uses (per-channel z-scores, computed in float64 and
rounded to float32, `alignnet.data.preprocess.NormStats.transform_spikes`), with fixed
statistics: those the checkpoint stores for the recording ``day``, or statistics given by the
caller (`spike_statistics` fits them from a block of unlabelled bins of a new day).

Warm-up (the first ``window_bins - 1`` bins of a stream):

- ``causal=False`` (default): no estimate until the buffer is full - `step` returns NaN
  ``[D]`` and `StreamingDecoder.ready` is False. From then on the outputs equal batch
  decoding of the same windows.
- ``causal=True``: an estimate from the very first bin. The part of the window before the
  stream began is filled with the per-channel mean of the (normalised) bins received so far,
  so every output depends only on bins already received. Once the buffer is full the two
  modes are identical.

Backends (what runs the network on each window):

- ``"torch"`` (default): the PyTorch module itself (fused LIF), eager.
- ``"torchscript"``: the decode graph traced with `alignnet.realtime.export.TracingLIF`.
- ``"onnx"``: the same graph exported to ONNX and run by onnxruntime on one thread (needs
  ``onnxruntime``).
- ``"compile"``: the same graph through ``torch.compile`` (inductor, fixed shape ``[1, C, L]``,
  full graph). The fastest by far (the LIF loops become fused loops instead of hundreds of
  tiny kernels) but it compiles when the decoder is built: about a minute on a 2-core CPU for
  the default model size; needs a C++ compiler.

The exported backends run on the normalised window (their graph has identity statistics) so
normalisation stays the float64 one above; spikes are identical to the PyTorch model's for
the paper's tau = 2 (see `alignnet.realtime.export`).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from alignnet.errors import CheckpointError
from alignnet.realtime.stats import (
    resolve_spike_stats,
    stream_block,
    trained_normalizer,
    z_score_bin,
)

if TYPE_CHECKING:
    from alignnet.api import AlignNet

Backend = Literal["torch", "torchscript", "onnx", "compile"]
BACKENDS = ("torch", "torchscript", "onnx", "compile")


class StreamingDecoder:
    """Decode behaviour bin by bin from a live spike stream (CPU closed loop).

    Args:
        model: a trained `AlignNet` (fine-tuned for ``"decode"``).
        day: recording day whose stored statistics (and per-day read-in) to use.
        spike_mean, spike_std: ``[C]`` counts-per-bin statistics for a day the model has not
            seen (see `spike_statistics`); override ``day``'s statistics.
        causal: warm-up policy, see the module docstring.
        lag_bins: return the estimate for the bin ``lag_bins`` before the newest one (0 =
            newest; larger lags see more future context and trade latency for accuracy).
        device: torch device of the network (``"cpu"`` for closed loop).
        backend: ``"torch"``, ``"torchscript"``, ``"onnx"`` or ``"compile"`` (see the module
            docstring; the last three run on the CPU).
        num_threads: if not None, ``torch.set_num_threads(num_threads)`` (process-wide) - one
            thread gives the steadiest per-bin latency.

    Attributes:
        window_bins: L, bins in the ring buffer (the model's window length, 100 = 2 s).
        n_channels, n_behavior: C and D.
        ready: True once ``window_bins`` bins have been received since the last `reset`.
    """

    def __init__(
        self,
        model: AlignNet,
        *,
        day: int | None = None,
        spike_mean: np.ndarray | None = None,
        spike_std: np.ndarray | None = None,
        causal: bool = False,
        lag_bins: int = 0,
        device: str | torch.device = "cpu",
        num_threads: int | None = 1,
        backend: Backend = "torch",
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend != "torch" and torch.device(device).type != "cpu":
            raise ValueError(f"backend {backend!r} runs on the CPU; use device='cpu'")

        if "decode" not in model.tasks:
            raise CheckpointError(
                "this model has not been fine-tuned for decoding; run finetune(task='decode')"
            )
        cfg = model.config.model
        self.window_bins, self.n_channels, self.n_behavior = (
            cfg.window_len,
            cfg.n_channels,
            cfg.n_behavior,
        )
        if not 0 <= lag_bins < self.window_bins:
            raise ValueError(f"lag_bins must be in [0, {self.window_bins}), got {lag_bins}")
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        self.causal, self.lag_bins, self.day = bool(causal), int(lag_bins), day
        self.device = torch.device(device)
        mean, std = resolve_spike_stats(
            model.normalizer,
            n_channels=self.n_channels,
            day=day,
            spike_mean=spike_mean,
            spike_std=spike_std,
        )
        self._spike_mean, self._spike_std = mean, std
        self._normalizer = trained_normalizer(model.normalizer)
        network = model.network
        if next(network.parameters()).device != self.device:
            network = copy.deepcopy(network).to(self.device)
        self._network = network.eval()
        self.backend = backend
        # Same day ids batch decoding passes (-1 = no day: identity read-in).
        self._day = torch.tensor([-1 if day is None else int(day)], device=self.device)
        self._exported = None if backend == "torch" else _exported_window_fn(self, backend)
        c, window = self.n_channels, self.window_bins
        # Ring buffer: every bin is written twice (at i and i + L) so the last L bins are
        # always one contiguous slice, copied into the preallocated network input.
        self._ring = np.zeros((c, 2 * window), dtype=np.float32)
        self._scratch = np.zeros(c, dtype=np.float64)
        self._sum = np.zeros(c, dtype=np.float64)
        self._window = torch.zeros((1, c, window), dtype=torch.float32)
        self._window_np = self._window.numpy()
        self._nan = np.full(self.n_behavior, np.nan, dtype=np.float32)
        self.reset()

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        *,
        causal: bool = False,
        device: str | torch.device = "cpu",
        day: int | None = None,
        spike_mean: np.ndarray | None = None,
        spike_std: np.ndarray | None = None,
        lag_bins: int = 0,
        num_threads: int | None = 1,
        backend: Backend = "torch",
    ) -> StreamingDecoder:
        """Load a checkpoint written by `AlignNet.save` (or a training run) and wrap it."""
        from alignnet.api import AlignNet

        model = AlignNet.load(path, device=str(device))
        return cls(
            model,
            day=day,
            spike_mean=spike_mean,
            spike_std=spike_std,
            causal=causal,
            lag_bins=lag_bins,
            device=device,
            num_threads=num_threads,
            backend=backend,
        )

    @property
    def ready(self) -> bool:
        return self._n_seen >= self.window_bins

    def reset(self) -> None:
        """Forget every bin received (start of a new stream/block)."""
        self._ring.fill(0.0)
        self._sum.fill(0.0)
        self._n_seen = 0

    def _push(self, counts: np.ndarray) -> None:
        z_score_bin(
            counts,
            spike_mean=self._spike_mean,
            spike_std=self._spike_std,
            scratch=self._scratch,
            source="StreamingDecoder.step",
        )
        i = self._n_seen % self.window_bins
        self._ring[:, i] = self._scratch
        self._ring[:, i + self.window_bins] = self._scratch
        if self.causal and self._n_seen < self.window_bins:
            self._sum += self._ring[:, i]
        self._n_seen += 1

    def _fill_window(self) -> None:
        window, n = self.window_bins, self._n_seen
        if n >= window:
            start = n % window
            self._window_np[0] = self._ring[:, start : start + window]
        else:  # causal warm-up: received bins right-aligned, left part = their mean
            self._window_np[0, :, window - n :] = self._ring[:, :n]
            self._window_np[0, :, : window - n] = (self._sum / n).astype(np.float32)[:, None]

    @torch.inference_mode()
    def step(self, spike_counts: np.ndarray) -> np.ndarray:
        """Add one bin and decode.

        Args:
            spike_counts: ``[C]`` spike counts of the newest bin (any real dtype).

        Returns:
            ``[D]`` float32 behaviour estimate (training units) for the newest bin (or
            ``lag_bins`` before it); NaN while warming up with ``causal=False``.
        """
        self._push(spike_counts)
        if not self.causal and not self.ready:
            return self._nan.copy()
        self._fill_window()
        column = self.window_bins - 1 - self.lag_bins
        if self._exported is not None:
            z = self._exported(self._window_np)[0, :, column]
        else:
            x = self._window if self.device.type == "cpu" else self._window.to(self.device)
            out = self._network(spikes=x, day=self._day, mode="decode")["behavior"]
            z = out[0, :, column].float().cpu().numpy()
        return self._normalizer.inverse_behavior_bins(z)

    def run(self, counts: np.ndarray) -> np.ndarray:
        """Stream a whole block bin by bin (for tests and offline replay).

        Args:
            counts: ``[T, C]`` spike counts.

        Returns:
            ``[T, D]`` float32 estimates, one per `step` (NaN rows while warming up).
        """
        return stream_block(self.step, counts, n_out=self.n_behavior)


def _exported_window_fn(
    decoder: StreamingDecoder, backend: str
) -> Callable[[np.ndarray], np.ndarray]:
    """Normalised window ``[1, C, L]`` -> normalised behaviour ``[1, D, L]`` via an export."""
    from alignnet.realtime.export import DecodeGraph, ExportedRunner, inference_copy

    c, d = decoder.n_channels, decoder.n_behavior
    graph = DecodeGraph(
        inference_copy(decoder._network),
        spike_mean=np.zeros(c),
        spike_std=np.ones(c),
        behavior_mean=np.zeros(d),
        behavior_std=np.ones(d),
        day=int(decoder._day[0]),
    ).eval()
    example = torch.zeros(1, c, decoder.window_bins)
    if backend == "compile":
        compiled = torch.compile(graph, dynamic=False, fullgraph=True)
        with torch.inference_mode():
            compiled(example)  # compile now, not on the first live bin

        def run_compiled(window: np.ndarray) -> np.ndarray:
            return compiled(torch.from_numpy(window)).numpy()

        return run_compiled
    if backend == "torchscript":
        with torch.no_grad():
            traced = torch.jit.freeze(torch.jit.trace(graph, (example,), check_trace=False).eval())

        def run(window: np.ndarray) -> np.ndarray:
            return traced(torch.from_numpy(window)).numpy()

        return run
    from alignnet.realtime.export import export_onnx_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "decode.onnx"
        export_onnx_file(graph, example, path, task="decode", exporter="torchscript")
        return ExportedRunner(path, format="onnx", num_threads=1)
