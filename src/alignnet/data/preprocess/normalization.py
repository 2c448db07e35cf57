"""Normalisation statistics: z-scoring of spike counts and behaviour, saved in checkpoints.

- Spikes: per-channel mean and std of the counts per bin, pooled over all days or, with
  ``per_day=True``, one set per day (day-to-day drift changes each channel's rate).
- Behaviour: per-dimension mean and std, always pooled over days: behaviour is the shared
  space every day maps to, and decoded behaviour is mapped back with these statistics.

A day not seen at fit time (per-day mode) has no spike statistics; transforming it raises a
`DataError` until you call ``stats.fit_new_day(windows_of_that_day)``, which fits that day's
spike statistics from its own windows. Only the spikes are read, so unlabelled windows
(behaviour all zeros) are fine; this is the explicit, deliberate step of adapting to a new
day.

Stds below ``min_std`` (silent or constant channels) are replaced by 1, so those channels are
only centred, never blown up.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.errors import DataError


def _mean_std(x: np.ndarray, *, min_std: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over windows and time of ``[N, K, L]`` -> two ``[K]`` float64 arrays."""
    x64 = x.astype(np.float64, copy=False)
    mean = x64.mean(axis=(0, 2))
    std = x64.std(axis=(0, 2))
    return mean, np.where(std < min_std, 1.0, std)


@dataclass
class NormStats:
    """Per-channel spike and per-dimension behaviour statistics.

    Attributes:
        spike_mean, spike_std: ``[C]`` pooled over all fitted windows, counts per bin.
        behavior_mean, behavior_std: ``[D]`` in behaviour units.
        per_day: if True, spikes are normalised with ``day_spike_mean/std[day]``.
        day_spike_mean, day_spike_std: day -> ``[C]`` (per-day mode only).
        min_std: stds below this become 1.
    """

    spike_mean: np.ndarray
    spike_std: np.ndarray
    behavior_mean: np.ndarray
    behavior_std: np.ndarray
    per_day: bool = False
    day_spike_mean: dict[int, np.ndarray] = field(default_factory=dict)
    day_spike_std: dict[int, np.ndarray] = field(default_factory=dict)
    min_std: float = 1e-6

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, windows: Windows, *, per_day: bool = False, min_std: float = 1e-6) -> NormStats:
        """Fit on (training) windows: spikes ``[N, C, L]``, behaviour ``[N, D, L]``."""
        if len(windows) == 0:
            raise DataError("cannot fit normalisation on zero windows", source="NormStats.fit")
        spike_mean, spike_std = _mean_std(windows.spikes, min_std=min_std)
        behavior_mean, behavior_std = _mean_std(windows.behavior, min_std=min_std)
        stats = cls(
            spike_mean=spike_mean,
            spike_std=spike_std,
            behavior_mean=behavior_mean,
            behavior_std=behavior_std,
            per_day=per_day,
            min_std=min_std,
        )
        if per_day:
            for day in windows.days.tolist():
                stats = stats.fit_new_day(windows.select_days([day]))
        return stats

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
        mean, std = _mean_std(windows.spikes, min_std=self.min_std)
        return dataclasses.replace(
            self,
            day_spike_mean={**self.day_spike_mean, int(day): mean},
            day_spike_std={**self.day_spike_std, int(day): std},
        )

    # ------------------------------------------------------------------ transforms
    def _spike_stats(self, day: np.ndarray | int | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``[N or 1, C, 1]`` mean and std for the windows' days."""
        if not self.per_day:
            return self.spike_mean[None, :, None], self.spike_std[None, :, None]
        if day is None:
            raise DataError("per-day statistics need the day of each window", field="day")
        days = np.broadcast_to(np.asarray(day, dtype=np.int64), (n,))
        unseen = sorted(set(np.unique(days).tolist()) - set(self.day_spike_mean))
        if unseen:
            raise DataError(
                f"no spike statistics for day(s) {unseen} (fitted: {sorted(self.day_spike_mean)});"
                " call NormStats.fit_new_day(windows_of_that_day) first",
                field="day",
                source="NormStats",
            )
        mean = np.stack([self.day_spike_mean[int(d)] for d in days])
        std = np.stack([self.day_spike_std[int(d)] for d in days])
        return mean[:, :, None], std[:, :, None]

    def transform_spikes(
        self, spikes: np.ndarray, *, day: np.ndarray | int | None = None
    ) -> np.ndarray:
        """``[N, C, L]`` counts -> z-scores (float32). ``day``: ``[N]`` or one int (per-day mode)."""
        spikes = np.asarray(spikes)
        mean, std = self._spike_stats(day, spikes.shape[0])
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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormStats:
        """Inverse of `to_dict` (exact: float64 values survive JSON unchanged)."""
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
            )
        except KeyError as exc:
            raise DataError(
                f"missing key {exc}", field=str(exc.args[0]), source="NormStats"
            ) from exc
