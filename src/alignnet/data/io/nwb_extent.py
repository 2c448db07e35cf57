"""The recording extent of an NWB day that has no behaviour to take it from.

With behaviour, the extent is the behaviour's time span (`alignnet.data.io.nwb`). An
unlabelled day (spikes only, as a new closed-loop day arrives) takes it, in this order, from:

1. ``"acquisition"``: the span of the acquired series in ``acquisition`` (raw voltage or any
   other ``TimeSeries``: ``starting_time`` + samples / ``rate``, or its time stamps), the
   recording itself; spikes outside it are dropped, and a day whose spikes all fall outside
   it is refused (`DataError`: the clocks differ);
2. ``"spikes+trials"``: from the first spike or trial start, whichever is earlier, to the last
   spike or trial stop, whichever is later (spikes rounded out to whole milliseconds); a
   trial table alone does not bound the recording (spikes between trials are normal).

Which one was used is stated in the `Session` (``meta.extra["extent_from"]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _series_span(series: Any) -> tuple[float, float] | None:
    n = int(series.data.shape[0]) if getattr(series, "data", None) is not None else 0
    if n == 0:
        return None
    if getattr(series, "timestamps", None) is not None:
        stamps = np.asarray(series.timestamps[:], dtype=np.float64)
        return float(stamps[0]), float(stamps[-1])
    rate = getattr(series, "rate", None)
    if not rate:
        return None
    t0 = float(getattr(series, "starting_time", 0.0) or 0.0)
    return t0, t0 + n / float(rate)


def acquisition_span(nwbfile: Any) -> tuple[float, float] | None:
    """``(t_start, t_stop)`` s covered by the file's acquired series, or None."""
    spans = [s for s in (_series_span(v) for v in nwbfile.acquisition.values()) if s]
    if not spans:
        return None
    return min(a for a, _ in spans), max(b for _, b in spans)


def trials_span(nwbfile: Any) -> tuple[float, float] | None:
    """``(first start, last stop)`` s of the trials table, or None."""
    table = nwbfile.trials
    if table is None or len(table) == 0:
        return None
    start = np.asarray(table["start_time"].data[:], dtype=np.float64)
    stop = np.asarray(table["stop_time"].data[:], dtype=np.float64)
    return float(start.min()), float(stop.max())


def spikes_span(spike_times: list[np.ndarray]) -> tuple[float, float] | None:
    """``(t_start, t_stop)`` s: first to last spike, rounded out to whole ms; None if none."""
    nonempty = [t for t in spike_times if t.size]
    if not nonempty:
        return None
    first = min(float(t[0]) for t in nonempty)
    last = max(float(t[-1]) for t in nonempty)
    return float(np.floor(first * 1e3) / 1e3), float(np.floor(last * 1e3) / 1e3 + 1e-3)


def unlabelled_extent(
    nwbfile: Any, spike_times: list[np.ndarray] | None
) -> tuple[float, float, str] | None:
    """``(t_start, t_stop, source)`` of a day without behaviour (see the module docstring),
    or None when nothing in the file states one."""
    acquired = acquisition_span(nwbfile)
    if acquired is not None and acquired[1] > acquired[0]:
        return acquired[0], acquired[1], "acquisition"
    spans = [x for x in (trials_span(nwbfile), spikes_span(spike_times or [])) if x]
    if not spans:
        return None
    t_start, t_stop = min(a for a, _ in spans), max(b for _, b in spans)
    return (t_start, t_stop, "spikes+trials") if t_stop > t_start else None
