"""NWB (Neurodata Without Borders) reader and writer, through pynwb.

Layout written by `write_nwb` (and read by `read_nwb`, as is any DANDI-style file):

- ``units``: one unit per channel, its ``spike_times`` (s), a ``channel_id`` column and an
  ``electrodes`` link to its row of the electrode table (device ``"array"``, one electrode
  group). Count-only sessions instead store ``processing["ecephys"]["spike_counts"]``, a
  ``TimeSeries`` ``[n_bins, C]`` (unit ``"count"``, ``starting_time`` = left edge of bin 0,
  ``rate`` = 1 / bin width).
- behaviour: ``processing["behavior"]["Position"]["behavior"]``, a ``SpatialSeries``
  ``[n_samples, D]`` with explicit ``timestamps`` (s) and ``unit`` = the behaviour unit
  (``D > 3``: a ``TimeSeries`` under ``BehavioralTimeSeries``).
- ``trials``: ``start_time``, ``stop_time``, ``target`` (int), ``success`` (bool) and one
  float column per extra event (s).
- raw voltage (when present): ``acquisition["ElectricalSeries"]``, float32 microvolts with
  ``conversion = 1e-6`` (to volts), linked to the electrode rows of its channels.
- metadata: ``subject.subject_id``, ``session_id``, ``session_start_time`` (the session date,
  or 1970-01-01 when unknown), and the full `SessionMeta` plus the recording extent as JSON
  in ``scratch["alignnet_meta"]`` so that a round trip is exact.

Reading a third-party file (no ``alignnet_meta``): spikes from the units table (in table
order, ``channel_id`` from a ``channel_id`` column or the unit id), behaviour from
``behavior_path`` or the first ``SpatialSeries``/``TimeSeries`` found under
``processing["behavior"]``, ``data * conversion + offset`` at ``get_timestamps()``; the
recording extent is the behaviour's time span and spikes outside it are dropped with a warning
(their count is kept in ``meta.extra["spikes_outside_behavior"]``; a `DataError` when that
would drop most spikes or empty a channel: the clocks differ); sorted units become channels by
a channel policy (`alignnet.data.io.nwb_channels`: ``"electrode"`` sums the units of each
electrode, ``"unit"`` keeps one channel per unit); ``meta.date`` is the ``session_start_time``
date, from which `alignnet.data.io.load_sessions` derives calendar days; trial columns ``target`` /
``condition_id`` and ``success`` are used when present, 1-D float columns whose names end in
``_time`` become events; ``meta.day`` is 0. ``meta.source`` is always the path read.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.behavior_gaps import DEFAULT_MAX_GAP_S
from alignnet.data.io.nwb_behavior import BehaviorRead, BehaviorSpec, read_behavior
from alignnet.data.io.nwb_channels import ChannelLayout, units_to_channels
from alignnet.data.io.nwb_extent import unlabelled_extent
from alignnet.data.io.nwb_write import META_KEY, write_nwb
from alignnet.data.session import Session, SessionMeta, Trials, Voltage
from alignnet.errors import DataError, FileFormatError
from alignnet.names import CHANNEL_POLICIES, ChannelPolicy

__all__ = ["META_KEY", "read_nwb", "write_nwb"]


# ---------------------------------------------------------------------- reading
def read_nwb(
    path: str | Path,
    *,
    behavior: str | None = None,
    load_voltage: bool = True,
    channels: ChannelPolicy = "auto",
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    missing_value: float | None = None,
) -> Session:
    """Read an NWB file (written by `write_nwb` or third-party/DANDI-style) into a `Session`.

    Args:
        path: ``.nwb`` file.
        behavior: which behaviour (`alignnet.data.io.nwb_behavior`): ``None`` (the first
            series under ``processing["behavior"]``; none there: an unlabelled day),
            ``"none"`` (read no behaviour), a series name or path (``"hand_position"``,
            ``"behavior/Position/cursor"``), ``"NAME:velocity"`` (its time derivative) or
            ``"NAME:discrete"`` (one 0/1 dimension per value).
        channels: how a third-party file's sorted units become channels (see
            `units_to_channels`): ``"electrode"``, ``"unit"`` or ``"auto"`` (decided from
            the file, `alignnet.data.io.nwb_channels.choose_policy`). Files written by
            `write_nwb` keep their own channels.
        load_voltage: load the first ``ElectricalSeries`` in ``acquisition`` into memory
            (raw files can be large: pass False to skip it).
        max_gap_s: missing behaviour samples over gaps up to this long are interpolated,
            longer gaps stay missing (`alignnet.data.behavior_gaps`).
        missing_value: a behaviour sample equal to this on every dimension is missing
            (trackers that write ``0`` on a dropout); ``None``: only NaN is.

    Raises:
        FileFormatError: missing, truncated or not an NWB file.
        DataError: a behaviour name the file does not have (the message lists those it
            has), no spikes (no units table and no spike counts), spikes all outside the
            recording extent, or any `Session.validate` problem.
    """
    from pynwb import NWBHDF5IO

    from alignnet.data.io.hdf5_links import check_self_contained

    path = Path(path)
    if not path.is_file():
        raise FileFormatError("file not found", source=path)
    check_self_contained(path)  # no external links / datasets into other files
    try:
        io = NWBHDF5IO(str(path), mode="r")
    except Exception as exc:  # h5py OSError, hdmf errors on truncated / foreign files
        raise FileFormatError(
            f"not a readable NWB file ({type(exc).__name__}: {exc})", source=path
        ) from exc
    with io:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nwbfile = io.read()
        except Exception as exc:
            raise FileFormatError(
                f"truncated or corrupt NWB file ({type(exc).__name__}: {exc})", source=path
            ) from exc
        return _session_from_nwbfile(
            nwbfile,
            path=path,
            behavior=behavior,
            load_voltage=load_voltage,
            channels=channels,
            max_gap_s=max_gap_s,
            missing_value=missing_value,
        )


def _stored_meta(nwbfile: Any) -> dict[str, Any] | None:
    scratch = getattr(nwbfile, "scratch", None) or {}
    if META_KEY not in scratch:
        return None
    data = scratch[META_KEY].data
    text = data if isinstance(data, str) else data[()]
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(str(text))


def _units_spike_times(nwbfile: Any, path: Path) -> tuple[list[np.ndarray], list[str]] | None:
    """Each unit's spike times (s) and label, in table order; None without a units table."""
    units = nwbfile.units
    if units is None or len(units) == 0:
        return None
    if "spike_times" not in units.colnames:
        raise DataError(
            f"the units table has no spike_times column (columns: {list(units.colnames)})",
            field="units.spike_times",
            source=path,
        )
    flat = np.asarray(units["spike_times"].target.data[:], dtype=np.float64)
    ends = np.asarray(units["spike_times"].data[:], dtype=np.int64)
    starts = np.concatenate([[0], ends[:-1]])
    spike_times = [flat[a:b] for a, b in zip(starts, ends, strict=True)]
    if not np.all(np.isfinite(flat)):
        raise DataError("NaN or inf spike times", field="units.spike_times", source=path)
    unsorted = [i for i, t in enumerate(spike_times) if np.any(np.diff(t) < 0)]
    if unsorted:
        raise DataError(
            f"unit {unsorted[0]}: spike times not sorted ({len(unsorted)} unit(s))",
            field="units.spike_times",
            source=path,
        )
    if "channel_id" in units.colnames:
        ids = [str(c.decode() if isinstance(c, bytes) else c) for c in units["channel_id"].data[:]]
    else:
        ids = [f"unit{int(u)}" for u in units.id.data[:]]
    return spike_times, ids


