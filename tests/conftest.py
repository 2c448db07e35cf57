"""Suite-wide settings: one torch thread (deterministic, and on a shared 2-core machine
two threads stall each other far more than they help), headless matplotlib."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config) -> None:  # pytest hook signature
    import torch

    torch.set_num_threads(1)
