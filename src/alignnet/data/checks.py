"""Small checks of data shared by loaders, training and inference (each raises a named error).

- `check_spike_counts`: spike counts must be finite and >= 0 (a windows file or array with a
  negative count is refused before it can train a model);
- `check_bin_width`: data must have the bin width a model was trained on (a checkpoint
  records it as ``bin_s``);
- `check_npz_archive`: a ``.npz`` must be a zip archive before numpy reads it (numpy's own
  error for other bytes suggests ``allow_pickle=True``, which would run code from the file).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from alignnet.errors import CheckpointError, DataError, FileFormatError


def check_array(
    arr: np.ndarray,
    *,
    field: str,
    source: str | Path | None = None,
    shape: tuple[int | None, ...] | None = None,
    expected: str | None = None,
) -> np.ndarray:
    """The one finite-values and shape check of the project's array inputs.

    Args:
        arr: the array (already converted to the wanted dtype).
        field, source: named in the error.
        shape: wanted shape; None on an axis accepts any size there (None: any shape).
        expected: how the error spells the wanted shape (default: ``shape``).

    Returns:
        ``arr`` unchanged.

    Raises:
        DataError: ``"expected ..., got shape ..."`` or ``"NaN or inf values"``.
    """
    if shape is not None and (
        arr.ndim != len(shape)
        or any(w is not None and n != w for n, w in zip(arr.shape, shape, strict=True))
    ):
        want = expected or str(tuple("*" if w is None else w for w in shape))
        raise DataError(f"expected {want}, got shape {arr.shape}", field=field, source=source)
    if not np.isfinite(arr).all():
        raise DataError("NaN or inf values", field=field, source=source)
    return arr


def check_spike_counts(
    spikes: np.ndarray, *, source: str | Path | None = None, field: str = "spikes"
) -> np.ndarray:
    """Return ``spikes`` unchanged if every value is a finite count >= 0.

    Raises:
        DataError: naming ``source`` and ``field``, how many values are bad and the first one.
    """
    values = np.asarray(spikes)
    if values.dtype.kind not in "biuf":
        raise DataError(f"values of type {values.dtype} are not counts", field=field, source=source)
    if values.size == 0:
        return spikes
    bad_finite = ~np.isfinite(values) if values.dtype.kind == "f" else None
    if bad_finite is not None and bad_finite.any():
        first = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        raise DataError(
            f"{int(bad_finite.sum())} NaN/inf values (first at index {first})",
            field=field,
            source=source,
        )
    negative = values < 0
    if negative.any():
        first = tuple(int(i) for i in np.argwhere(negative)[0])
        raise DataError(
            f"{int(negative.sum())} negative spike counts (first {float(values[first]):g} at index "
            f"{first}); counts must be >= 0",
            field=field,
            source=source,
        )
    return spikes


def check_bin_width(
    expected_s: float | None, actual_s: float, *, source: str | Path | None = None
) -> None:
    """Refuse data binned at ``actual_s`` for a model trained on ``expected_s`` bins.

    ``expected_s`` None (a checkpoint written before bin widths were recorded) skips the check.

    Raises:
        CheckpointError: the widths differ (by more than a microsecond).
    """
    if expected_s is None:
        return
    if not np.isclose(float(expected_s), float(actual_s), rtol=0.0, atol=1e-6):
        where = f"{source}: " if source else ""
        raise CheckpointError(
            f"{where}the model was trained on {float(expected_s) * 1e3:g} ms bins, but the data "
            f"have {float(actual_s) * 1e3:g} ms bins; preprocess the data at "
            f"{float(expected_s) * 1e3:g} ms (or train a model on these bins)"
        )


def check_npz_archive(path: str | Path) -> None:
    """Refuse a ``.npz`` that is not a zip archive (truncated, or another kind of file), or
    whose arrays would expand past `alignnet.utils.limits.max_npz_bytes` (a zip bomb).

    Raises:
        FileFormatError: naming the file.
    """
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise FileFormatError(f"cannot read the file: {exc}", source=path) from exc
    if not is_zip:
        raise FileFormatError(
            "truncated or corrupt .npz archive (no zip directory; or another kind of file)",
            source=path,
        )
    from alignnet.utils.limits import zip_problem

    problem = zip_problem(path)  # sizes declared in the directory, before decompressing
    if problem:
        raise FileFormatError(problem, source=path)