def _clip_to_extent(
    spike_times: list[np.ndarray],
    t_start: float,
    t_stop: float,
    extra: dict,
    path: Path,
    *,
    what: str = "the behaviour's time span",
) -> list[np.ndarray]:
    """Drop spikes outside the recording extent; refuse when that loses most of a channel.

    A few spikes before the first or after the last behaviour sample are normal (the
    recording runs a little longer); most of them outside means the two clocks differ.

    Raises:
        DataError: every spike (or most of them, or all of a channel's) outside the extent.
    """
    kept = [t[(t >= t_start) & (t <= t_stop)] for t in spike_times]
    total = sum(t.size for t in spike_times)
    dropped = total - sum(t.size for t in kept)
    extra["spikes_outside_behavior"] = int(dropped)
    emptied = [
        i for i, (a, b) in enumerate(zip(spike_times, kept, strict=True)) if a.size and not b.size
    ]
    if total and (dropped > 0.5 * total or emptied):
        all_times = np.concatenate([t for t in spike_times if t.size])
        every = "every spike falls" if dropped == total else f"{dropped} of {total} spikes fall"
        raise DataError(
            f"{every} outside {what} {t_start:.3f}..{t_stop:.3f} s (spikes span "
            f"{all_times.min():.3f}..{all_times.max():.3f} s; {len(emptied)} channel(s) would "
            "lose every spike): spikes and the stated extent seem to be on different clocks",
            field="units.spike_times",
            source=path,
        )
    if dropped > 0.01 * total:  # a stray spike at the edges is normal; more is worth a word
        warnings.warn(
            f"{path}: {dropped} of {total} spikes fall outside {what} "
            f"{t_start:.3f}..{t_stop:.3f} s and were dropped",
            stacklevel=3,
        )
    return kept


