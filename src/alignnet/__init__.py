"""AlignNet: one shared latent space for intracortical spikes and behaviour across days.

The public entry points are :class:`alignnet.data.Session` (one recording day),
:class:`alignnet.data.Windows` (2 s windows ready for a model) and the estimator
:class:`alignnet.api.AlignNet` (imported lazily so that data-only use does not load torch).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "AlignNet"]


def __getattr__(name: str):  # lazy: `import alignnet` must stay cheap
    if name == "AlignNet":
        from alignnet.api import AlignNet

        return AlignNet
    raise AttributeError(f"module 'alignnet' has no attribute {name!r}")
