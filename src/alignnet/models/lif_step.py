"""The LIF charge equation, written once (paper eq. 10).

``V[t] = H[t-1] + (I[t] - (H[t-1] - V_reset)) / tau``: plain arithmetic, so the same
function serves torch tensors (the eager loop `alignnet.models.neurons.lif_eager` and the
exportable `alignnet.realtime.export.TracingLIF`) and numba scalars (compiled inline into the
kernels of `alignnet.models.lif_kernels`). Fire: ``V[t] >= v_th``; reset: ``H[t] = V_reset``
where fired, else ``V[t]``. The fused torch path (`lif_forward_potentials`) runs the same
recurrence rewritten on ``W = V_reset - V``; every path is tested bit-equal to the eager loop.
"""

from __future__ import annotations

from typing import Any, TypedDict


class LifOptions(TypedDict):
    """The LIF parameters every implementation takes (keyword bundle, written once).

    ``tau``: membrane time constant, steps (> 1); ``v_threshold``, ``v_reset``: membrane
    units; ``surrogate``: ``"atan"`` | ``"sigmoid"``; ``alpha``: its sharpness;
    ``detach_reset``: no gradient through the reset.
    """

    tau: float
    v_threshold: float
    v_reset: float
    surrogate: str
    alpha: float
    detach_reset: bool


def lif_charge(h: Any, current: Any, tau: Any, v_reset: Any) -> Any:
    """Membrane potential after one step: ``h + (current - (h - v_reset)) / tau``."""
    return h + (current - (h - v_reset)) / tau
