"""Input handling of `AlignNet`: sessions -> windows, the validation split, array checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alignnet.config import ModelConfig
from alignnet.data.checks import check_array, check_spike_counts
from alignnet.data.registry import DayRegistry
from alignnet.data.session import Session
from alignnet.data.windows import Windows, split_by_trial
from alignnet.errors import DataError


def as_windows(data: Windows | Session | Sequence[Session], *, name: str = "data") -> Windows:
    """``data`` as `Windows`; sessions are preprocessed with the CLI's rule."""
    if isinstance(data, Windows):
        return data
    if isinstance(data, Session) or (
        isinstance(data, Sequence) and data and all(isinstance(s, Session) for s in data)
    ):
        from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows

        sessions = [data] if isinstance(data, Session) else list(data)
        return sessions_to_windows(sessions, preprocess_config_for(sessions))
    raise DataError(
        f"expected Windows or a sequence of Session, got {type(data).__name__}", source=name
    )


def split_val(
    windows: Windows, fraction: float, *, seed: int, min_trials: int = 5
) -> tuple[Windows, Windows | None]:
    """(train, val) split by trial, or (windows, None) when there are too few trials."""
    if fraction <= 0:
        return windows, None
    for d in windows.days:
        if np.unique(windows.trial[windows.day == d]).size < min_trials:
            return windows, None
    tr, va = split_by_trial(windows, test_fraction=fraction, contiguous=False, seed=seed)
    return windows[tr], windows[va]


def _check_windows_array(
    arr: np.ndarray, *, field: str, source: str, shape_ok: bool, want: str
) -> None:
    """Shape, finiteness and N > 0 of a ``[N, ., L]`` window array."""
    if not shape_ok:
        raise DataError(f"shape {arr.shape}, this model expects {want}", field=field, source=source)
    check_array(arr, field=field, source=source)
    if arr.shape[0] == 0:
        raise DataError("no windows (N = 0)", field=field, source=source)


def check_spikes(
    spikes: np.ndarray,
    *,
    model: ModelConfig,
    registry: DayRegistry,
    source: str,
    days: np.ndarray | None = None,
) -> np.ndarray:
    """``[N, C_day, L]`` float32 counts, checked against the model's shape and day read-ins.

    Raises:
        DataError: wrong rank, channel count, window length, NaN/inf, or no windows.
    """
    spikes = np.asarray(spikes, dtype=np.float32)
    if spikes.ndim != 3:
        raise DataError(
            f"expected [N, C, L], got shape {spikes.shape}", field="spikes", source=source
        )
    for d in [] if days is None else np.unique(days).tolist():
        own = registry.adapter_width(int(d), 0)
        want = own or model.n_channels
        if spikes.shape[1] == want or (own and spikes.shape[1] > want):
            continue
        if own:
            why = f"{spikes.shape[1]} channels for day {d}, but its read-in takes {want}"
        else:
            why = f"{spikes.shape[1]} channels, but this model was built for {want}"
            if int(d) != -1:
                why += f" and has no read-in for day {d}: align the day first (align())"
        raise DataError(why, field="spikes", source=source)
    if days is None and spikes.shape[1] != model.n_channels:
        raise DataError(
            f"{spikes.shape[1]} channels, but this model was built for {model.n_channels}",
            field="spikes",
            source=source,
        )
    if spikes.shape[2] != model.window_len:
        raise DataError(
            f"window length {spikes.shape[2]} bins, but this model expects {model.window_len}",
            field="spikes",
            source=source,
        )
    _check_windows_array(spikes, field="spikes", source=source, shape_ok=True, want="")
    return spikes


def check_behavior(behavior: np.ndarray, *, model: ModelConfig, source: str) -> np.ndarray:
    """``[N, D, L]`` float32 behaviour, checked against the model's shape."""
    behavior = np.asarray(behavior, dtype=np.float32)
    ok = behavior.ndim == 3 and behavior.shape[1:] == (model.n_behavior, model.window_len)
    want = f"[N, {model.n_behavior}, {model.window_len}]"
    _check_windows_array(behavior, field="behavior", source=source, shape_ok=ok, want=want)
    return behavior


def check_new_day_spikes(spikes: np.ndarray, *, day: int, window_len: int) -> np.ndarray:
    """``[N > 0, N_d, L]`` float32 counts of a day to align, with at least one spike."""
    spikes = np.asarray(spikes, dtype=np.float32)
    if spikes.ndim != 3 or spikes.shape[0] == 0 or spikes.shape[2] != window_len:
        raise DataError(
            f"expected [N > 0, N_d, {window_len}], got {spikes.shape}",
            field="spikes",
            source="align",
        )
    check_array(spikes, field="spikes", source="align")
    check_spike_counts(spikes, source="align")
    if not spikes.any():
        raise DataError(
            f"day {day} has zero spikes on every channel: nothing to align",
            field="spikes",
            source="align",
        )
    return spikes
