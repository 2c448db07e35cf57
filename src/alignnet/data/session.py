"""`Session`: one recording day of one subject, whatever file or generator it came from.

Everything downstream (binning, windows, models, metrics) reads only this object, so a
new data source needs only a loader that returns a `Session`.

Conventions (units are fixed, never guessed downstream):
- times are seconds on the recording's clock, float64;
- spikes are either spike times per channel (``spike_times``) or, when a file only has
  binned counts, a count matrix ``spike_counts`` ``[n_bins, C]`` with its bin width;
- behaviour is ``[n_samples, D]`` with its own time stamps ``behavior_times`` ``[n_samples]``;
  a NaN sample is a missing one (a tracking dropout, see `alignnet.data.preprocess.gaps`), and
  a day without behaviour (an unlabelled day) has ``behavior`` ``[0, 0]``, no time stamps and
  no behaviour names (`Session.has_behavior` is False);
- raw voltage, when present, is ``[n_samples, C]`` float32 in microvolts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alignnet.errors import DataError
from alignnet.names import FIXED_CHANNELS, applied_policy


@dataclass
class Trials:
    """Trial table: one row per trial. All arrays have the same length ``n_trials``.

    Attributes:
        start: ``[n]`` trial start, s.
        stop: ``[n]`` trial stop, s (``stop > start``).
        target: ``[n]`` int condition / target index (``-1`` where unknown).
        success: ``[n]`` bool, True where the trial was rewarded (True where unknown).
        events: optional extra per-trial times in s (e.g. ``"go_cue"``, ``"move_onset"``), each ``[n]``.
    """

    start: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    success: np.ndarray
    events: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.start = np.asarray(self.start, dtype=np.float64)
        self.stop = np.asarray(self.stop, dtype=np.float64)
        self.target = np.asarray(self.target, dtype=np.int64)
        self.success = np.asarray(self.success, dtype=bool)
        self.events = {k: np.asarray(v, dtype=np.float64) for k, v in self.events.items()}

    def __len__(self) -> int:
        return int(self.start.shape[0])

    @classmethod
    def single(cls, start: float, stop: float) -> Trials:
        """One trial spanning a whole continuous recording (for files without trial marks)."""
        return cls(
            start=np.array([start]),
            stop=np.array([stop]),
            target=np.array([-1]),
            success=np.array([True]),
        )

    def subset(self, index: np.ndarray) -> Trials:
        """Trials at ``index`` (bool mask or integer indices)."""
        return Trials(
            start=self.start[index],
            stop=self.stop[index],
            target=self.target[index],
            success=self.success[index],
            events={k: v[index] for k, v in self.events.items()},
        )

    def validate(self, *, source: str | None = None, t_start: float, t_stop: float) -> None:
        n = len(self)
        if n == 0:
            raise DataError("zero trials", field="trials", source=source)
        for name in ("stop", "target", "success"):
            if getattr(self, name).shape != (n,):
                raise DataError(
                    f"length {getattr(self, name).shape} does not match {n} trial starts",
                    field=f"trials.{name}",
                    source=source,
                )
        for name, arr in [("start", self.start), ("stop", self.stop), *self.events.items()]:
            if arr.shape != (n,):
                raise DataError(
                    f"shape {arr.shape}, expected ({n},)", field=f"trials.{name}", source=source
                )
            if name in ("start", "stop") and not np.all(np.isfinite(arr)):
                raise DataError("NaN or inf trial times", field=f"trials.{name}", source=source)
        bad = np.flatnonzero(self.stop <= self.start)
        if bad.size:
            raise DataError(
                f"{bad.size} trials end before they start (first: trial {bad[0]})",
                field="trials.stop",
                source=source,
            )
        tol = 1e-6
        if self.start.min() < t_start - tol or self.stop.max() > t_stop + tol:
            raise DataError(
                f"trials span {self.start.min():.3f}..{self.stop.max():.3f} s, outside the "
                f"recording {t_start:.3f}..{t_stop:.3f} s",
                field="trials",
                source=source,
            )


@dataclass
class Voltage:
    """Raw extracellular voltage of some channels.

    Attributes:
        data: ``[n_samples, C_v]`` float32, microvolts.
        rate_hz: sampling rate, Hz (30 kHz for the paper's rig).
        t_start: time of sample 0, s.
        channel_index: ``[C_v]`` indices into the session's channels.
    """

    data: np.ndarray
    rate_hz: float
    t_start: float
    channel_index: np.ndarray

    def __post_init__(self) -> None:
        self.channel_index = np.asarray(self.channel_index, dtype=np.int64)


@dataclass
class SessionMeta:
    """Who, when and how: metadata carried with every session.

    Attributes:
        subject: subject identifier.
        session_id: unique id of this recording (e.g. ``"synthetic-day03"``).
        day: day index (0-based; used for cross-day splits and per-day normalisation).
        date: ISO date string, or "" where unknown.
        channel_ids: ``[C]`` channel labels (strings).
        behavior_names: names of the ``D`` behaviour dimensions (e.g. ``["x", "y"]``).
        behavior_unit: unit of behaviour values (e.g. ``"a.u."``, ``"cm/s"``).
        spike_sampling_rate_hz: rate of the acquisition system the spike times came from
            (30000 for the paper's rig; ``None`` where unknown).
        source: where the session came from (path or generator description).
        extra: free-form JSON-serialisable metadata.
        channel_policy: how sorted units became channels when the file was read:
            ``"electrode"`` (units summed per electrode), ``"unit"`` (one channel per unit) or
            ``"fixed"`` (the source's own channels, e.g. binned counts or a generator;
            `alignnet.names.AppliedPolicy`; the old spelling ``"channel"`` reads as it).
        flagged_channels: indices of channels that carry no usable signal this day: an
            electrode with no unit, or one the file marks dead/bad (its channel is all zero).
        array_layout: fingerprint of the electrode table (``"electrode"`` policy), so days
            recorded on different arrays are never mixed; ``""`` when unknown.
    """

    subject: str = "unknown"
    session_id: str = "session"
    day: int = 0
    date: str = ""
    channel_ids: list[str] = field(default_factory=list)
    behavior_names: list[str] = field(default_factory=lambda: ["x", "y"])
    behavior_unit: str = "a.u."
    spike_sampling_rate_hz: float | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    channel_policy: str = FIXED_CHANNELS
    flagged_channels: list[int] = field(default_factory=list)
    array_layout: str = ""

    def __post_init__(self) -> None:
        self.channel_policy = applied_policy(self.channel_policy)


@dataclass
class Session:
    """One recording day of one subject.

    Exactly one of ``spike_times`` and ``spike_counts`` is set.

    Attributes:
        t_start, t_stop: recording extent, s.
        behavior: ``[n_samples, D]`` float64 behaviour (e.g. joystick x, y); NaN marks a
            missing sample (tracking dropout); ``[0, 0]`` on a day without behaviour.
        behavior_times: ``[n_samples]`` float64 strictly increasing time stamps, s
            (``[0]`` without behaviour).
        trials: the trial table.
        meta: metadata (channel ids define the channel count ``C``).
        spike_times: list of ``C`` sorted float64 arrays of spike times, s.
        spike_counts: ``[n_bins, C]`` counts when the source only has binned spikes.
        count_bin_s: bin width of ``spike_counts``, s.
        count_t_start: left edge of the first count bin, s.
        voltage: optional raw voltage (a subset of channels/time is fine).
        ground_truth: optional generator truth (e.g. ``"latent"`` ``[n_bins, K]``); never needed
            downstream, used by tests and figures.
    """

    t_start: float
    t_stop: float
    behavior: np.ndarray
    behavior_times: np.ndarray
    trials: Trials
    meta: SessionMeta
    spike_times: list[np.ndarray] | None = None
    spike_counts: np.ndarray | None = None
    count_bin_s: float | None = None
    count_t_start: float | None = None
    voltage: Voltage | None = None
    ground_truth: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.t_start = float(self.t_start)
        self.t_stop = float(self.t_stop)
        self.behavior = np.asarray(self.behavior, dtype=np.float64)
        if self.behavior.size == 0 and self.behavior.ndim <= 2 and not self.meta.behavior_names:
            self.behavior = np.zeros((0, 0))
        if self.behavior.ndim == 1:
            self.behavior = self.behavior[:, None]
        self.behavior_times = np.asarray(self.behavior_times, dtype=np.float64)
        if self.spike_times is not None:
            self.spike_times = [np.asarray(t, dtype=np.float64) for t in self.spike_times]
        if self.spike_counts is not None:
            self.spike_counts = np.asarray(self.spike_counts)
        if not self.meta.channel_ids:
            self.meta.channel_ids = [f"ch{i:03d}" for i in range(self._count_channels())]

    # ------------------------------------------------------------------ properties
    def _count_channels(self) -> int:
        if self.spike_times is not None:
            return len(self.spike_times)
        if self.spike_counts is not None and self.spike_counts.ndim == 2:
            return int(self.spike_counts.shape[1])
        return 0

    @property
    def n_channels(self) -> int:
        """Channel count ``C``."""
        return self._count_channels()

    @property
    def n_behavior_dims(self) -> int:
        """Behaviour dimensionality ``D``."""
        return int(self.behavior.shape[1])

    @property
    def has_behavior(self) -> bool:
        """False on a day without behaviour (an unlabelled recording)."""
        return bool(self.behavior.shape[0] > 0)

    @property
    def duration(self) -> float:
        """Recording length, s."""
        return self.t_stop - self.t_start

    @property
    def has_spike_times(self) -> bool:
        return self.spike_times is not None

    @property
    def behavior_rate_hz(self) -> float:
        """Median behaviour sampling rate, Hz (NaN without behaviour)."""
        if self.behavior_times.size < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.behavior_times)))

    def firing_rates(self) -> np.ndarray:
        """``[C]`` mean firing rate per channel over the recording, Hz."""
        if self.spike_times is not None:
            return np.array([t.size for t in self.spike_times], dtype=np.float64) / self.duration
        assert self.spike_counts is not None and self.count_bin_s is not None
        return self.spike_counts.sum(axis=0).astype(np.float64) / (
            self.spike_counts.shape[0] * self.count_bin_s
        )

    def replace(self, **changes: Any) -> Session:
        """A shallow copy with some fields replaced (like `dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ validation
    def validate(self) -> Session:
        """Check every field; raise `DataError` naming the source, field and problem.

        Returns ``self`` so loaders can write ``return Session(...).validate()``.
        """
        src = self.meta.source or self.meta.session_id
        if (
            not (np.isfinite(self.t_start) and np.isfinite(self.t_stop))
            or self.t_stop <= self.t_start
        ):
            raise DataError(
                f"recording extent {self.t_start}..{self.t_stop} s is empty or not finite",
                field="t_start/t_stop",
                source=src,
            )
        if (self.spike_times is None) == (self.spike_counts is None):
            raise DataError(
                "exactly one of spike_times and spike_counts must be given",
                field="spikes",
                source=src,
            )
        c = self.n_channels
        if c == 0:
            raise DataError("no channels", field="spikes", source=src)
        if len(self.meta.channel_ids) != c:
            raise DataError(
                f"{len(self.meta.channel_ids)} channel ids for {c} channels",
                field="meta.channel_ids",
                source=src,
            )
        if self.spike_times is not None:
            self._validate_spike_times(src)
        else:
            self._validate_counts(src)
        self._validate_behavior(src)
        self.trials.validate(source=src, t_start=self.t_start, t_stop=self.t_stop)
        if self.voltage is not None:
            v = self.voltage
            if v.data.ndim != 2 or v.data.shape[1] != v.channel_index.shape[0]:
                raise DataError(
                    f"voltage shape {v.data.shape} does not match {v.channel_index.shape[0]} channel indices",
                    field="voltage",
                    source=src,
                )
            if v.channel_index.size and (v.channel_index.min() < 0 or v.channel_index.max() >= c):
                raise DataError(
                    "voltage channel index out of range", field="voltage.channel_index", source=src
                )
            if not (v.rate_hz > 0):
                raise DataError(f"sampling rate {v.rate_hz}", field="voltage.rate_hz", source=src)
        return self

    def _validate_spike_times(self, src: str) -> None:
        assert self.spike_times is not None
        tol = 1e-9

        def bad(channel: int, problem: str) -> DataError:
            return DataError(f"channel {channel}: {problem}", field="spike_times", source=src)

        for i, t in enumerate(self.spike_times):
            if t.ndim != 1:
                raise bad(i, f"spike times must be 1-D, got {t.shape}")
            if t.size == 0:
                continue
            if not np.all(np.isfinite(t)):
                raise bad(i, "NaN or inf spike times")
            if t[0] < 0:
                raise bad(i, f"negative spike time {t[0]:.6f} s")
            if np.any(np.diff(t) < 0):
                k = int(np.flatnonzero(np.diff(t) < 0)[0])
                raise bad(i, f"spike times not sorted (at index {k + 1})")
            if t[0] < self.t_start - tol or t[-1] > self.t_stop + tol:
                raise bad(
                    i,
                    f"spikes at {t[0]:.6f}..{t[-1]:.6f} s fall outside the recording "
                    f"{self.t_start:.6f}..{self.t_stop:.6f} s",
                )

    def _validate_counts(self, src: str) -> None:
        x = self.spike_counts
        assert x is not None
        if x.ndim != 2:
            raise DataError(
                f"expected [n_bins, C], got shape {x.shape}", field="spike_counts", source=src
            )
        if self.count_bin_s is None or not (self.count_bin_s > 0):
            raise DataError("bin width missing or not positive", field="count_bin_s", source=src)
        if self.count_t_start is None:
            raise DataError("time of the first bin missing", field="count_t_start", source=src)
        if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
            raise DataError("NaN or inf counts", field="spike_counts", source=src)
        if np.any(x < 0):
            raise DataError("negative counts", field="spike_counts", source=src)
        end = self.count_t_start + x.shape[0] * self.count_bin_s
        if (
            abs(end - self.t_stop) > self.count_bin_s
            or abs(self.count_t_start - self.t_start) > self.count_bin_s
        ):
            raise DataError(
                f"counts span {self.count_t_start:.3f}..{end:.3f} s but the recording is "
                f"{self.t_start:.3f}..{self.t_stop:.3f} s",
                field="spike_counts",
                source=src,
            )

    def _validate_behavior(self, src: str) -> None:
        b, t = self.behavior, self.behavior_times
        if b.shape == (0, 0) and t.size == 0 and not self.meta.behavior_names:
            return  # a day without behaviour
        if b.ndim != 2 or b.shape[0] == 0:
            raise DataError(
                f"expected [n_samples, D] with n_samples > 0, got {b.shape}",
                field="behavior",
                source=src,
            )
        if t.shape != (b.shape[0],):
            raise DataError(
                f"{t.shape[0] if t.ndim == 1 else t.shape} time stamps for {b.shape[0]} behaviour samples",
                field="behavior_times",
                source=src,
            )
        bad = np.isinf(b)  # NaN is a missing sample (a dropout), inf is an error
        if bad.any():
            first = int(np.flatnonzero(bad.any(axis=1))[0])
            raise DataError(
                f"{int(bad.sum())} inf values (first at sample {first}, t={t[first]:.3f} s)",
                field="behavior",
                source=src,
            )
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise DataError(
                "time stamps must be finite and strictly increasing",
                field="behavior_times",
                source=src,
            )
        if len(self.meta.behavior_names) != b.shape[1]:
            raise DataError(
                f"{len(self.meta.behavior_names)} names for {b.shape[1]} behaviour dimensions",
                field="meta.behavior_names",
                source=src,
            )
        # Behaviour must cover the recording (allow one behaviour sample period of slack).
        slack = 1.5 * float(np.median(np.diff(t))) if t.size > 1 else 0.0
        if t[0] > self.t_start + slack or t[-1] < self.t_stop - slack:
            raise DataError(
                f"behaviour covers {t[0]:.3f}..{t[-1]:.3f} s but spikes cover "
                f"{self.t_start:.3f}..{self.t_stop:.3f} s (different durations)",
                field="behavior_times",
                source=src,
            )
