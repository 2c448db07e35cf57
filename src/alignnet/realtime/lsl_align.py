"""``alignnet stream --align-first S``: align a model to a new day from its live spikes.

Collects ``S`` seconds of the input stream (binned counts, any channel count: sorted units
change from day to day), cuts them into the model's windows and runs `AlignNet.align` (no
behaviour needed); `alignnet stream` then decodes that day, from the first bin that arrives
after the alignment (the bins published while the model aligns are not decoded).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import numpy as np

from alignnet.errors import StreamError
from alignnet.realtime.lsl_config import import_pylsl
from alignnet.realtime.lsl_input import check_counts


def collect_counts(options: Any, *, seconds: float, bin_s: float, err: TextIO) -> np.ndarray:
    """``[T, N]`` counts of the first ``seconds`` of the input stream (``options``:
    `StreamOptions`); samples with NaN or negative counts are skipped."""
    pylsl = import_pylsl()
    found = pylsl.resolve_bypred(options.predicate(), minimum=1, timeout=options.resolve_timeout_s)
    if not found:
        raise StreamError(f"no LSL stream matching {options.predicate()} found")
    info = found[0]
    if info.nominal_srate() <= 0 or abs(info.nominal_srate() * bin_s - 1) > 1e-6:
        raise StreamError(
            f"--align-first needs binned counts at {1 / bin_s:g} Hz; {info.name()!r} has "
            f"{info.nominal_srate():g} Hz"
        )
    inlet = pylsl.StreamInlet(info, max_buflen=max(60, int(seconds) + 10), recover=False)
    inlet.open_stream(timeout=options.resolve_timeout_s)
    rows: list[np.ndarray] = []
    need = int(round(seconds / bin_s))
    deadline = time.monotonic() + seconds * 4 + options.resolve_timeout_s
    print(f"align: collecting {seconds:g} s ({need} bins) of {info.name()!r}", file=err)
    while len(rows) < need and time.monotonic() < deadline:
        sample, _ = inlet.pull_sample(timeout=0.5)
        if sample is not None:
            row = np.asarray(sample, dtype=np.float32)
            if check_counts(row) is None:
                rows.append(row)
    inlet.close_stream()
    if not rows:
        raise StreamError("--align-first: no usable sample arrived")
    return np.stack(rows)


def align_from_stream(
    model: Any,
    *,
    seconds: float,
    day: int | None,
    bin_s: float,
    options: Any,
    err: TextIO | None = None,
) -> int:
    """Align ``model`` (an `AlignNet`) to the stream's first ``seconds``; returns the day
    index it now decodes (``day``, or one past the days it knows)."""
    err = err or sys.stderr
    counts = collect_counts(options, seconds=seconds, bin_s=bin_s, err=err)
    length = model.config.model.window_len
    n = counts.shape[0] // length
    if n < 1:
        raise StreamError(
            f"--align-first: {counts.shape[0]} bins collected; one window needs {length} "
            f"({length * bin_s:g} s)"
        )
    windows = counts[: n * length].reshape(n, length, -1).transpose(0, 2, 1)  # [N, C, L]
    if day is None:
        norm = model.normalizer
        known = sorted(norm.day_spike_mean) if norm is not None and norm.per_day else []
        day = (max(known) + 1) if known else 0
    print(f"align: {n} windows of {counts.shape[1]} channels -> day {day}", file=err)
    model.align(np.ascontiguousarray(windows), day=day, progress=False)
    return int(day)
