"""Normalisation statistics: z-scoring of spike counts and behaviour, saved in checkpoints.

- Spikes: per-channel mean and std of the counts per bin, pooled over all days or, with
  ``per_day=True``, one set per day (day-to-day drift changes each channel's rate).
- Behaviour: per-dimension mean and std, always pooled over days: behaviour is the shared
  space every day maps to, and decoded behaviour is mapped back with these statistics.

A day not seen at fit time (per-day mode) has no spike statistics. With the default
``unseen_day="raise"`` transforming it raises a `DataError` until you call
``stats.fit_new_day(windows_of_that_day)``, which fits that day's spike statistics from its own
windows. Only the spikes are read, so unlabelled windows (behaviour all zeros) are fine; this is
the explicit, deliberate step of adapting to a new day. With ``unseen_day="own"`` (the rule of
the `alignnet.api.AlignNet` estimator, ``model.normalizer``) such windows are instead z-scored
with the statistics of that day's windows in the same call (zero-shot use of a new day).

Stds at or below ``min_std`` (silent or constant channels) are replaced by 1, so those channels
are only centred, never blown up. All statistics are float64; transforms return float32.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from alignnet.data.windows import Windows
from alignnet.errors import DataError

UnseenDay = Literal["raise", "own"]
_UNSEEN_DAY = ("raise", "own")


def mean_std(x: np.ndarray, *, min_std: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over windows and time of ``[N, K, L]`` -> two ``[K]`` float64 arrays.

    Accumulated in float64; a std at or below ``min_std`` becomes 1.
    """
    mean = x.mean(axis=(0, 2), dtype=np.float64)
    std = x.std(axis=(0, 2), dtype=np.float64)
    return mean, np.where(std > min_std, std, 1.0)


def _to_width(values: np.ndarray, width: int, fill: float) -> np.ndarray:
    """A day's ``[C_day]`` statistics at ``width`` channels: rows past a day's channels (the
    zero padding of windows that mix days of different widths) get ``fill``."""
    if values.shape[0] >= width:
        return values[:width]
    return np.concatenate([values, np.full(width - values.shape[0], fill)])