def _trials(nwbfile: Any, stored: dict[str, Any] | None, t_start: float, t_stop: float) -> Trials:
    table = nwbfile.trials
    if table is None:
        return Trials.single(t_start, t_stop)
    columns = set(table.colnames)
    n = len(table)
    start = np.asarray(table["start_time"].data[:], dtype=np.float64)
    stop = np.asarray(table["stop_time"].data[:], dtype=np.float64)
    target = np.full(n, -1, dtype=np.int64)
    for name in ("target", "condition_id", "cond_id", "target_id"):
        if name in columns:
            target = np.asarray(table[name].data[:], dtype=np.int64)
            break
    success = (
        np.asarray(table["success"].data[:], dtype=bool)
        if "success" in columns
        else np.ones(n, dtype=bool)
    )
    if stored is not None:
        event_names = list(stored.get("event_names", []))
    else:
        event_names = [
            c
            for c in table.colnames
            if c.endswith("_time")
            and c not in ("start_time", "stop_time")
            and np.asarray(table[c].data[:]).ndim == 1
            and np.issubdtype(np.asarray(table[c].data[:]).dtype, np.floating)
        ]
    events = {name: np.asarray(table[name].data[:], dtype=np.float64) for name in event_names}
    return Trials(start=start, stop=stop, target=target, success=success, events=events)


def _voltage(nwbfile: Any) -> Voltage | None:
    from pynwb.ecephys import ElectricalSeries

    for series in nwbfile.acquisition.values():
        if isinstance(series, ElectricalSeries):
            data = np.asarray(series.data[:])
            if not (series.conversion == 1e-6 and data.dtype == np.float32):
                data = (data.astype(np.float64) * series.conversion * 1e6).astype(np.float32)
            rate = series.rate
            t0 = series.starting_time
            if rate is None:  # timestamps instead of a rate
                stamps = np.asarray(series.timestamps[:], dtype=np.float64)
                rate, t0 = 1.0 / float(np.median(np.diff(stamps))), float(stamps[0])
            return Voltage(
                data=data,
                rate_hz=float(rate),
                t_start=float(t0 or 0.0),
                channel_index=np.asarray(series.electrodes.data[:], dtype=np.int64),
            )
    return None


