"""`import_raw`: raw acquisition file (+ behaviour, + trial table) -> `Session`.

Alignment rule: everything is on the recording's clock. Sample ``k`` of the raw file is at
``t = t_start + k / rate_hz`` (``t_start`` as the file states it, 0 for plain binary unless
given); spike times are those sample times; behaviour time stamps and trial start/stop times
are read as seconds on that same clock, never shifted or rescaled. Behaviour must overlap the
recording; it is then cut to the recording's extent, and the session spans the overlap of the
recording and the behaviour (a behaviour file that starts late or ends early shortens the
session rather than leaving spikes without behaviour).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alignnet.data.io.raw.base import RawRecording
from alignnet.data.session import Session, SessionMeta, Trials
from alignnet.errors import DataError, FileFormatError

if TYPE_CHECKING:
    from alignnet.data.preprocess.detection import DetectionConfig

TIME_COLUMNS = ("time", "t", "time_s", "timestamp", "timestamps")


def import_raw(
    recording: RawRecording | str | Path,
    *,
    behavior: str | Path | None = None,
    trials: str | Path | None = None,
    config: DetectionConfig | None = None,
    chunk_s: float = 10.0,
    progress: bool = False,
    meta: SessionMeta | None = None,
    **open_kw: Any,
) -> Session:
    """Detect spikes in a raw recording and build a validated `Session`.

    Args:
        recording: an open `RawRecording`, or a path given to `open_recording` with ``open_kw``.
        behavior: CSV (header row; a time column named one of `TIME_COLUMNS`, else the first
            column; the other columns are behaviour dimensions), NWB (through
            `alignnet.data.io.load_session`) or ``.mat`` (``time`` + ``behavior`` variables, or one
            2-D matrix whose first column is time). Times in s on the recording's clock. If None,
            the session gets an all-zero one-dimensional behaviour at 1 kHz (spikes only).
        trials: CSV with columns ``start``, ``stop`` (s) and optionally ``target``, ``success``;
            if None, one trial spans the session.
        config: detection settings.
        chunk_s: detection chunk length, s (memory bound).
        progress: show a progress bar.
        meta: metadata to start from (channel ids, rate and source are filled in).

    Returns:
        The validated session; ``meta.extra["detection"]`` records the detection settings and
        the noise levels.

    Raises:
        FileFormatError: unreadable recording / behaviour / trials file.
        DataError: behaviour not overlapping the recording, bad trials (named field).
    """
    from alignnet.data.io.raw.open import open_recording
    from alignnet.data.preprocess.detection import (
        DetectionConfig,
        detect_spikes_chunked,
        estimate_noise_levels,
    )

    source = (
        recording if isinstance(recording, RawRecording) else open_recording(recording, **open_kw)
    )
    config = config or DetectionConfig()
    rec_start, rec_stop = source.t_start, source.t_stop

    if behavior is not None:
        b_times, b_values, b_names = load_behavior(behavior)
        t_start, t_stop = _overlap(b_times, rec_start, rec_stop, source=str(behavior))
        keep = (b_times >= t_start - 1e-9) & (b_times <= t_stop + 1e-9)
        b_times, b_values = b_times[keep], b_values[keep]
        t_start, t_stop = max(t_start, float(b_times[0])), min(t_stop, float(b_times[-1]))
    else:
        t_start, t_stop = rec_start, rec_stop
        b_times = np.arange(rec_start, rec_stop, 1e-3)
        b_values = np.zeros((b_times.size, 1))
        b_names = ["none"]

    noise = estimate_noise_levels(source, config=config)
    spikes = detect_spikes_chunked(
        source, config=config, chunk_s=chunk_s, progress=progress, noise_levels_uv=noise
    )
    spikes = [s[(s >= t_start) & (s <= t_stop)] for s in spikes]

    trial_table = load_trials(trials) if trials is not None else Trials.single(t_start, t_stop)
    meta = meta or SessionMeta()
    meta.channel_ids = list(source.channel_ids)
    meta.behavior_names = b_names
    meta.spike_sampling_rate_hz = source.rate_hz
    meta.source = meta.source or source.source
    meta.extra = {
        **meta.extra,
        "detection": {
            "band_hz": list(config.band_hz),
            "filter_order": config.filter_order,
            "threshold": config.threshold,
            "sign": config.sign,
            "dead_time_ms": config.dead_time_ms,
            "noise_seed": config.noise_seed,
            "noise_levels_uv": noise.tolist(),
            "recording_t_start": rec_start,
            "recording_t_stop": rec_stop,
        },
    }
    return Session(
        t_start=t_start,
        t_stop=t_stop,
        behavior=b_values,
        behavior_times=b_times,
        trials=trial_table,
        meta=meta,
        spike_times=spikes,
    ).validate()


def _overlap(
    times: np.ndarray, rec_start: float, rec_stop: float, *, source: str
) -> tuple[float, float]:
    start, stop = max(rec_start, float(times[0])), min(rec_stop, float(times[-1]))
    if stop <= start:
        raise DataError(
            f"behaviour covers {times[0]:.3f}..{times[-1]:.3f} s but the recording covers "
            f"{rec_start:.3f}..{rec_stop:.3f} s: no overlap (times must be on the recording's "
            "clock, t = t_start + sample / rate)",
            field="behavior_times",
            source=source,
        )
    return start, stop


# --------------------------------------------------------------------------- behaviour
def load_behavior(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read behaviour from CSV, NWB or ``.mat``.

    Returns:
        (times ``[n]`` s, values ``[n, D]`` float64, names ``[D]``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError("behaviour file not found", source=path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        header, table = _read_table(path)
        lowered = [h.lower() for h in header]
        t_col = next((lowered.index(c) for c in TIME_COLUMNS if c in lowered), 0)
        names = [h for i, h in enumerate(header) if i != t_col]
        if not names:
            raise DataError("needs a time column and at least one value column", source=path)
        times = table[:, t_col]
        values = np.delete(table, t_col, axis=1)
    elif suffix == ".nwb":
        from alignnet.data.io import load_session

        session = load_session(path)
        times, values, names = (
            session.behavior_times,
            session.behavior,
            list(session.meta.behavior_names),
        )
    elif suffix == ".mat":
        times, values, names = _mat_behavior(path)
    else:
        raise FileFormatError(
            f"unknown behaviour file type {suffix!r} (expected .csv, .nwb or .mat)", source=path
        )
    if times.size < 2 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise DataError(
            "time stamps must be finite, strictly increasing, at least 2",
            field="behavior_times",
            source=path,
        )
    if not np.all(np.isfinite(values)):
        raise DataError("NaN or inf values", field="behavior", source=path)
    return times.astype(np.float64), values.astype(np.float64), names


def _mat_behavior(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from scipy.io import loadmat

    try:
        data = {k: v for k, v in loadmat(path).items() if not k.startswith("__")}
    except Exception as exc:
        raise FileFormatError(f"cannot read .mat: {exc}", source=path) from exc
    t_key = next((k for k in TIME_COLUMNS if k in data), None)
    if t_key is not None and "behavior" in data:
        times = np.asarray(data[t_key], dtype=np.float64).ravel()
        values = np.asarray(data["behavior"], dtype=np.float64)
        if values.ndim == 1 or values.shape[0] != times.size and values.shape[1] == times.size:
            values = values.reshape(-1, times.size).T
        if values.shape[0] != times.size:
            raise DataError(
                f"{values.shape[0]} behaviour rows for {times.size} time stamps",
                field="behavior",
                source=path,
            )
    else:
        matrices = [
            k
            for k, v in data.items()
            if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] >= 2
        ]
        if len(matrices) != 1:
            raise FileFormatError(
                "expected variables 'time' and 'behavior', or one [n, 1 + D] matrix whose first "
                f"column is time; found {sorted(data)}",
                source=path,
            )
        table = np.asarray(data[matrices[0]], dtype=np.float64)
        times, values = table[:, 0], table[:, 1:]
    names = (
        ["x", "y", "z"][: values.shape[1]]
        if values.shape[1] <= 3
        else [f"b{i}" for i in range(values.shape[1])]
    )
    return times, values, names


# --------------------------------------------------------------------------- trials
def load_trials(path: str | Path) -> Trials:
    """Trial table from a CSV with columns ``start``, ``stop`` [, ``target``, ``success``]
    (times in s on the recording's clock; success as 1/0/true/false)."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError("trials file not found", source=path)
    header, rows = _read_rows(path)
    lowered = [h.lower() for h in header]
    for need in ("start", "stop"):
        if need not in lowered:
            raise DataError(f"missing column {need!r} (have {header})", field=need, source=path)

    def column(name: str, parse) -> np.ndarray | None:  # tiny local helper
        if name not in lowered:
            return None
        i = lowered.index(name)
        out = []
        for r, row in enumerate(rows, start=2):
            try:
                out.append(parse(row[i]))
            except (ValueError, IndexError) as exc:
                raise DataError(
                    f"line {r}: cannot read {row[i : i + 1]}", field=name, source=path
                ) from exc
        return np.array(out)

    start = column("start", float)
    stop = column("stop", float)
    assert start is not None and stop is not None
    target = column("target", lambda s: int(float(s)))
    success = column("success", _parse_bool)
    n = start.size
    return Trials(
        start=start,
        stop=stop,
        target=target if target is not None else np.full(n, -1),
        success=success if success is not None else np.ones(n, dtype=bool),
    )


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "y", "t", "1.0"):
        return True
    if value in ("0", "false", "no", "n", "f", "0.0"):
        return False
    raise ValueError(text)


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [
            r for r in csv.reader(handle, delimiter=delimiter) if r and any(c.strip() for c in r)
        ]
    if len(rows) < 2:
        raise FileFormatError("needs a header row and at least one data row", source=path)
    return [h.strip() for h in rows[0]], rows[1:]


def _read_table(path: Path) -> tuple[list[str], np.ndarray]:
    header, rows = _read_rows(path)
    try:
        table = np.array([[float(c) for c in row] for row in rows], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"non-numeric value: {exc}", source=path) from exc
    if table.ndim != 2 or table.shape[1] != len(header):
        raise DataError(f"rows do not all have {len(header)} columns like the header", source=path)
    return header, table