@dataclass
class NormStats:
    """Per-channel spike and per-dimension behaviour statistics.

    Attributes:
        spike_mean, spike_std: ``[C]`` pooled over all fitted windows, counts per bin (also the
            count statistics the estimator initialises its simulate head with:
            `count_mean`/`count_std`).
        behavior_mean, behavior_std: ``[D]`` in behaviour units.
        per_day: if True, spikes are normalised with ``day_spike_mean/std[day]``.
        day_spike_mean, day_spike_std: day -> ``[C]`` (per-day mode only).
        min_std: stds at or below this become 1.
        unseen_day: per-day mode, a day without statistics: ``"raise"`` a `DataError`, or
            ``"own"``: z-score it with the statistics of its own windows in that call.
    """

    spike_mean: np.ndarray
    spike_std: np.ndarray
    behavior_mean: np.ndarray
    behavior_std: np.ndarray
    per_day: bool = False
    day_spike_mean: dict[int, np.ndarray] = field(default_factory=dict)
    day_spike_std: dict[int, np.ndarray] = field(default_factory=dict)
    min_std: float = 1e-6
    unseen_day: UnseenDay = "raise"

    def __post_init__(self) -> None:
        if self.unseen_day not in _UNSEEN_DAY:
            raise ValueError(f"unseen_day must be one of {_UNSEEN_DAY}, got {self.unseen_day!r}")

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        windows: Windows,
        *,
        per_day: bool = False,
        min_std: float = 1e-6,
        unseen_day: UnseenDay = "raise",
    ) -> NormStats:
        """Fit on (training) windows: spikes ``[N, C, L]``, behaviour ``[N, D, L]``."""
        return cls.fit_arrays(
            windows.spikes,
            windows.behavior,
            day=windows.day,
            per_day=per_day,
            min_std=min_std,
            unseen_day=unseen_day,
        )

    @classmethod
    def fit_arrays(
        cls,
        spikes: np.ndarray,
        behavior: np.ndarray,
        *,
        day: np.ndarray | None = None,
        per_day: bool = False,
        min_std: float = 1e-6,
        unseen_day: UnseenDay = "raise",
    ) -> NormStats:
        """Fit from arrays: spikes ``[N, C, L]`` counts, behaviour ``[N, D, L]``, day ``[N]``.

        ``day`` is needed (and only read) in per-day mode.
        """
        spikes, behavior = np.asarray(spikes), np.asarray(behavior)
        if spikes.shape[0] == 0 or behavior.shape[0] == 0:
            raise DataError("cannot fit normalisation on zero windows", source="NormStats.fit")
        spike_mean, spike_std = mean_std(spikes, min_std=min_std)
        behavior_mean, behavior_std = mean_std(behavior, min_std=min_std)
        stats = cls(
            spike_mean=spike_mean,
            spike_std=spike_std,
            behavior_mean=behavior_mean,
            behavior_std=behavior_std,
            per_day=per_day,
            min_std=min_std,
            unseen_day=unseen_day,
        )
        return stats.with_new_days(spikes, day=day) if per_day else stats

    def with_new_days(self, spikes: np.ndarray, *, day: np.ndarray | None) -> NormStats:
        """A copy with spike statistics for each day in ``day`` ``[N]`` that has none yet.

        Fitted from that day's rows of ``spikes`` ``[N, C, L]`` (no labels needed). Days already
        known keep their statistics; pooled and behaviour statistics never change. Without
        per-day statistics this returns ``self``.
        """
        if not self.per_day:
            return self
        if day is None:
            raise DataError("per-day statistics need the day of each window", field="day")
        spikes, day = np.asarray(spikes), np.asarray(day)
        means, stds = dict(self.day_spike_mean), dict(self.day_spike_std)
        for d in np.unique(day).tolist():
            if int(d) not in means:
                means[int(d)], stds[int(d)] = mean_std(spikes[day == d], min_std=self.min_std)
        return dataclasses.replace(self, day_spike_mean=means, day_spike_std=stds)

    def refit_day(self, spikes: np.ndarray, *, day: int) -> NormStats:
        """A copy whose spike statistics of ``day`` are fitted again from ``spikes``
        ``[N, C_day, L]`` (all of that day; no labels needed). Without per-day statistics
        this returns ``self``."""
        if not self.per_day:
            return self
        mean, std = mean_std(np.asarray(spikes), min_std=self.min_std)
        return dataclasses.replace(
            self,
            day_spike_mean={**self.day_spike_mean, int(day): mean},
            day_spike_std={**self.day_spike_std, int(day): std},
        )

    def fit_new_day(self, windows: Windows, *, day: int | None = None) -> NormStats:
        """A copy with spike statistics for one more day, fitted from its windows' spikes.

        Args:
            windows: windows of that day; only ``spikes`` is read (no labels needed).
            day: the day index (``None``: the single day present in ``windows``).
        """
        days = windows.days
        if day is None:
            if days.size != 1:
                raise DataError(
                    f"windows hold days {days.tolist()}; pass day= or one day's windows",
                    source="NormStats.fit_new_day",
                )
            day = int(days[0])
        else:
            windows = windows.select_days([day])
        if len(windows) == 0:
            raise DataError(f"day {day} has no windows", source="NormStats.fit_new_day")
        mean, std = mean_std(windows.spikes, min_std=self.min_std)
        return dataclasses.replace(
            self,
            day_spike_mean={**self.day_spike_mean, int(day): mean},
            day_spike_std={**self.day_spike_std, int(day): std},
        )

    # ------------------------------------------------------------------ queries
    @property
    def count_mean(self) -> np.ndarray:
        """``[C]`` mean count per bin over all fitted windows (= ``spike_mean``)."""
        return self.spike_mean

    @property
    def count_std(self) -> np.ndarray:
        """``[C]`` std of the counts per bin over all fitted windows (= ``spike_std``)."""
        return self.spike_std

    def knows(self, day: int | None) -> bool:
        """Whether spikes of ``day`` have stored statistics (always, without per-day mode)."""
        return not self.per_day or (day is not None and int(day) in self.day_spike_mean)

    def day_stats(self, day: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The stored ``[C]`` float64 spike mean and std used for ``day`` (see `knows`)."""
        if not self.per_day:
            return self.spike_mean, self.spike_std
        if day is None or not self.knows(day):
            raise DataError(
                f"no spike statistics for day {day} (fitted: {sorted(self.day_spike_mean)})",
                field="day",
                source="NormStats",
            )
        return self.day_spike_mean[int(day)], self.day_spike_std[int(day)]

    # ------------------------------------------------------------------ transforms
    def _spike_stats(
        self, spikes: np.ndarray, day: np.ndarray | int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``[N or 1, C, 1]`` mean and std for the windows' days."""
        if not self.per_day:
            return self.spike_mean[None, :, None], self.spike_std[None, :, None]
        n = spikes.shape[0]
        if day is None:
            if self.unseen_day == "raise":
                raise DataError("per-day statistics need the day of each window", field="day")
            mean, std = mean_std(spikes, min_std=self.min_std)
            return mean[None, :, None], std[None, :, None]
        days = np.broadcast_to(np.asarray(day, dtype=np.int64), (n,))
        unseen = sorted(set(np.unique(days).tolist()) - set(self.day_spike_mean))
        if unseen and self.unseen_day == "raise":
            raise DataError(
                f"no spike statistics for day(s) {unseen} (fitted: {sorted(self.day_spike_mean)});"
                " call NormStats.fit_new_day(windows_of_that_day) first",
                field="day",
                source="NormStats",
            )
        known_mean, known_std = dict(self.day_spike_mean), dict(self.day_spike_std)
        for d in unseen:  # unseen_day == "own": that day's windows in this call
            known_mean[d], known_std[d] = mean_std(spikes[days == d], min_std=self.min_std)
        width = spikes.shape[1]
        mean = np.stack([_to_width(known_mean[int(d)], width, 0.0) for d in days])
        std = np.stack([_to_width(known_std[int(d)], width, 1.0) for d in days])
        return mean[:, :, None], std[:, :, None]

    def transform_spikes(
        self, spikes: np.ndarray, *, day: np.ndarray | int | None = None
    ) -> np.ndarray:
        """``[N, C, L]`` counts -> z-scores (float32). ``day``: ``[N]`` or one int (per-day mode).

        Per-day mode: a day without statistics raises, or (``unseen_day="own"``) uses its own
        windows' statistics; ``day=None`` then treats all windows as one such day.
        """
        spikes = np.asarray(spikes)
        mean, std = self._spike_stats(spikes, day)
        return ((spikes - mean) / std).astype(np.float32)

    def transform_behavior(self, behavior: np.ndarray) -> np.ndarray:
        """``[N, D, L]`` behaviour -> z-scores (float32)."""
        behavior = np.asarray(behavior)
        return (
            (behavior - self.behavior_mean[None, :, None]) / self.behavior_std[None, :, None]
        ).astype(np.float32)

    def inverse_behavior(self, behavior: np.ndarray) -> np.ndarray:
        """z-scored ``[N, D, L]`` behaviour (e.g. a model's output) -> behaviour units (float32)."""
        behavior = np.asarray(behavior)
        return (
            behavior * self.behavior_std[None, :, None] + self.behavior_mean[None, :, None]
        ).astype(np.float32)

    def inverse_behavior_bins(self, behavior: np.ndarray) -> np.ndarray:
        """z-scored behaviour with D last (``[D]`` one bin, ``[T, D]`` a continuous block) ->
        behaviour units, float32 (computed in float64)."""
        behavior = np.asarray(behavior, dtype=np.float64)
        return (behavior * self.behavior_std + self.behavior_mean).astype(np.float32)

    def transform(self, windows: Windows) -> Windows:
        """A copy of ``windows`` with spikes and behaviour z-scored."""
        return dataclasses.replace(
            windows,
            spikes=self.transform_spikes(windows.spikes, day=windows.day),
            behavior=self.transform_behavior(windows.behavior),
        )

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (lists of floats; day keys as strings)."""
        return {
            "spike_mean": self.spike_mean.tolist(),
            "spike_std": self.spike_std.tolist(),
            "behavior_mean": self.behavior_mean.tolist(),
            "behavior_std": self.behavior_std.tolist(),
            "per_day": self.per_day,
            "day_spike_mean": {str(d): v.tolist() for d, v in self.day_spike_mean.items()},
            "day_spike_std": {str(d): v.tolist() for d, v in self.day_spike_std.items()},
            "min_std": self.min_std,
            "unseen_day": self.unseen_day,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormStats:
        """Inverse of `to_dict` (exact: float64 values survive JSON unchanged).

        Also reads the dict older AlignNet checkpoints stored under ``"normalizer"`` (keys
        ``days``/``count_mean``/...; it had the ``unseen_day="own"`` rule).
        """
        if "count_mean" in data and "days" in data:
            return cls._from_legacy_dict(data)
        try:
            return cls(
                spike_mean=np.asarray(data["spike_mean"], dtype=np.float64),
                spike_std=np.asarray(data["spike_std"], dtype=np.float64),
                behavior_mean=np.asarray(data["behavior_mean"], dtype=np.float64),
                behavior_std=np.asarray(data["behavior_std"], dtype=np.float64),
                per_day=bool(data["per_day"]),
                day_spike_mean={
                    int(d): np.asarray(v, dtype=np.float64)
                    for d, v in data.get("day_spike_mean", {}).items()
                },
                day_spike_std={
                    int(d): np.asarray(v, dtype=np.float64)
                    for d, v in data.get("day_spike_std", {}).items()
                },
                min_std=float(data.get("min_std", 1e-6)),
                unseen_day=data.get("unseen_day", "raise"),
            )
        except KeyError as exc:
            raise DataError(
                f"missing key {exc}", field=str(exc.args[0]), source="NormStats"
            ) from exc

    @classmethod
    def _from_legacy_dict(cls, data: dict[str, Any]) -> NormStats:
        """The former ``alignnet.training.normalization.Normalizer.to_dict`` layout."""
        for key in ("count_mean", "count_std", "behavior_mean", "behavior_std"):
            if data.get(key) is None:
                raise DataError(
                    "statistics were never fitted (model not trained)",
                    field=key,
                    source="NormStats",
                )
        days = [int(d) for d in data["days"]]
        means = [np.asarray(v, dtype=np.float64) for v in data["spike_mean"]]
        stds = [np.asarray(v, dtype=np.float64) for v in data["spike_std"]]
        per_day = bool(data["per_day"])
        return cls(
            spike_mean=np.asarray(data["count_mean"], dtype=np.float64),
            spike_std=np.asarray(data["count_std"], dtype=np.float64),
            behavior_mean=np.asarray(data["behavior_mean"], dtype=np.float64),
            behavior_std=np.asarray(data["behavior_std"], dtype=np.float64),
            per_day=per_day,
            day_spike_mean=dict(zip(days, means, strict=True)) if per_day else {},
            day_spike_std=dict(zip(days, stds, strict=True)) if per_day else {},
            unseen_day="own",
        )
