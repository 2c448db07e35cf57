"""Spike *event* files (Blackrock ``.nev``, Ripple ``.nev``, Plexon ``.plx``) -> `Session`.

A Utah-array rig stores what its online detector saw, not 30 kHz voltage: one event per
threshold crossing, with the electrode and an online sort code (Blackrock: ``0`` unsorted
crossing, ``1..5`` sorted units, ``255`` noise). This module reads those events through neo
(``pip install "alignnet[ephys]"``: ``BlackrockRawIO`` for ``.nev``, which also reads Ripple's
NEV files, ``PlexonRawIO`` for ``.plx``); it does not parse the files itself.

Channels (``units=``):

- ``"crossings"`` (default, the BCI practice): every event of an electrode except noise
  (sort code 255) is one threshold crossing of that electrode: one channel per electrode the
  file declares, the same channels every day (policy ``"electrode"``; an electrode without
  events is an all-zero, flagged channel);
- ``"sorted"``: one channel per sorted unit (codes 1..254), policy ``"unit"``;
- ``"both"``: the crossings channels followed by the sorted units (policy ``"unit"``).

Behaviour comes from a named analog channel of the ``.ns2``/``.ns3`` files next to the
``.nev`` (``behavior_channel=``, e.g. ``"ainp1"``; ``"ainp1,ainp2"`` for several), or from a
behaviour file (CSV / NWB / ``.mat`` on the recording's clock, read by the caller with
`alignnet.data.io.raw.load_behavior`), or there is none (an unlabelled day). The recording extent is the analog channel's span (with behaviour)
or the first to the last event.

Errors (`DataError`): a behaviour channel that is not in the files (the message lists the
analog channels), a behaviour channel on another clock (its span does not overlap the
events), a day whose spikes all fall outside the stated extent, no events at all.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np

from alignnet.data.io.raw.vendor import INSTALL_HINT
from alignnet.data.session import Session, SessionMeta, Trials
from alignnet.errors import DataError, FileFormatError

UnitChoice = Literal["crossings", "sorted", "both"]
UNIT_CHOICES: tuple[str, ...] = ("crossings", "sorted", "both")
EVENT_SUFFIXES = (".nev", ".plx")
NOISE_CODE = 255
_ID = re.compile(r"(\d+)\s*#\s*(\d+)")


def _open_neo(path: Path) -> Any:
    try:
        import neo.rawio as rawio
    except ImportError as exc:
        raise FileFormatError(
            f"reading event files needs neo: {INSTALL_HINT}", source=path
        ) from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".nev":
            reader = rawio.BlackrockRawIO(filename=str(path.with_suffix("")), nsx_to_load="all")
        elif suffix == ".plx":
            reader = rawio.PlexonRawIO(filename=str(path))
        else:
            raise FileFormatError(
                f"not a spike event file (expected one of {EVENT_SUFFIXES})", source=path
            )
        reader.parse_header()
    except FileFormatError:
        raise
    except Exception as exc:  # neo raises many types on damaged files
        raise FileFormatError(
            f"neo could not read it ({type(exc).__name__}: {exc})", source=path
        ) from exc
    return reader


def _declared_electrodes(reader: Any) -> list[int] | None:
    """Every electrode the file declares (Blackrock: its NEUEVWAV headers), with or without
    events; None when the reader does not say."""
    ext = getattr(reader, "_nev_ext_header", None)
    if isinstance(ext, dict) and b"NEUEVWAV" in ext:
        return sorted(int(e) for e in np.asarray(ext[b"NEUEVWAV"]["electrode_id"]))
    return None


def read_events(path: str | Path) -> tuple[dict[tuple[int, int], np.ndarray], list[int], Any]:
    """``({(electrode, code): spike times s}, declared electrodes, the neo reader)``."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError("file not found", source=path)
    reader = _open_neo(path)
    events: dict[tuple[int, int], np.ndarray] = {}
    channels = reader.header["spike_channels"]
    for index, channel in enumerate(channels):
        match = _ID.search(str(channel["id"])) or _ID.search(str(channel["name"]))
        key = (int(match.group(1)), int(match.group(2))) if match else (index + 1, 1)
        stamps = reader.get_spike_timestamps(
            block_index=0, seg_index=0, spike_channel_index=index, t_start=None, t_stop=None
        )
        times = np.sort(reader.rescale_spike_timestamp(stamps, dtype="float64"))
        events[key] = np.concatenate([events[key], times]) if key in events else times
    declared = _declared_electrodes(reader) or sorted({e for e, _ in events})
    return events, declared, reader


