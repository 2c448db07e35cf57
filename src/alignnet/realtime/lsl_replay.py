"""`alignnet stream-replay`: a recording published as Lab Streaming Layer streams.

Publishes one day of a recording the way an acquisition system would, so that the whole
closed loop (`alignnet stream`) can be tried without a rig:

- spikes as binned counts (``C`` channels, nominal rate ``1 / bin_s``, one sample per bin,
  time-stamped with the bin's end) or as spike events (1 channel holding the channel
  index, irregular rate, one sample per spike, time-stamped with the spike time);
- optionally the behaviour, one sample per bin (``D`` channels, names and unit in ``desc``).

Time stamps follow the recording's own time line, anchored at the replay's start on this
machine's LSL clock; samples are pushed when their time comes (``speed`` x real time; 0: as
fast as possible). Spike events should be replayed at ``speed >= 1`` (`alignnet stream`
closes an event bin when this machine's clock passes its end).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from alignnet.errors import StreamError
from alignnet.realtime.lsl_config import import_pylsl


@dataclass
class ReplayOptions:
    """Settings of `replay`.

    Attributes:
        name, source_id: of the spike stream (the behaviour stream is ``name + "-behavior"``).
        form: ``"counts"`` or ``"events"``.
        behavior: also publish the behaviour.
        speed: multiple of real time (0: no pacing).
        wait_consumer_s: wait up to this long for a first consumer of the spike stream
            before the first sample (0: start at once; samples before a consumer connects
            are not seen by it).
        max_bins: publish at most this many bins (None: the whole day).
        progress_s: seconds between progress lines on stderr (0: none).
        linger_s: keep the streams up this long after the last sample (a consumer that
            sees its source vanish drops the samples it has not read yet); None: 2 s, plus
            2 ms per bin at ``speed`` 0 (all bins were pushed at once and a consumer may still
            be reading them).
    """

    name: str = "AlignNet-replay"
    source_id: str = "alignnet-replay"
    form: str = "counts"
    behavior: bool = False
    speed: float = 1.0
    wait_consumer_s: float = 0.0
    max_bins: int | None = None
    progress_s: float = 5.0
    linger_s: float | None = None


def _outlet(
    pylsl: Any,
    *,
    name: str,
    kind: str,
    labels: list[str],
    unit: str,
    rate: float,
    fmt: str,
    source_id: str,
) -> Any:
    info = pylsl.StreamInfo(name, kind, len(labels), rate, fmt, source_id)
    channels = info.desc().append_child("channels")
    for label in labels:
        ch = channels.append_child("channel")
        ch.append_child_value("label", label)
        ch.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


def spike_events(
    counts_edges: np.ndarray, spike_times: list[np.ndarray] | None, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(times [S] s, channels [S])`` sorted by time: the session's spike times, or, for a
    count-only session, each counted spike placed at the centre of its bin."""
    if spike_times is not None:
        lo, hi = counts_edges[0], counts_edges[-1]
        parts = [
            (t[(t >= lo) & (t < hi)], np.full(int(((t >= lo) & (t < hi)).sum()), c))
            for c, t in enumerate(spike_times)
        ]
        times = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
        chans = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=int)
    else:
        centres = 0.5 * (counts_edges[:-1] + counts_edges[1:])
        n = np.rint(counts).astype(np.int64)
        rows, cols = np.nonzero(n)
        reps = n[rows, cols]
        times, chans = np.repeat(centres[rows], reps), np.repeat(cols, reps)
    order = np.argsort(times, kind="stable")
    return times[order], chans[order]


def replay(
    counts: np.ndarray,
    edges: np.ndarray,
    *,
    behavior: np.ndarray | None = None,
    behavior_names: list[str] | None = None,
    behavior_unit: str = "a.u.",
    spike_times: list[np.ndarray] | None = None,
    options: ReplayOptions,
    err: TextIO | None = None,
) -> int:
    """Publish ``counts [T, C]`` (bin edges ``[T + 1]`` s) and optionally ``behavior [T, D]``;
    returns the number of bins published. Ctrl-C stops it cleanly."""
    pylsl = import_pylsl()
    err = err or sys.stderr
    if options.form not in ("counts", "events"):
        raise StreamError(f"form must be counts or events, got {options.form!r}")
    n_bins = counts.shape[0] if options.max_bins is None else min(options.max_bins, counts.shape[0])
    counts, edges = counts[:n_bins], edges[: n_bins + 1]
    bin_s = float(edges[1] - edges[0])
    n_channels = counts.shape[1]
    if options.form == "counts":
        spikes = _outlet(
            pylsl,
            name=options.name,
            kind="SpikeCounts",
            labels=[f"ch{c}" for c in range(n_channels)],
            unit="count",
            rate=1.0 / bin_s,
            fmt="float32",
            source_id=options.source_id,
        )
    else:
        spikes = _outlet(
            pylsl,
            name=options.name,
            kind="SpikeEvents",
            labels=["channel"],
            unit="index",
            rate=0.0,
            fmt="int32",
            source_id=options.source_id,
        )
    beh_outlet = None
    if options.behavior and behavior is not None:
        names = behavior_names or [f"behavior{i}" for i in range(behavior.shape[1])]
        beh_outlet = _outlet(
            pylsl,
            name=options.name + "-behavior",
            kind="Behavior",
            labels=list(names),
            unit=behavior_unit,
            rate=1.0 / bin_s,
            fmt="float32",
            source_id=options.source_id + "-behavior",
        )
    print(
        f"replay: {n_bins} bins of {n_channels} channels ({bin_s * 1000:g} ms) as "
        f"{options.form} on {options.name!r}"
        + (f", behaviour on {options.name + '-behavior'!r}" if beh_outlet else ""),
        file=err,
        flush=True,
    )
    if options.wait_consumer_s > 0 and not spikes.wait_for_consumers(options.wait_consumer_s):
        print("replay: no consumer yet; starting anyway", file=err, flush=True)
    if options.form == "events":
        ev_times, ev_chans = spike_events(edges, spike_times, counts)
        ev_bin = np.searchsorted(edges, ev_times, side="right") - 1
    t0 = pylsl.local_clock()
    wall0 = time.monotonic()
    last_progress = wall0
    sent = 0
    cursor = 0
    try:
        for k in range(n_bins):
            end = float(edges[k + 1] - edges[0])  # recording time of the bin's end
            if options.speed > 0:
                delay = end / options.speed - (time.monotonic() - wall0)
                if delay > 0:
                    time.sleep(delay)
            if options.form == "counts":
                spikes.push_sample(counts[k].astype(np.float32).tolist(), t0 + end)
            else:
                while cursor < len(ev_times) and ev_bin[cursor] <= k:
                    stamp = t0 + float(ev_times[cursor] - edges[0])
                    spikes.push_sample([int(ev_chans[cursor])], stamp)
                    cursor += 1
            if beh_outlet is not None and behavior is not None:
                beh_outlet.push_sample(behavior[k].astype(np.float32).tolist(), t0 + end)
            sent = k + 1
            if options.progress_s and time.monotonic() - last_progress >= options.progress_s:
                last_progress = time.monotonic()
                print(f"replay: {sent}/{n_bins} bins", file=err, flush=True)
        print(f"replay: done, {sent} bins published", file=err, flush=True)
        linger = options.linger_s
        if linger is None:
            linger = 2.0 + (0.002 * sent if options.speed == 0 else 0.0)
        time.sleep(linger)
    except KeyboardInterrupt:
        print(f"replay: stopped (Ctrl-C) after {sent} bins", file=err, flush=True)
    return sent