def _session_from_nwbfile(
    nwbfile: Any,
    *,
    path: Path,
    behavior: str | None,
    load_voltage: bool,
    channels: ChannelPolicy = "auto",
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    missing_value: float | None = None,
) -> Session:
    if channels not in CHANNEL_POLICIES:
        raise ValueError(f"channels must be one of {CHANNEL_POLICIES}, got {channels!r}")
    stored = _stored_meta(nwbfile)
    spec = BehaviorSpec.parse(behavior)
    read = read_behavior(nwbfile, spec, path, max_gap_s=max_gap_s, missing_value=missing_value)

    units = _units_spike_times(nwbfile, path)
    layout: ChannelLayout | None = None
    if units is not None and stored is None:
        layout = units_to_channels(nwbfile, units[0], policy=channels, path=path)
        units = (layout.spike_times, layout.channel_ids)
    counts_series = None
    if (
        "ecephys" in nwbfile.processing
        and "spike_counts" in nwbfile.processing["ecephys"].data_interfaces
    ):
        counts_series = nwbfile.processing["ecephys"]["spike_counts"]
    if units is None and counts_series is None:
        raise DataError(
            "no spikes: the file has no units table (or it is empty) and no "
            "processing['ecephys']['spike_counts']",
            field="units",
            source=path,
        )

    extra: dict[str, Any] = {}
    if stored is not None:
        m = stored["meta"]
        meta = SessionMeta(
            subject=m["subject"],
            session_id=m["session_id"],
            day=int(m["day"]),
            date=m["date"],
            channel_ids=list(m["channel_ids"]),
            behavior_names=list(m["behavior_names"]),
            behavior_unit=m["behavior_unit"],
            spike_sampling_rate_hz=m["spike_sampling_rate_hz"],
            source=str(path),
            extra=m["extra"],
            channel_policy=m.get("channel_policy", "fixed"),
            flagged_channels=list(m.get("flagged_channels", [])),
            array_layout=m.get("array_layout", ""),
        )
        t_start, t_stop = float(stored["t_start"]), float(stored["t_stop"])
        extent_from = "stored"
        if read is not None and (spec.name is not None or spec.transform is not None):
            meta.behavior_names, meta.behavior_unit = read.names, read.unit
    else:
        subject = getattr(nwbfile.subject, "subject_id", None) if nwbfile.subject else None
        start_time = nwbfile.session_start_time
        meta = SessionMeta(
            subject=str(subject or "unknown"),
            session_id=str(nwbfile.session_id or nwbfile.identifier),
            day=0,
            date=start_time.date().isoformat() if start_time is not None else "",
            channel_ids=[],
            behavior_names=[] if read is None else read.names,
            behavior_unit="" if read is None else read.unit,
            source=str(path),
            extra=extra,
        )
        t_start, t_stop, extent_from = _extent(nwbfile, read, units, counts_series, path)
    if read is None:
        meta.behavior_names, meta.behavior_unit = [], ""
    if stored is None:  # a written file's metadata round-trips exactly
        extra["extent_from"] = extent_from
        if read is not None:
            extra["behavior_series"] = read.source
    if read is not None and read.gaps.get("missing_samples"):
        meta.extra["behavior_gaps"] = dict(read.gaps)

    spike_times = counts = None
    count_bin_s = count_t_start = None
    if units is not None:
        spike_times, ids = units
        if stored is None:
            meta.channel_ids = ids
            what = {
                "behavior": "the behaviour's time span",
                "acquisition": "the acquisition's start/stop",
            }.get(extent_from, "the recording extent")
            spike_times = _clip_to_extent(spike_times, t_start, t_stop, extra, path, what=what)
        if layout is not None:
            meta.channel_policy = layout.policy
            meta.flagged_channels = list(layout.flagged)
            meta.array_layout = layout.fingerprint
            extra["flag_reasons"] = layout.flag_reasons
            extra["channel_policy_reason"] = layout.reason
    else:
        assert counts_series is not None  # a file without units has binned counts
        counts = np.asarray(counts_series.data[:])
        count_bin_s = (
            float(stored["count_bin_s"]) if stored is not None else 1.0 / float(counts_series.rate)
        )
        count_t_start = (
            float(stored["count_t_start"])
            if stored is not None
            else float(counts_series.starting_time or 0.0)
        )
        if stored is None:
            meta.channel_ids = [f"ch{i:03d}" for i in range(counts.shape[1])]
            t_start = min(t_start, count_t_start)

    return Session(
        t_start=t_start,
        t_stop=t_stop,
        behavior=np.zeros((0, 0)) if read is None else read.values,
        behavior_times=np.zeros(0) if read is None else read.times,
        trials=_trials(nwbfile, stored, t_start, t_stop),
        meta=meta,
        spike_times=spike_times,
        spike_counts=counts,
        count_bin_s=count_bin_s,
        count_t_start=count_t_start,
        voltage=_voltage(nwbfile) if load_voltage else None,
    ).validate()


def _extent(
    nwbfile: Any, read: BehaviorRead | None, units: Any, counts_series: Any, path: Path
) -> tuple[float, float, str]:
    """``(t_start, t_stop, source)``: the behaviour's span, else `unlabelled_extent`."""
    if read is not None:
        return float(read.times[0]), float(read.times[-1]), "behavior"
    if units is None:  # binned counts: their own span
        n, rate = int(counts_series.data.shape[0]), float(counts_series.rate)
        t0 = float(counts_series.starting_time or 0.0)
        return t0, t0 + n / rate, "spike_counts"
    found = unlabelled_extent(nwbfile, units[0])
    if found is None:
        raise DataError(
            "no behaviour and nothing else states the recording's extent (no acquisition, "
            "no trials, no spikes)",
            field="t_start/t_stop",
            source=path,
        )
    return found
