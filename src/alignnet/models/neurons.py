"""Multi-step leaky integrate-and-fire neurons (paper eq. 10-12, SpikingJelly semantics).

Tensors are time-first, ``[T, B, ...]``; the membrane state exists only inside one forward call
(it starts at ``H[-1] = V_reset`` every call, so nothing leaks between batches).

Per step (membrane potentials in the same units as the input current ``I = x[t]``)::

    V[t] = H[t-1] + (I[t] - (H[t-1] - V_reset)) / tau          # charge (decay_input)
    S[t] = Heaviside(V[t] - v_th)                               # fire (1 where V >= v_th)
    H[t] = V_reset * S[t] + V[t] * (1 - S[t])                   # hard reset

Implementations (same spikes and input gradients equal within rounding; see ``docs/spiking.md``
and ``benchmarks/lif.py``):

- ``"eager"``: the reference loop over ``x.unbind(0)`` with autograd through every step.
- ``"fused"``: one ``torch.autograd.Function`` whose forward runs without autograd and saves one
  ``[T, B, ...]`` tensor, and whose backward solves the reverse-time recurrence of the input
  gradient directly. Two kernels implement it; :func:`fused_kernel` says which one a tensor gets:

  - ``"numba"`` (CPU float32/float64 tensors when ``numba`` is importable, outside
    ``torch.jit`` tracing and ``torch.compile``): :mod:`alignnet.models.lif_kernels`, one pass
    over ``[T, N]`` forward (saving the potential ``V``; nothing is saved under no-grad) and
    one reverse-time pass backward, neurons split across ``torch.get_num_threads()`` threads
    for large ``N``. Its forward computes eq. 10 with the eager loop's rounding, so its spikes
    are bit-identical to ``"eager"``.
  - ``"torch"`` (everything else: CUDA, float16/bfloat16, no numba, tracing): torch ops only.
    The forward runs on the negated shifted potential ``W = V_reset - V``, two kernels per
    step into preallocated buffers, and saves only ``W``. The backward computes everything that
    does not depend on the recurrence for all steps at once in large vectorised ops, leaving
    one ``addcmul_`` per step. Both run over cache-sized column blocks of the flattened
    ``[T, N]`` buffer. ``W`` is rounded differently from eq. 10, so a spike can differ from the
    eager loop where ``V`` is within about one float ulp of the threshold.
- ``"fused-torch"``: the fused Function with the torch kernel whatever the tensor (for
  comparisons and benchmarks).
- ``"compile"``: ``torch.compile`` of the eager loop (fast after a slow first call).
- ``"auto"``: fused on CPU; on CUDA compiled when Triton is importable, else fused.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Literal, cast

import torch
from torch import nn

from alignnet.models import surrogate as sg
from alignnet.models.lif_step import LifOptions, lif_charge

if TYPE_CHECKING:  # Python 3.10 has no typing.Unpack
    from typing_extensions import Unpack

BACKENDS = ("auto", "eager", "fused", "fused-torch", "compile")
FusedKernel = Literal["numba", "torch"]


# ----------------------------------------------------------------------------- eager reference
def lif_eager(x: torch.Tensor, **options: Unpack[LifOptions]) -> torch.Tensor:
    """Reference LIF loop, literally eq. 10-12. ``x``: ``[T, B, ...]`` -> spikes, same shape."""
    tau, v_reset = options["tau"], options["v_reset"]
    h = torch.full_like(x[0], v_reset)
    spikes = []
    for x_t in x.unbind(0):
        v = lif_charge(h, x_t, tau, v_reset)
        s = sg.SurrogateSpike.apply(
            v - options["v_threshold"], options["surrogate"], options["alpha"]
        )
        s_r = s.detach() if options["detach_reset"] else s
        h = v_reset * s_r + v * (1.0 - s_r)
        spikes.append(s)
    return torch.stack(spikes)


# ----------------------------------------------------------------------------- fused path
#: Column-block size of the fused path, in bytes per ``[T, block]`` tensor. 4 MiB was the best
#: of 256 KiB / 1 MiB / 4 MiB / unblocked at the anchor shapes on a 2-core CPU: blocks keep the
#: vectorised passes and the per-step loop in cache and every temporary below glibc's 32 MiB
#: mmap threshold (a fresh mmap costs a page fault per 4 KiB), with few enough kernel launches.
BLOCK_BYTES = 1 << 22


def _column_blocks(t_steps: int, n_cols: int, itemsize: int) -> list[tuple[int, int]]:
    """``(start, width)`` of the column blocks of a ``[T, N]`` buffer (see ``BLOCK_BYTES``)."""
    width = max(256, BLOCK_BYTES // max(1, t_steps * itemsize))
    return [(start, min(width, n_cols - start)) for start in range(0, n_cols, width)]


def lif_forward_potentials(x: torch.Tensor, *, tau: float, v_threshold: float, v_reset: float):
    """Run the LIF forward without autograd.

    Args:
        x: input current ``[T, B, ...]`` (float).

    Returns:
        ``(w, spikes)``: ``w = V_reset - V`` (the negated, shifted potential before reset),
        ``[T, B, ...]``; spikes ``[T, B, ...]`` as ``x.dtype``.

    With ``U = V - V_reset`` and ``th = v_th - V_reset`` the recurrence is
    ``U[t] = I[t]/tau + (1 - 1/tau) * (U[t-1] if U[t-1] < th else 0)``, ``U[-1] = 0``. It is run
    on ``W = -U`` so that the reset is exactly ``torch.threshold(W, -th, 0)`` (keep ``W`` where
    ``W > -th``, i.e. no spike): two same-dtype kernels per step into a preallocated buffer
    (mixed bool/float kernels are several times slower on CPU), column block by column block.
    """
    k = 1.0 / tau
    th = v_threshold - v_reset
    t_steps = x.shape[0]
    with torch.no_grad():
        x2 = x.reshape(t_steps, -1)
        w = torch.empty_like(x2)
        spikes = torch.empty_like(x2)
        blocks = _column_blocks(t_steps, x2.shape[1], x2.element_size())
        kept = torch.empty(blocks[0][1], dtype=x.dtype, device=x.device) if blocks else None
        for start, width in blocks:
            wb = w.narrow(1, start, width)
            torch.mul(x2.narrow(1, start, width), -k, out=wb)
            assert kept is not None  # allocated whenever there are blocks
            kb = kept[:width]
            steps = wb.unbind(0)
            for prev, cur in zip(steps[:-1], steps[1:], strict=True):
                torch.threshold(prev, -th, 0.0, out=kb)
                cur.add_(kb, alpha=1.0 - k)
            torch.le(wb, -th, out=spikes.narrow(1, start, width))
    return w.view(x.shape), spikes.view(x.shape)


def lif_backward_input_grad(
    w: torch.Tensor, grad_spikes: torch.Tensor, **options: Unpack[LifOptions]
) -> torch.Tensor:
    """Gradient of the loss w.r.t. the input current, from the saved ``W = V_reset - V``.

    With ``g[t] = dL/dS[t]``, ``U = -W``, ``sg[t]`` the surrogate derivative at ``U[t] - th``
    and ``k = 1/tau``, the reverse-time recurrence of ``Z = k * dL/dU`` is::

        Z[t] = k * g[t] * sg[t] + C[t] * Z[t+1],
        C[t] = (1 - k) * ((1 - S[t]) - U[t] * sg[t])      # (1 - k) * (1 - S[t]) if detach_reset
        dL/dI[t] = Z[t]

    (``dL/dS`` reaches ``U`` through the spike and, via ``H = V(1 - S)``, through the reset.)
    Per column block, everything but the recurrence is computed for all steps at once; the
    loop is one ``addcmul_`` per step. The surrogate derivatives are even, so
    ``sg(U - th) = sg(W + th)``.
    """
    tau, alpha = options["tau"], options["alpha"]
    derivative, _ = sg.resolve(options["surrogate"], alpha)
    k = 1.0 / tau
    th = options["v_threshold"] - options["v_reset"]
    t_steps = w.shape[0]
    w2 = w.reshape(t_steps, -1)
    g2 = grad_spikes.reshape(t_steps, -1)
    z = torch.empty_like(w2)
    blocks = _column_blocks(t_steps, w2.shape[1], w2.element_size())
    coeff_buf = torch.empty(
        (t_steps, blocks[0][1] if blocks else 0), dtype=w.dtype, device=w.device
    )
    for start, width in blocks:
        wb, zb = w2.narrow(1, start, width), z.narrow(1, start, width)
        cb = coeff_buf.narrow(1, 0, width)
        torch.add(wb, th, out=zb)
        derivative(zb, alpha, inplace=True, scale=k)  # zb = k * sg
        torch.gt(wb, -th, out=cb)  # 1 - S
        if not options["detach_reset"]:
            cb.addcmul_(wb, zb, value=tau)  # (1 - S) - U * sg, with U = -W and zb = k * sg
        cb.mul_(1.0 - k)
        zb.mul_(g2.narrow(1, start, width))
        z_steps, c_steps = zb.unbind(0), cb.unbind(0)
        for t in range(t_steps - 2, -1, -1):
            z_steps[t].addcmul_(c_steps[t], z_steps[t + 1])
    return z.view(w.shape)


class _FusedLIF(torch.autograd.Function):
    """The fused LIF on either kernel; saves one ``[T, B, ...]`` tensor for the backward:
    ``W = V_reset - V`` (torch kernel) or ``V`` (numba kernel)."""

    @staticmethod
    def forward(ctx, x, kernel, options):
        spikes, saved = _fused_forward(x, kernel, options, save=True)
        ctx.save_for_backward(saved)
        ctx.kernel = kernel
        ctx.options = options
        return spikes

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_spikes):
        (saved,) = ctx.saved_tensors
        input_grad = _numba_backward if ctx.kernel == "numba" else lif_backward_input_grad
        grad_x = input_grad(saved, grad_spikes.contiguous(), **ctx.options)
        return grad_x, None, None


def lif_fused_torch(x: torch.Tensor, **options: Unpack[LifOptions]) -> torch.Tensor:
    """Fused LIF with the torch-only kernel (same arguments and result as :func:`lif_eager`)."""
    return _run_fused(x, "torch", options)


def _fused_forward(
    x: torch.Tensor, kernel: FusedKernel, options: LifOptions, *, save: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(spikes, saved)`` of the fused forward on ``kernel`` (``saved``: ``V`` for numba,
    ``W = V_reset - V`` for torch; None from numba when ``save`` is False)."""
    tau, v_threshold, v_reset = options["tau"], options["v_threshold"], options["v_reset"]
    if kernel == "numba":
        return _numba_forward(
            x, tau=tau, v_threshold=v_threshold, v_reset=v_reset, save_potentials=save
        )
    w, spikes = lif_forward_potentials(x, tau=tau, v_threshold=v_threshold, v_reset=v_reset)
    return spikes, w