def analog_channel(
    reader: Any, names: str, *, path: Path
) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """``(times [n] s, values [n, D], names, unit)`` of named analog channels (``.ns2``...)."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    signals = reader.header["signal_channels"]
    found = {str(c["name"]): i for i, c in enumerate(signals)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise DataError(
            f"no analog channel {missing} next to the event file; the .ns2/.ns3 files hold "
            f"{sorted(found) or 'no analog channels'}",
            field="behavior_channel",
            source=path,
        )
    streams = {str(signals[found[n]]["stream_id"]) for n in wanted}
    if len(streams) > 1:
        raise DataError(
            f"channels {wanted} are in different files (streams {sorted(streams)}): their "
            "clocks differ; take them from one .nsX",
            field="behavior_channel",
            source=path,
        )
    stream_ids = [str(s["id"]) for s in reader.header["signal_streams"]]
    stream_index = stream_ids.index(streams.pop())
    stream_channels = [
        i for i, c in enumerate(signals) if str(c["stream_id"]) == stream_ids[stream_index]
    ]
    columns = [stream_channels.index(found[n]) for n in wanted]
    raw = reader.get_analogsignal_chunk(
        block_index=0, seg_index=0, stream_index=stream_index, channel_indexes=columns
    )
    values = reader.rescale_signal_raw_to_float(
        raw, dtype="float64", stream_index=stream_index, channel_indexes=columns
    )
    rate = float(signals[found[wanted[0]]]["sampling_rate"])
    t0 = float(reader.get_signal_t_start(block_index=0, seg_index=0, stream_index=stream_index))
    times = t0 + np.arange(values.shape[0]) / rate
    return times, np.asarray(values, np.float64), wanted, str(signals[found[wanted[0]]]["units"])


def _channels(
    events: dict[tuple[int, int], np.ndarray], declared: list[int], units: str
) -> tuple[list[np.ndarray], list[str], list[int], str]:
    """``(spike times per channel, ids, flagged indices, channel policy)``."""
    spikes: list[np.ndarray] = []
    ids: list[str] = []
    flagged: list[int] = []
    if units in ("crossings", "both"):
        for e in declared:
            mine = [t for (el, code), t in events.items() if el == e and code != NOISE_CODE]
            times = np.sort(np.concatenate(mine)) if mine else np.zeros(0)
            if times.size == 0:
                flagged.append(len(spikes))
            spikes.append(times)
            ids.append(f"elec{e}")
    if units in ("sorted", "both"):
        for (e, code), times in sorted(events.items()):
            if 0 < code < NOISE_CODE:
                spikes.append(np.sort(times))
                ids.append(f"elec{e}#{code}")
    if units not in UNIT_CHOICES:
        raise ValueError(f"units must be one of {UNIT_CHOICES}, got {units!r}")
    return spikes, ids, flagged, "electrode" if units == "crossings" else "unit"


def import_events(
    path: str | Path,
    *,
    units: UnitChoice = "crossings",
    behavior_channel: str | None = None,
    behavior: tuple[np.ndarray, np.ndarray, list[str]] | None = None,
    trials: Trials | None = None,
    meta: SessionMeta | None = None,
) -> Session:
    """Read a spike event file (+ behaviour, + trials) into a validated `Session`.

    Args:
        path: ``.nev`` (Blackrock or Ripple) or ``.plx`` (Plexon).
        units: ``"crossings"``, ``"sorted"`` or ``"both"`` (see the module docstring).
        behavior_channel: analog channel name(s) of the ``.ns2``/``.ns3`` files next to
            ``path`` (comma-separated for several dimensions).
        behavior: or behaviour read from a file on the recording's clock: ``(times [n] s,
            values [n, D], names)`` (`alignnet.data.io.raw.load_behavior` reads CSV / NWB /
            ``.mat``).
        trials: the trial table (`alignnet.data.io.raw.load_trials`); None: one trial.
        meta: metadata to start from (subject, day ...).

    Raises:
        FileFormatError: not readable (or neo missing).
        DataError: see the module docstring.
    """
    path = Path(path)
    events, declared, reader = read_events(path)
    spikes, ids, flagged, policy = _channels(events, declared, units)
    every = [t for t in spikes if t.size]
    if not every:
        raise DataError("no spike events in the file", field="spikes", source=path)
    first = min(float(t[0]) for t in every)
    last = max(float(t[-1]) for t in every)
    if behavior_channel is not None and behavior is not None:
        raise DataError("give behavior_channel or behavior, not both", source=path)
    b_times = b_values = None
    names: list[str] = []
    unit = ""
    if behavior_channel is not None:
        b_times, b_values, names, unit = analog_channel(reader, behavior_channel, path=path)
        where = f"analog channel {behavior_channel!r}"
    elif behavior is not None:
        b_times, b_values, names = behavior
        unit, where = "a.u.", "the behaviour file"
    if b_times is not None:
        t_start, t_stop = float(b_times[0]), float(b_times[-1])
        overlap = min(t_stop, last) - max(t_start, first)
        if overlap <= 0.5 * (last - first):
            raise DataError(
                f"{where} covers {t_start:.3f}..{t_stop:.3f} s but the spike events cover "
                f"{first:.3f}..{last:.3f} s: the behaviour is on another clock",
                field="behavior_times",
                source=path,
            )
        extent_from = "behavior"
    else:
        t_start = float(np.floor(first * 1e3) / 1e3)
        t_stop = float(np.floor(last * 1e3) / 1e3 + 1e-3)
        extent_from = "spikes"
    kept = [t[(t >= t_start) & (t <= t_stop)] for t in spikes]
    if not any(t.size for t in kept):
        raise DataError(
            f"every spike falls outside the recording extent {t_start:.3f}..{t_stop:.3f} s",
            field="spike_times",
            source=path,
        )
    meta = meta or SessionMeta(session_id=path.stem)
    meta.source = str(path)
    meta.channel_ids = ids
    meta.channel_policy = policy
    meta.flagged_channels = flagged
    meta.behavior_names = names
    meta.behavior_unit = unit
    meta.spike_sampling_rate_hz = 30000.0 if path.suffix.lower() == ".nev" else None
    meta.extra.update(
        {
            "event_units": units,
            "extent_from": extent_from,
            "electrodes": len(declared),
            "noise_events_dropped": int(
                sum(t.size for (e, c), t in events.items() if c == NOISE_CODE)
            ),
            "channel_policy_reason": f"event file, units={units!r}",
        }
    )
    if policy == "electrode":  # the declared electrodes identify the array
        key = repr(("events", declared)).encode()
        meta.array_layout = hashlib.sha1(key).hexdigest()[:16]
    return Session(
        t_start=t_start,
        t_stop=t_stop,
        behavior=np.zeros((0, 0)) if b_values is None else b_values,
        behavior_times=np.zeros(0) if b_times is None else b_times,
        trials=trials if trials is not None else Trials.single(t_start, t_stop),
        meta=meta,
        spike_times=kept,
    ).validate()
