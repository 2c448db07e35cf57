"""One seed for everything: Python, numpy and torch (CPU and CUDA)."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's, numpy's legacy and torch's generators; return a fresh numpy Generator.

    Same seed on CPU gives the same numbers. torch is seeded only if it is importable
    (data-only code does not need it).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - third-party code may use the legacy global RNG
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency, kept lazy
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