def _run_fused(x: torch.Tensor, kernel: FusedKernel, options: LifOptions) -> torch.Tensor:
    """The fused LIF on ``kernel``: forward only (nothing saved) when no gradient is needed."""
    if torch.is_grad_enabled() and x.requires_grad:
        return _FusedLIF.apply(x.contiguous(), kernel, options)
    return _fused_forward(x, kernel, options, save=False)[0]


# ----------------------------------------------------------------------------- numba kernel
_NUMBA_DTYPES = (torch.float32, torch.float64)
_KERNELS: dict[str, ModuleType | None] = {}


def _load_lif_kernels() -> ModuleType | None:
    """:mod:`alignnet.models.lif_kernels`, or None when numba cannot be imported (cached)."""
    if "numba" not in _KERNELS:
        try:
            _KERNELS["numba"] = importlib.import_module("alignnet.models.lif_kernels")
        except ImportError:
            _KERNELS["numba"] = None
    return _KERNELS["numba"]


def fused_kernel(x: torch.Tensor) -> FusedKernel:
    """Which kernel the ``"fused"`` backend runs for ``x``.

    ``"numba"`` for a CPU float32/float64 tensor when numba is importable and no
    ``torch.jit`` trace or ``torch.compile`` is being recorded (neither can see into numba);
    ``"torch"`` otherwise (CUDA, float16/bfloat16, no numba, tracing).
    """
    if x.device.type != "cpu" or x.dtype not in _NUMBA_DTYPES or _recording_graph():
        return "torch"
    return "numba" if _load_lif_kernels() is not None else "torch"


