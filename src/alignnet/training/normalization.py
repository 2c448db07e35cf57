"""Normalisation statistics of the AlignNet estimator (z-scoring of spikes and behaviour).

Spikes are z-scored per channel, with each recording day's own statistics when
``per_day=True`` (a day never seen before gets its statistics from its own *unlabelled*
spike windows, so a new day needs no behaviour to be normalised). Behaviour is z-scored per
dimension with the statistics of the data the model was first trained on (its decoder
outputs are inverse-transformed with them).

Minimal stand-in kept inside ``training/`` until ``alignnet.data.preprocess.NormStats`` is
shared; the checkpoint stores it as a plain dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

_FLOOR = 1e-6


def _std(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    s = x.std(axis=axis, dtype=np.float64)
    return np.where(s > _FLOOR, s, 1.0)


@dataclass
class Normalizer:
    """Per-channel spike and per-dimension behaviour mean/std.

    Attributes:
        per_day: spike statistics per day (True) or one set for all days (False).
        spike_mean, spike_std: day -> ``[C]`` float64 counts per bin (key -1 when not per day).
        behavior_mean, behavior_std: ``[D]`` float64 in behaviour units (None until fitted).
        count_mean, count_std: ``[C]`` count statistics over all training windows (used to
            initialise the simulate head).
    """

    per_day: bool = True
    spike_mean: dict[int, np.ndarray] = field(default_factory=dict)
    spike_std: dict[int, np.ndarray] = field(default_factory=dict)
    behavior_mean: np.ndarray | None = None
    behavior_std: np.ndarray | None = None
    count_mean: np.ndarray | None = None
    count_std: np.ndarray | None = None

    def _key(self, day: int) -> int:
        return int(day) if self.per_day else -1

    def fit_spikes(self, spikes: np.ndarray, day: np.ndarray, *, overwrite: bool = False) -> None:
        """Fit spike statistics from ``[N, C, L]`` counts for days not known yet."""
        if not self.per_day:
            if overwrite or -1 not in self.spike_mean:
                self.spike_mean[-1] = spikes.mean(axis=(0, 2), dtype=np.float64)
                self.spike_std[-1] = _std(spikes, (0, 2))
        else:
            for d in np.unique(day):
                if overwrite or int(d) not in self.spike_mean:
                    x = spikes[day == d]
                    self.spike_mean[int(d)] = x.mean(axis=(0, 2), dtype=np.float64)
                    self.spike_std[int(d)] = _std(x, (0, 2))
        if overwrite or self.count_mean is None:
            self.count_mean = spikes.mean(axis=(0, 2), dtype=np.float64)
            self.count_std = _std(spikes, (0, 2))

    def fit_behavior(self, behavior: np.ndarray, *, overwrite: bool = False) -> None:
        """Fit behaviour statistics from ``[N, D, L]`` (once, unless ``overwrite``)."""
        if overwrite or self.behavior_mean is None:
            self.behavior_mean = behavior.mean(axis=(0, 2), dtype=np.float64)
            self.behavior_std = _std(behavior, (0, 2))

    def knows(self, day: int) -> bool:
        return self._key(day) in self.spike_mean

    def spikes(self, spikes: np.ndarray, day: np.ndarray) -> np.ndarray:
        """``[N, C, L]`` counts -> float32 z-scores; unknown days use their own statistics."""
        out = np.empty(spikes.shape, dtype=np.float32)
        for d in np.unique(day):
            sel = day == d
            x = spikes[sel]
            key = self._key(int(d))
            if key in self.spike_mean:
                mean, std = self.spike_mean[key], self.spike_std[key]
            else:
                mean, std = x.mean(axis=(0, 2), dtype=np.float64), _std(x, (0, 2))
            out[sel] = (x - mean[:, None]) / std[:, None]
        return out

    def behavior(self, behavior: np.ndarray) -> np.ndarray:
        """``[N, D, L]`` behaviour units -> float32 z-scores."""
        return ((behavior - self.behavior_mean[:, None]) / self.behavior_std[:, None]).astype(
            np.float32
        )

    def behavior_inverse(self, z: np.ndarray) -> np.ndarray:
        """``[N, D, L]`` z-scores -> float32 behaviour units."""
        return (z * self.behavior_std[:, None] + self.behavior_mean[:, None]).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of lists (safe for ``weights_only`` checkpoints)."""

        def arr(a):
            return None if a is None else np.asarray(a, dtype=np.float64).tolist()

        return {
            "per_day": self.per_day,
            "days": sorted(self.spike_mean),
            "spike_mean": [arr(self.spike_mean[d]) for d in sorted(self.spike_mean)],
            "spike_std": [arr(self.spike_std[d]) for d in sorted(self.spike_mean)],
            "behavior_mean": arr(self.behavior_mean),
            "behavior_std": arr(self.behavior_std),
            "count_mean": arr(self.count_mean),
            "count_std": arr(self.count_std),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalizer:
        def arr(a):
            return None if a is None else np.asarray(a, dtype=np.float64)

        return cls(
            per_day=bool(d["per_day"]),
            spike_mean={int(k): arr(v) for k, v in zip(d["days"], d["spike_mean"], strict=True)},
            spike_std={int(k): arr(v) for k, v in zip(d["days"], d["spike_std"], strict=True)},
            behavior_mean=arr(d["behavior_mean"]),
            behavior_std=arr(d["behavior_std"]),
            count_mean=arr(d["count_mean"]),
            count_std=arr(d["count_std"]),
        )
