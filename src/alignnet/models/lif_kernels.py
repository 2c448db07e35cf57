"""Numba CPU kernels for the fused multi-step LIF (used by ``alignnet.models.neurons``).

This module imports ``numba`` at import time; ``alignnet.models.neurons`` imports it lazily and
falls back to its torch-only path when that fails. All arrays are C-contiguous NumPy views of
torch tensors, time-first ``[T, N]`` (``N`` = everything after the time axis, flattened), one
float dtype throughout (float32 or float64); every scalar is passed in that same dtype, so the
loops never promote to float64 and LLVM can vectorise the inner loop over neurons. Both kernels
take a column range ``[start, stop)`` so that callers may split the neurons across threads
(the kernels release the GIL).

Forward (:func:`lif_forward`), one pass over time keeping the reset state ``H`` of the columns:

    V[t] = H[t-1] + (I[t] - (H[t-1] - V_reset)) / tau      (exactly the eager loop's expression,
    S[t] = V[t] >= v_th                                      no fast-math: same rounding, so the
    H[t] = V_reset if S[t] else V[t]                         spikes are bit-identical to it)

It stores the spikes (0.0 / 1.0) and, when a ``potentials`` buffer is given, ``V`` (all the
backward needs).

Backward (:func:`lif_backward`), one reverse-time pass. With ``g = dL/dS``, ``k = 1/tau``,
``sg[t]`` the surrogate derivative at ``V[t] - v_th`` and ``U = V - V_reset``::

    Z[t] = k * g[t] * sg[t] + C[t] * Z[t+1]          Z[T] = 0, dL/dI[t] = Z[t]
    C[t] = (1 - k) * ((1 - S[t]) - reset_gain * U[t] * sg[t])

``reset_gain`` is 1, or 0 with ``detach_reset`` (no gradient through the reset). Surrogates:
``atan``: ``sg = (alpha/2) / (1 + (pi/2 * alpha * x)^2)``; ``sigmoid``:
``sg = alpha * e / (1 + e)^2`` with ``e = exp(-alpha |x|)`` (= ``alpha * s * (1 - s)``,
``s = sigmoid(alpha x)``, written so that ``exp`` never overflows; ``e`` is computed by NumPy's
vectorised ``exp`` into the output buffer first, since numba's ``exp`` does not vectorise). The backward may reassociate
and contract (``fastmath`` without the no-NaN / no-Inf assumptions): its results agree with the
eager autograd within rounding, not bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numba
import numpy as np

from alignnet.models.lif_step import LifOptions, lif_charge

if TYPE_CHECKING:  # Python 3.10 has no typing.Unpack
    from typing_extensions import Unpack

#: Surrogate names -> the integer code the backward kernel takes.
SURROGATE_CODES: dict[str, int] = {"atan": 0, "sigmoid": 1}

#: Numba dtypes the kernels are written for.
SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Reassociation, contraction, reciprocal and approximate functions, but not 'nnan'/'ninf':
# infinities in user input must stay infinities.
_BACKWARD_FASTMATH = {"reassoc", "contract", "arcp", "nsz", "afn"}


#: The one LIF charge equation (`alignnet.models.lif_step`), compiled inline.
_charge = numba.njit(inline="always", cache=True)(lif_charge)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _forward_kernel(current, tau, v_threshold, v_reset, start, stop, potentials, spikes):
    """``current`` ``[T, N]`` -> ``spikes`` (and ``potentials`` = V unless None), columns
    ``start:stop``. ``tau``, ``v_threshold``, ``v_reset``: scalars of the arrays' dtype.

    Rows are sliced to zero-based 1-D views and ``potentials is None`` is resolved at compile
    time (numba prunes the branch), which lets LLVM vectorise the loop over neurons.
    """
    t_steps = current.shape[0]
    if t_steps == 0 or stop <= start:
        return
    state = current[0, start:stop].copy()
    state[:] = v_reset
    for t in range(t_steps):
        current_t = current[t, start:stop]
        spikes_t = spikes[t, start:stop]
        if potentials is not None:
            potentials_t = potentials[t, start:stop]
        for j in range(stop - start):
            v = _charge(state[j], current_t[j], tau, v_reset)
            if potentials is not None:
                potentials_t[j] = v
            fired = v >= v_threshold
            spikes_t[j] = fired
            state[j] = v_reset if fired else v


@numba.njit(cache=True, nogil=True, fastmath=_BACKWARD_FASTMATH, error_model="numpy")
def _backward_kernel(
    potentials,
    grad_spikes,
    inv_tau,
    v_threshold,
    v_reset,
    surrogate_code,
    c1,
    c2,
    reset_gain,
    start,
    stop,
    grad_input,
):
    """Reverse-time recurrence of ``dL/dI`` over columns ``start:stop`` (module docstring).

    ``c1, c2``: atan ``alpha/2, pi/2 * alpha``; sigmoid ``alpha`` and unused. All float scalars
    are of the arrays' dtype; ``reset_gain`` is 1 or 0 (``detach_reset``). For the sigmoid,
    ``grad_input`` must hold ``exp(-alpha |V - v_th|)`` on entry (numba has no vectorised
    ``exp``; :func:`lif_backward` fills it with NumPy's); it is overwritten in place.
    """
    t_steps = potentials.shape[0]
    if t_steps == 0 or stop <= start:
        return
    one = potentials.dtype.type(1.0)
    zero = potentials.dtype.type(0.0)
    leak = one - inv_tau
    carry = potentials[0, start:stop].copy()
    carry[:] = zero
    for t in range(t_steps - 1, -1, -1):
        v_t = potentials[t, start:stop]
        g_t = grad_spikes[t, start:stop]
        out_t = grad_input[t, start:stop]
        if surrogate_code == 0:
            for j in range(stop - start):
                v = v_t[j]
                a = c2 * (v - v_threshold)
                sg = c1 / (one + a * a)
                not_fired = zero if v >= v_threshold else one
                coeff = leak * (not_fired - reset_gain * (v - v_reset) * sg)
                z = inv_tau * (g_t[j] * sg) + coeff * carry[j]
                carry[j] = z
                out_t[j] = z
        else:
            for j in range(stop - start):
                v = v_t[j]
                e = out_t[j]
                d = one + e
                sg = c1 * e / (d * d)
                not_fired = zero if v >= v_threshold else one
                coeff = leak * (not_fired - reset_gain * (v - v_reset) * sg)
                z = inv_tau * (g_t[j] * sg) + coeff * carry[j]
                carry[j] = z
                out_t[j] = z


#: Fewest neurons a thread gets: below ``2 *`` this the kernels run on the calling thread only
#: (starting work on another thread and the shorter vector loops cost more than they save).
MIN_COLUMNS_PER_THREAD = 16384

_POOLS: dict[int, ThreadPoolExecutor] = {}


def column_ranges(n_cols: int, threads: int) -> list[tuple[int, int]]:
    """Split ``n_cols`` neurons into at most ``threads`` contiguous ``(start, stop)`` ranges of
    at least ``MIN_COLUMNS_PER_THREAD`` each, starting at multiples of 64 (cache lines)."""
    count = max(1, min(int(threads), n_cols // MIN_COLUMNS_PER_THREAD))
    if count == 1:
        return [(0, n_cols)]
    width = -(-n_cols // count)
    width = -(-width // 64) * 64
    return [(start, min(start + width, n_cols)) for start in range(0, n_cols, width)]


def _run_on_columns(run: Callable[[int, int], None], n_cols: int, threads: int) -> None:
    """``run(start, stop)`` for every column range of ``column_ranges(n_cols, threads)``; on a
    thread pool when there are several (the kernels release the GIL)."""
    ranges = column_ranges(n_cols, threads)
    if len(ranges) == 1:
        run(*ranges[0])
        return
    pool = _POOLS.get(len(ranges))
    if pool is None:
        pool = _POOLS[len(ranges)] = ThreadPoolExecutor(len(ranges), thread_name_prefix="lif")
    for future in [pool.submit(run, start, stop) for start, stop in ranges]:
        future.result()


def lif_forward(
    current: np.ndarray,
    *,
    tau: float,
    v_threshold: float,
    v_reset: float,
    spikes: np.ndarray,
    potentials: np.ndarray | None = None,
    threads: int = 1,
) -> None:
    """Run the LIF forward into preallocated arrays (module docstring).

    Args:
        current: input current ``I``, ``[T, N]``, C-contiguous float32/float64.
        tau, v_threshold, v_reset: LIF parameters (steps, membrane units).
        spikes: output ``[T, N]``, same dtype: 0.0 / 1.0.
        potentials: optional output ``[T, N]``, same dtype: ``V`` before reset (for backward).
        threads: most threads to split the neurons over (see ``column_ranges``); the result
            does not depend on it.
    """
    scalar = current.dtype.type
    tau_, v_threshold_, v_reset_ = scalar(tau), scalar(v_threshold), scalar(v_reset)

    def run(start: int, stop: int) -> None:
        _forward_kernel(current, tau_, v_threshold_, v_reset_, start, stop, potentials, spikes)

    _run_on_columns(run, current.shape[1], threads)


def lif_backward(
    potentials: np.ndarray,
    grad_spikes: np.ndarray,
    *,
    grad_input: np.ndarray,
    threads: int = 1,
    **options: Unpack[LifOptions],
) -> None:
    """Gradient w.r.t. the input current from the saved potentials ``V`` (module docstring).

    Args:
        potentials: ``V`` from :func:`lif_forward`, ``[T, N]``, C-contiguous.
        grad_spikes: ``dL/dS``, ``[T, N]``, C-contiguous, same dtype.
        tau, v_threshold, v_reset: LIF parameters of the forward.
        surrogate: ``"atan"`` or ``"sigmoid"``; alpha: its sharpness.
        detach_reset: no gradient through the reset term.
        grad_input: output ``dL/dI``, ``[T, N]``, same dtype.
        threads: most threads to split the neurons over; the result does not depend on it.
    """
    scalar = potentials.dtype.type
    tau, v_threshold, surrogate = options["tau"], options["v_threshold"], options["surrogate"]
    alpha = options["alpha"]
    code = SURROGATE_CODES[surrogate]
    if surrogate == "atan":
        c1, c2 = alpha / 2.0, math.pi / 2.0 * alpha
    else:
        c1, c2 = alpha, alpha
        np.subtract(potentials, scalar(v_threshold), out=grad_input)
        np.abs(grad_input, out=grad_input)
        np.multiply(grad_input, scalar(-alpha), out=grad_input)
        np.exp(grad_input, out=grad_input)
    scalars = (
        scalar(1.0 / tau),
        scalar(v_threshold),
        scalar(options["v_reset"]),
        code,
        scalar(c1),
        scalar(c2),
        scalar(0.0 if options["detach_reset"] else 1.0),
    )

    def run(start: int, stop: int) -> None:
        _backward_kernel(potentials, grad_spikes, *scalars, start, stop, grad_input)

    _run_on_columns(run, potentials.shape[1], threads)
