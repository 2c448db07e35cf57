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
