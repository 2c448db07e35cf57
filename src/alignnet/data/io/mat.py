"""Loaders for the two public 50 ms-binned recordings (KordingLab/spykesML ``.mat`` files).

Both files hold spike *counts* in 50 ms bins, not spike times, so their sessions are
count-only (``spike_counts`` ``[n_bins, C]``, ``count_bin_s = 0.05``) with behaviour on the
bin centres and one trial spanning the recording (the files have no trial marks).

Re-binning rule: counts can only be summed into integer multiples of their bin (100 ms,
150 ms, ...). 50 ms counts cannot become the paper's 20 ms bins, so window these sessions at
their native width, ``PreprocessConfig(bin_s=0.05, ...)``; asking for 20 ms raises
``DataError("50 ms counts cannot be binned to 20 ms ...")``.

File quirks handled here (see ``../shared/data/README.md``):
- ``spikes`` is stored as uint8 (arithmetic would wrap): cast to int32 on load.
- M1 (Stevenson 2011): layout (channel, time); ``time`` is the bin time stamp, s, rounded
  (steps 0.0495-0.0505 s). It is read as the bin centre and replaced by the exact 50 ms grid
  (a gap or a deviation over a quarter bin raises). The z row of ``handVel``/``handPos`` is
  all zeros and is dropped. Units m and m/s.
- S1 (Miller lab): layout (time, channel); no time vector (the recording starts at 0 s).
  Units cm and cm/s. It is ~400 concatenated pieces with no join marks (``pos`` jumps, ``vel``
  stays smooth): ``vel`` is the safer target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from alignnet.data.session import Session, SessionMeta, Trials
from alignnet.errors import DataError, FileFormatError

Target = Literal["vel", "pos"]
COUNT_BIN_S = 0.05

M1_VARIABLES = frozenset({"spikes", "handVel", "handPos", "time"})
S1_VARIABLES = frozenset({"spikes", "vel", "pos"})


def _mat_variables(path: Path) -> dict[str, tuple[int, ...]]:
    """Variable name -> shape, without loading the data."""
    import scipy.io

    if not path.is_file():
        raise FileFormatError("file not found", source=path)
    try:
        return {name: tuple(shape) for name, shape, _ in scipy.io.whosmat(str(path))}
    except Exception as exc:  # scipy raises ValueError/TypeError/MatReadError on bad files
        raise FileFormatError(
            f"not a readable MATLAB file (truncated or corrupt?): {exc}", source=path
        ) from exc


def _load(path: Path, names: frozenset[str]) -> dict[str, np.ndarray]:
    import scipy.io

    variables = _mat_variables(path)
    missing = sorted(names - set(variables))
    if missing:
        raise FileFormatError(
            f"missing variables {missing} (file has {sorted(variables)})", source=path
        )
    try:
        return scipy.io.loadmat(str(path), variable_names=sorted(names))
    except Exception as exc:
        raise FileFormatError(f"truncated or corrupt MATLAB file ({exc})", source=path) from exc


def _numeric(raw: Any, *, field: str, path: Path) -> np.ndarray:
    """A numeric 2-D MATLAB matrix, else `DataError` naming ``field`` (a cell array, struct,
    string or an array of another number of dimensions)."""
    values = np.asarray(raw)
    if values.dtype.kind not in "biuf":
        kind = {"O": "a cell array", "V": "a struct", "U": "text", "S": "text"}.get(
            values.dtype.kind, f"of type {values.dtype}"
        )
        raise DataError(f"is {kind}, expected a numeric matrix", field=field, source=path)
    if values.ndim != 2:
        raise DataError(
            f"is a {values.ndim}-D array {values.shape}, expected a 2-D matrix",
            field=field,
            source=path,
        )
    return values


def _counts(raw: np.ndarray, *, path: Path) -> np.ndarray:
    """uint8/double counts -> int32 (no wrap-around); non-integer values are refused."""
    values = _numeric(raw, field="spikes", path=path)
    if values.size == 0:
        raise DataError(f"is empty (shape {values.shape})", field="spikes", source=path)
    if not np.issubdtype(values.dtype, np.integer):
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise DataError("counts are not whole numbers", field="spikes", source=path)
    return values.astype(np.int32)


def _check_target(target: str) -> None:
    if target not in ("vel", "pos"):
        raise ValueError(f"target must be 'vel' or 'pos', got {target!r}")


def _session(
    *,
    path: Path,
    counts: np.ndarray,
    behavior: np.ndarray,
    count_t_start: float,
    meta: SessionMeta,
) -> Session:
    n_bins = counts.shape[0]
    if behavior.shape[0] != n_bins:
        raise DataError(
            f"{behavior.shape[0]} behaviour samples for {n_bins} spike bins",
            field="behavior",
            source=path,
        )
    t_stop = count_t_start + n_bins * COUNT_BIN_S
    return Session(
        t_start=count_t_start,
        t_stop=t_stop,
        behavior=behavior,
        behavior_times=count_t_start + (np.arange(n_bins) + 0.5) * COUNT_BIN_S,
        trials=Trials.single(count_t_start, t_stop),
        meta=meta,
        spike_counts=counts,
        count_bin_s=COUNT_BIN_S,
        count_t_start=count_t_start,
    ).validate()


def load_stevenson_m1(path: str | Path, *, target: Target = "vel") -> Session:
    """Stevenson et al. 2011 M1 file -> count-only `Session` (171 channels, 50 ms bins).

    Args:
        path: ``m1_stevenson_2011.mat``.
        target: behaviour to load, ``"vel"`` (hand velocity, m/s) or ``"pos"`` (m).

    Returns:
        Session with ``spike_counts`` ``[15536, 171]`` int32, behaviour ``[15536, 2]`` (x, y)
        on the bin centres, one trial spanning the recording.
    """
    _check_target(target)
    path = Path(path)
    data = _load(path, M1_VARIABLES)
    counts = _counts(data["spikes"], path=path).T  # (channel, time) -> (time, channel)
    key = "handVel" if target == "vel" else "handPos"
    behavior = _numeric(data[key], field=key, path=path).astype(np.float64).T
    names = ["x", "y", "z"][: behavior.shape[1]]
    if behavior.shape[1] == 3 and not np.any(behavior[:, 2]):
        behavior, names = behavior[:, :2], names[:2]  # z is all zeros in this file
    time = _numeric(data["time"], field="time", path=path).astype(np.float64).ravel()
    if time.shape[0] != counts.shape[0]:
        raise DataError(
            f"{time.shape[0]} time stamps for {counts.shape[0]} bins", field="time", source=path
        )
    grid = time[0] + np.arange(time.shape[0]) * COUNT_BIN_S
    deviation = float(np.max(np.abs(time - grid))) if time.size else 0.0
    if deviation > COUNT_BIN_S / 4:
        raise DataError(
            f"time stamps leave the 50 ms grid by up to {deviation:.4f} s (gaps?)",
            field="time",
            source=path,
        )
    meta = SessionMeta(
        subject="stevenson2011-m1",
        session_id="stevenson2011_m1",
        day=0,
        channel_ids=[f"unit{i:03d}" for i in range(counts.shape[1])],
        behavior_names=names,
        behavior_unit="m/s" if target == "vel" else "m",
        source=str(path),
        extra=_extra(
            "stevenson2011_m1", target, "hand velocity" if target == "vel" else "hand position"
        ),
    )
    return _session(
        path=path,
        counts=counts,
        behavior=behavior,
        count_t_start=float(time[0]) - COUNT_BIN_S / 2,
        meta=meta,
    )


def load_miller_s1(path: str | Path, *, target: Target = "vel") -> Session:
    """Miller-lab S1 file -> count-only `Session` (52 channels, 50 ms bins, starts at 0 s).

    Args:
        path: ``s1_data.mat``.
        target: ``"vel"`` (hand velocity, cm/s) or ``"pos"`` (cm).

    Returns:
        Session with ``spike_counts`` ``[35129, 52]`` int32, behaviour ``[35129, 2]`` on the
        bin centres, one trial spanning the recording.
    """
    _check_target(target)
    path = Path(path)
    data = _load(path, S1_VARIABLES)
    counts = _counts(data["spikes"], path=path)  # already (time, channel)
    behavior = _numeric(data[target], field=target, path=path).astype(np.float64)
    meta = SessionMeta(
        subject="miller-s1",
        session_id="miller_s1",
        day=0,
        channel_ids=[f"unit{i:03d}" for i in range(counts.shape[1])],
        behavior_names=["x", "y"][: behavior.shape[1]] if behavior.ndim == 2 else ["x"],
        behavior_unit="cm/s" if target == "vel" else "cm",
        source=str(path),
        extra={
            **_extra("miller_s1", target, "hand velocity" if target == "vel" else "hand position"),
            "note": "about 400 concatenated pieces without join marks; pos jumps at the joins",
        },
    )
    return _session(path=path, counts=counts, behavior=behavior, count_t_start=0.0, meta=meta)


def _extra(dataset: str, target: str, description: str) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "target": target,
        "behavior_description": description,
        "origin": "KordingLab/spykesML data/ (commit ff2b1830ae07909e5f1a0811445ca3fd5732dc6f)",
        "count_bin_s": COUNT_BIN_S,
    }


def load_mat_session(path: str | Path, *, target: Target = "vel") -> Session:
    """Recognise one of the two known ``.mat`` layouts by its variable names and load it.

    Raises:
        FileFormatError: missing, unreadable, or a ``.mat`` file of unknown layout.
    """
    path = Path(path)
    names = set(_mat_variables(path))
    if M1_VARIABLES <= names:
        return load_stevenson_m1(path, target=target)
    if S1_VARIABLES <= names:
        return load_miller_s1(path, target=target)
    partial = [
        (layout, known)
        for layout, known in (("Stevenson M1", M1_VARIABLES), ("Miller S1", S1_VARIABLES))
        if "spikes" in names and names <= known
    ]
    if partial:  # the first variables of a known layout: a file cut short
        layout, known = partial[0] if len(partial) == 1 else (".mat", frozenset())
        missing = f", missing {sorted(known - names)}" if known else ""
        raise FileFormatError(
            f"truncated or incomplete {layout} file: has only {sorted(names)}{missing}",
            source=path,
        )
    raise FileFormatError(
        f"unknown .mat layout (variables {sorted(names)}); known: Stevenson M1 "
        f"{sorted(M1_VARIABLES)}, Miller S1 {sorted(S1_VARIABLES)}",
        source=path,
    )
