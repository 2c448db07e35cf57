"""Session -> `Windows`: bin, resample + smooth behaviour, cut fixed-length windows.

Paper section 3.1: 20 ms bins, behaviour interpolated to the bins (eq. 1) and smoothed
(eq. 3), each trial cut into 2 s = 100-bin samples: spikes ``[C, 100]``, behaviour
``[D, 100]``.

Rules (all counted in ``Windows.info["sessions"]``):
- ``placement="trial"``: one window per trial, starting at the bin edge nearest to
  ``trial.start + trial_offset_s``. A window that would start before the recording or run
  past its end is dropped. With ``within_trial=True`` a window that runs past its trial's
  stop is dropped too (otherwise it is kept and counted as ``past_trial_stop``).
- ``placement="sliding"``: windows every ``stride_bins`` bins inside each trial; a window never
  crosses a trial boundary.
- A continuous recording (a trial table with one trial) is cut into consecutive
  non-overlapping segments of ``segment_bins`` bins (default one window); sliding windows
  stay inside their segment and ``trial`` is the segment index, so trial splits never put
  overlapping windows on both sides. Both placements do this for such recordings.
- Behaviour is smoothed over the whole session before cutting, so windows have no
  artificial edge effects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import InitVar, dataclass
from typing import Any, Literal

import numpy as np

from alignnet.data.behavior_gaps import interpolate_over_missing, missing_bins
from alignnet.data.preprocess.behavior import bin_centres, gaussian_smooth, resample_behavior
from alignnet.data.preprocess.binning import bin_session_spikes, bin_session_true_rates
from alignnet.data.session import Session
from alignnet.data.windows import Windows
from alignnet.errors import DataError

#: Where windows are cut (``PreprocessConfig.placement``; its old name ``align`` now names only
#: the new-day method, `AlignNet.align`).
Placement = Literal["trial", "sliding"]


@dataclass(frozen=True)
class PreprocessConfig:
    """Settings of the session -> windows step (saved in every windows file).

    Attributes:
        bin_s: bin width, s (paper: 0.02 = 50 Hz). Count-only sessions can only be binned to
            integer multiples of their own bin width (50 ms files: ``bin_s=0.05``).
        window_bins: window length ``L`` in bins (paper: 100 = 2 s).
        placement: ``"trial"`` (one window per trial) or ``"sliding"`` (windows every
            ``stride_bins`` inside each trial). ``align=`` is its old name, still accepted
            (also as a key of `from_dict`).
        stride_bins: step between sliding windows, bins (``None``: ``window_bins``, i.e.
            back-to-back windows).
        trial_offset_s: window start relative to the trial start, s (negative = before).
        within_trial: trial mode only; drop a trial whose window runs past its stop.
        segment_bins: continuous recordings only; length of the segments that act as trials,
            bins (``None``: ``window_bins``).
        smooth_sigma_bins: Gaussian sigma for behaviour, bins (``0`` = no smoothing).
        smooth_truncate: kernel half-width in sigmas (eq. 3's ``k = int(truncate*sigma+0.5)``).
        behavior_method: ``"interp"`` (paper eq. 1) or ``"mean"``; see `resample_behavior`.
        behavior_fields: names of the behaviour dimensions to keep, in that order
            (``None``: all).
        successful_only: keep only trials marked successful.
    """

    bin_s: float = 0.02
    window_bins: int = 100
    placement: Placement = "trial"
    stride_bins: int | None = None
    trial_offset_s: float = 0.0
    within_trial: bool = False
    segment_bins: int | None = None
    smooth_sigma_bins: float = 1.0
    smooth_truncate: float = 4.0
    behavior_method: Literal["interp", "mean"] = "interp"
    behavior_fields: tuple[str, ...] | None = None
    successful_only: bool = False
    align: InitVar[Placement | None] = None

    def __post_init__(self, align: Placement | None) -> None:
        if align is not None:  # the old name of `placement`
            object.__setattr__(self, "placement", align)
        if self.behavior_fields is not None:
            object.__setattr__(self, "behavior_fields", tuple(self.behavior_fields))
        problems = []
        if not self.bin_s > 0:
            problems.append(f"bin_s must be > 0, got {self.bin_s}")
        if self.window_bins < 1:
            problems.append(f"window_bins must be >= 1, got {self.window_bins}")
        if self.placement not in ("trial", "sliding"):
            problems.append(f"placement must be 'trial' or 'sliding', got {self.placement!r}")
        if self.stride_bins is not None and self.stride_bins < 1:
            problems.append(f"stride_bins must be >= 1, got {self.stride_bins}")
        if self.segment_bins is not None and self.segment_bins < self.window_bins:
            problems.append(f"segment_bins ({self.segment_bins}) must be >= window_bins")
        if self.smooth_sigma_bins < 0 or self.smooth_truncate <= 0:
            problems.append("smooth_sigma_bins must be >= 0 and smooth_truncate > 0")
        if self.behavior_method not in ("interp", "mean"):
            problems.append(
                f"behavior_method must be 'interp' or 'mean', not {self.behavior_method!r}"
            )
        if problems:
            raise ValueError("PreprocessConfig: " + "; ".join(problems))

    @property
    def stride(self) -> int:
        """Sliding step in bins."""
        return self.window_bins if self.stride_bins is None else self.stride_bins

    @property
    def segment(self) -> int:
        """Segment length of continuous recordings in bins."""
        return self.window_bins if self.segment_bins is None else self.segment_bins

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable settings."""
        out = dataclasses.asdict(self)
        if self.behavior_fields is not None:
            out["behavior_fields"] = list(self.behavior_fields)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        """Inverse of `to_dict` (also of settings saved with the old key ``align``, the
        placement); unknown keys raise ``TypeError``."""
        data = dict(data)
        if "align" in data:
            data.setdefault("placement", data.pop("align"))
        return cls(**data)


# ---------------------------------------------------------------------- internals
def _session_source(session: Session) -> str:
    return session.meta.source or session.meta.session_id


def _select_behavior(
    session: Session, behavior: np.ndarray, fields: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    names = list(session.meta.behavior_names)
    if fields is None:
        return behavior, names
    missing = [f for f in fields if f not in names]
    if missing:
        raise DataError(
            f"behaviour fields {missing} not found (has {names})",
            field="behavior_fields",
            source=_session_source(session),
        )
    index = [names.index(f) for f in fields]
    return behavior[:, index], list(fields)


def _trial_starts(
    session: Session, config: PreprocessConfig, edges: np.ndarray, keep: np.ndarray
) -> tuple[list[tuple[int, int, int]], dict[str, int]]:
    """(start_bin, trial, target) of each trial-aligned window, and drop counts."""
    trials, n_bins, length = session.trials, edges.shape[0] - 1, config.window_bins
    t0, bin_s = edges[0], config.bin_s
    starts: list[tuple[int, int, int]] = []
    counts = {
        "dropped_past_end": 0,
        "dropped_before_start": 0,
        "dropped_past_trial_stop": 0,
        "past_trial_stop": 0,
    }
    for i in np.flatnonzero(keep):
        start = int(np.round((trials.start[i] + config.trial_offset_s - t0) / bin_s))
        if start < 0:
            counts["dropped_before_start"] += 1
            continue
        if start + length > n_bins:
            counts["dropped_past_end"] += 1
            continue
        window_end_s = t0 + (start + length) * bin_s
        if window_end_s > trials.stop[i] + 1e-9:
            if config.within_trial:
                counts["dropped_past_trial_stop"] += 1
                continue
            counts["past_trial_stop"] += 1
        starts.append((start, int(i), int(trials.target[i])))
    return starts, counts


def _sliding_starts(
    session: Session, config: PreprocessConfig, edges: np.ndarray, keep: np.ndarray
) -> tuple[list[tuple[int, int, int]], dict[str, int]]:
    """(start_bin, trial, target) of sliding windows kept inside each trial."""
    trials, n_bins, length = session.trials, edges.shape[0] - 1, config.window_bins
    t0, bin_s = edges[0], config.bin_s
    starts: list[tuple[int, int, int]] = []
    counts = {"trials_too_short": 0}
    for i in np.flatnonzero(keep):
        first = max(int(np.ceil((trials.start[i] - t0) / bin_s - 1e-6)), 0)
        last = min(int(np.floor((trials.stop[i] - t0) / bin_s + 1e-6)), n_bins)  # exclusive
        before = len(starts)
        starts.extend(
            (s, int(i), int(trials.target[i]))
            for s in range(first, last - length + 1, config.stride)
        )
        counts["trials_too_short"] += int(len(starts) == before)
    return starts, counts


def _segment_starts(
    config: PreprocessConfig, edges: np.ndarray, target: int
) -> tuple[list[tuple[int, int, int]], dict[str, int]]:
    """Continuous recording: consecutive segments act as trials (``trial`` = segment index)."""
    n_bins, length, segment = edges.shape[0] - 1, config.window_bins, config.segment
    starts: list[tuple[int, int, int]] = []
    n_segments = n_bins // segment
    for seg in range(n_segments):
        base = seg * segment
        starts.extend(
            (base + s, seg, target) for s in range(0, segment - length + 1, config.stride)
        )
    return starts, {"segments": n_segments, "dropped_tail_bins": n_bins - n_segments * segment}


def _binned_behavior(
    session: Session, config: PreprocessConfig, edges: np.ndarray
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``(behaviour [n_bins, D], names, missing [n_bins] bool)`` at the bin rate.

    Missing samples (NaN, see `alignnet.data.behavior_gaps`) are bridged for resampling and
    smoothing, and the bins whose centre lies in a gap are returned as ``missing``; a day
    without behaviour gives ``[n_bins, 0]``.
    """
    n_bins = edges.shape[0] - 1
    if not session.has_behavior:
        if config.behavior_fields:
            raise DataError(
                f"behavior_fields {list(config.behavior_fields)} asked for, but the day has "
                "no behaviour",
                field="behavior_fields",
                source=session.meta.source or session.meta.session_id,
            )
        return np.zeros((n_bins, 0)), [], np.zeros(n_bins, dtype=bool)
    times = session.behavior_times
    gap = missing_bins(times, session.behavior, bin_centres(edges))
    values = interpolate_over_missing(times, session.behavior)
    behavior = resample_behavior(times, values, edges, method=config.behavior_method)
    behavior = gaussian_smooth(
        behavior, sigma_bins=config.smooth_sigma_bins, truncate=config.smooth_truncate, axis=0
    )
    behavior, names = _select_behavior(session, behavior, config.behavior_fields)
    return behavior, names, gap


# ---------------------------------------------------------------------- public API
def session_to_windows(session: Session, config: PreprocessConfig | None = None) -> Windows:
    """Cut one session into windows (see the module docstring for the rules).

    Args:
        session: a validated `Session`.
        config: settings (``None``: paper defaults, 20 ms bins, 100-bin trial windows).

    Returns:
        `Windows` with spikes ``[N, C, L]`` (counts per bin), behaviour ``[N, D, L]``
        (resampled, smoothed), ``day`` = ``session.meta.day``, ``trial`` (trial index in the
        session, or segment index for continuous recordings), ``t_start`` (s, window's first
        edge), ``target``. ``info`` holds ``"preprocess"`` (the config) and ``"sessions"``
        (one dict of counts per session). ``N`` may be 0.
    """
    config = config or PreprocessConfig()
    counts, edges = bin_session_spikes(session, bin_s=config.bin_s)
    behavior, names, gap = _binned_behavior(session, config, edges)

    trials = session.trials
    keep = trials.success.copy() if config.successful_only else np.ones(len(trials), dtype=bool)
    continuous = len(trials) == 1
    if continuous:
        starts, counts_info = _segment_starts(config, edges, int(trials.target[0]))
    elif config.placement == "trial":
        starts, counts_info = _trial_starts(session, config, edges, keep)
    else:
        starts, counts_info = _sliding_starts(session, config, edges, keep)

    length = config.window_bins
    n_gap_windows = 0
    if gap.any():  # windows holding a bin of missing behaviour are dropped (behavior_gaps)
        kept = [s for s in starts if not gap[s[0] : s[0] + length].any()]
        n_gap_windows = len(starts) - len(kept)
        starts = kept
    start_bins = np.array([s for s, _, _ in starts], dtype=np.int64)
    take = start_bins[:, None] + np.arange(length)[None, :]  # [N, L] bin indices
    spikes = (
        counts[take].transpose(0, 2, 1) if len(starts) else np.zeros((0, counts.shape[1], length))
    )
    beh = behavior[take].transpose(0, 2, 1) if len(starts) else np.zeros((0, len(names), length))
    truth: dict[str, Any] = {}
    for name, key in (("true_rates", "channel_rate"), ("latent_rates", "channel_rate_latent")):
        rates = bin_session_true_rates(session, edges, key=key)
        if rates is not None:
            truth[name] = rates[take].transpose(0, 2, 1) if len(starts) else np.zeros(spikes.shape)
    n = len(starts)
    session_info: dict[str, Any] = {
        "session_id": session.meta.session_id,
        "day": int(session.meta.day),
        "n_windows": n,
        "n_trials": len(trials),
        "n_trials_skipped_unsuccessful": int((~keep).sum()) if not continuous else 0,
        "continuous": continuous,
        "date": session.meta.date,
        "channel_policy": session.meta.channel_policy,
        "n_channels": session.n_channels,
        "flagged_channels": list(session.meta.flagged_channels),
        "array_layout": session.meta.array_layout,
        "has_behavior": session.has_behavior,
        "dropped_behavior_gaps": n_gap_windows,
        **counts_info,
    }
    return Windows(
        spikes=spikes,
        behavior=beh,
        day=np.full(n, session.meta.day, dtype=np.int64),
        trial=np.array([t for _, t, _ in starts], dtype=np.int64),
        t_start=edges[0] + start_bins.astype(np.float64) * config.bin_s,
        target=np.array([g for _, _, g in starts], dtype=np.int64),
        bin_s=config.bin_s,
        channel_ids=list(session.meta.channel_ids),
        behavior_names=names,
        info={"preprocess": config.to_dict(), "sessions": [session_info]},
        channel_policy=session.meta.channel_policy,
        **truth,
    )


def sessions_to_windows(
    sessions: Sequence[Session],
    config: PreprocessConfig | None = None,
    *,
    progress: bool = False,
) -> Windows:
    """Windows of several sessions (days), stacked; ``info["sessions"]`` lists each one.

    All sessions must give the same ``D`` and ``L``, and the same channel list unless they
    were read with the ``"unit"`` channel policy (then each day keeps its own, see `Windows`).

    Raises:
        DataError: no sessions, or no session yields a window.
    """
    from tqdm.auto import tqdm

    config = config or PreprocessConfig()
    if not sessions:
        raise DataError("no sessions to preprocess", source="sessions_to_windows")
    parts = [
        session_to_windows(s, config)
        for s in tqdm(sessions, desc="preprocess", unit="session", disable=not progress)
    ]
    infos = [p.info["sessions"][0] for p in parts]
    if sum(len(p) for p in parts) == 0:
        raise DataError(
            f"no windows from {len(parts)} session(s) (window {config.window_bins} bins of "
            f"{config.bin_s * 1e3:g} ms): recordings or trials too short?",
            source="sessions_to_windows",
        )
    windows = Windows.concatenate(parts)
    windows.info = {"preprocess": config.to_dict(), "sessions": infos}
    return windows