def _recording_graph() -> bool:
    """True while ``torch.jit`` traces/scripts or ``torch.compile`` traces the caller."""
    is_compiling = getattr(torch.compiler, "is_compiling", None)  # torch >= 2.3
    compiling = is_compiling() if is_compiling is not None else torch._dynamo.is_compiling()
    return compiling or torch.jit.is_tracing() or torch.jit.is_scripting()


def _numba_forward(
    x: torch.Tensor, *, tau: float, v_threshold: float, v_reset: float, save_potentials: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Numba forward: ``x`` ``[T, B, ...]`` -> ``(spikes [T, B, ...], V [T, B, ...] or None)``."""
    kernels = _load_lif_kernels()
    assert kernels is not None  # the numba path runs only when the kernels import
    x2 = x.detach().reshape(x.shape[0], -1).contiguous()
    spikes = torch.empty(x2.shape, dtype=x.dtype)
    potentials = torch.empty(x2.shape, dtype=x.dtype) if save_potentials else None
    kernels.lif_forward(
        x2.numpy(),
        tau=tau,
        v_threshold=v_threshold,
        v_reset=v_reset,
        spikes=spikes.numpy(),
        potentials=None if potentials is None else potentials.numpy(),
        threads=torch.get_num_threads(),
    )
    return spikes.view(x.shape), None if potentials is None else potentials.view(x.shape)


def _numba_backward(
    potentials: torch.Tensor, grad_spikes: torch.Tensor, **options: Unpack[LifOptions]
) -> torch.Tensor:
    """Numba backward: ``dL/dI`` ``[T, B, ...]`` from the saved ``V`` and ``dL/dS``."""
    shape = potentials.shape
    v2 = potentials.reshape(shape[0], -1)
    g2 = grad_spikes.to(v2.dtype).reshape(v2.shape).contiguous()
    grad_input = torch.empty(v2.shape, dtype=v2.dtype)
    kernels = _load_lif_kernels()
    assert kernels is not None  # as in the forward
    kernels.lif_backward(
        v2.numpy(),
        g2.numpy(),
        grad_input=grad_input.numpy(),
        threads=torch.get_num_threads(),
        **options,
    )
    return grad_input.view(shape)


def lif_fused(x: torch.Tensor, **options: Unpack[LifOptions]) -> torch.Tensor:
    """Fused LIF (same arguments and result as :func:`lif_eager`), on the kernel that
    :func:`fused_kernel` picks for ``x``."""
    return _run_fused(x, fused_kernel(x), options)


# ----------------------------------------------------------------------------- compiled path
_COMPILED: dict[str, Callable[..., torch.Tensor]] = {}


def lif_compiled(x: torch.Tensor, **options: Unpack[LifOptions]) -> torch.Tensor:
    """``torch.compile`` of :func:`lif_eager` (compiled once per process, on first use)."""
    fn = _COMPILED.get("lif")
    if fn is None:
        fn = _COMPILED["lif"] = torch.compile(lif_eager, dynamic=False)
    return fn(x, **options)


def _triton_available() -> bool:
    return importlib.util.find_spec("triton") is not None


# ----------------------------------------------------------------------------- module
class MultiStepLIF(nn.Module):
    """LIF layer over ``[T, B, ...]`` -> spikes ``[T, B, ...]`` (0.0 / 1.0, input dtype).

    Args:
        tau: membrane time constant in steps (> 1; the paper fixes 2).
        v_threshold: firing threshold (paper 0.3).
        v_reset: reset potential and initial potential (paper 0).
        surrogate: ``"atan"`` (default) or ``"sigmoid"``; see :mod:`alignnet.models.surrogate`.
        alpha: surrogate sharpness; ``None`` -> the surrogate's default (atan 2, sigmoid 4).
        detach_reset: stop the gradient through the reset (SpikingJelly's ``detach_reset``).
        backend: ``"auto"`` | ``"eager"`` | ``"fused"`` | ``"fused-torch"`` | ``"compile"``
            (see module docstring).
        record: if True, every forward stores ``last_firing_rate`` (mean spikes per neuron and
            step, float) and ``last_time_steps`` (T) for :mod:`alignnet.evaluation.accounting`.
    """

    def __init__(
        self,
        *,
        tau: float = 2.0,
        v_threshold: float = 0.3,
        v_reset: float = 0.0,
        surrogate: str = "atan",
        alpha: float | None = None,
        detach_reset: bool = False,
        backend: str = "auto",
        record: bool = False,
    ) -> None:
        super().__init__()
        if not tau > 1.0:
            raise ValueError(f"tau must be > 1 (time steps), got {tau!r}")
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r} (expected one of {BACKENDS})")
        _, alpha = sg.resolve(surrogate, alpha)
        self.tau, self.v_threshold, self.v_reset = float(tau), float(v_threshold), float(v_reset)
        self.surrogate, self.alpha, self.detach_reset = surrogate, alpha, bool(detach_reset)
        self.backend = backend
        self.record = record
        self.last_firing_rate: float | None = None
        self.last_time_steps: int | None = None

    def extra_repr(self) -> str:
        return (
            f"tau={self.tau}, v_threshold={self.v_threshold}, v_reset={self.v_reset}, "
            f"surrogate={self.surrogate!r}, alpha={self.alpha}, "
            f"detach_reset={self.detach_reset}, backend={self.backend!r}"
        )

    @property
    def options(self) -> LifOptions:
        """This layer's LIF parameters, as the implementations take them."""
        return cast(LifOptions, {key: getattr(self, key) for key in LifOptions.__annotations__})

    def resolved_backend(self, device: torch.device) -> str:
        """The implementation ``"auto"`` picks on ``device``."""
        if self.backend != "auto":
            return self.backend
        if device.type == "cuda" and _triton_available():
            return "compile"
        return "fused"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: input current ``[T, B, ...]`` (T >= 1) -> spikes of the same shape."""
        if x.dim() < 2:
            raise ValueError(f"MultiStepLIF expects [T, B, ...], got shape {tuple(x.shape)}")
        options = self.options
        backend = self.resolved_backend(x.device)
        if backend == "eager":
            spikes = lif_eager(x, **options)
        elif backend == "fused-torch":
            spikes = lif_fused_torch(x, **options)
        elif backend == "compile":
            try:
                spikes = lif_compiled(x, **options)
            except Exception:  # compiler missing/broken: the fused path gives the same result
                if self.backend == "compile":
                    raise
                spikes = lif_fused(x, **options)
        else:
            spikes = lif_fused(x, **options)
        if self.record:
            self.last_firing_rate = float(spikes.detach().mean())
            self.last_time_steps = int(x.shape[0])
        return spikes
