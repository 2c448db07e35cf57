"""Device choice: ``"auto"`` picks CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import os

import torch

from alignnet.errors import DeviceError


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"``/None or a device string into a `torch.device`.

    Under ``torchrun`` on CUDA, ``"auto"`` picks ``cuda:$LOCAL_RANK``. A named device this
    machine does not have (``"cuda"`` without a GPU, ``"mps"`` off Apple silicon, a typo)
    raises `DeviceError`.
    """
    if isinstance(device, torch.device):
        return device
    if device in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise DeviceError(
            f"unknown device {device!r} (use auto, cpu, cuda, cuda:N or mps): {exc}"
        ) from None
    _check_available(chosen)
    return chosen


def _check_available(device: torch.device) -> None:
    """Raise `DeviceError` when this machine has no such device (no GPU, no MPS)."""
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"device {str(device)!r}: no CUDA GPU is available here")
        if device.index is not None and device.index >= count:
            raise DeviceError(f"device {str(device)!r}: only {count} CUDA GPU(s) here")
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError(f"device {str(device)!r}: Apple MPS is not available here")
