"""Exceptions with messages that name the file, the field and the problem."""

from __future__ import annotations

from pathlib import Path


class AlignNetError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(AlignNetError, ValueError):
    """Bad input data: names the source (file or object), the field and what is wrong.

    Example message: ``day03.npz: field 'behavior': 12 NaN values (first at sample 40)``.
    """

    def __init__(self, problem: str, *, field: str | None = None, source: str | Path | None = None):
        self.problem = problem
        self.field = field
        self.source = None if source is None else str(source)
        parts = []
        if self.source:
            parts.append(f"{self.source}:")
        if field:
            parts.append(f"field {field!r}:")
        parts.append(problem)
        super().__init__(" ".join(parts))


class FileFormatError(DataError):
    """A file that is missing, truncated, corrupt or of an unknown format."""


class CheckpointError(AlignNetError, ValueError):
    """A checkpoint that is corrupt, from another version, or does not fit the data."""


class TrainingError(AlignNetError, RuntimeError):
    """Training could not go on (e.g. a NaN/inf loss); the last good checkpoint is kept."""


class DeviceError(AlignNetError, ValueError):
    """A compute device that this machine does not have (e.g. ``cuda`` without a GPU)."""


class StreamError(AlignNetError, RuntimeError):
    """A live (Lab Streaming Layer) stream that cannot be used: not found, another channel
    count or rate than the model expects, or the LSL library missing."""


class OutputError(AlignNetError, OSError):
    """An output could not be written (e.g. the disk is full); the previous file is kept."""


_UNSAFE_ADVICE = (
    "allow_pickle", "weights_only", "pickle.load", "trusted source", "safe_globals",
    "add_safe_globals", "Check the documentation of torch.load",
)  # fmt: skip


def safe_reason(exc: BaseException) -> str:
    """``exc``'s message without sentences that advise an unsafe retry.

    numpy and torch suggest ``allow_pickle=True`` / ``weights_only=False`` when a file does not
    load; both run code from the file. Those sentences are dropped from messages shown to users.
    """
    import re

    text = str(exc)
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text)
    kept = [s for s in sentences if s.strip() and not any(a in s for a in _UNSAFE_ADVICE)]
    return " ".join(kept).strip() or type(exc).__name__
