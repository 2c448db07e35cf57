"""`Windows`: fixed-length model inputs cut from sessions, and splits that never leak.

A window is 2 s = 100 bins of 20 ms: spikes ``[C, L]`` (counts per bin) and behaviour
``[D, L]``. Every window carries the day and the trial it was cut from, so splits are made
by trial or by day, never by window (no window straddles a train/test boundary).

Split functions return integer index arrays into a `Windows`; ``windows[idx]`` selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alignnet.errors import DataError
from alignnet.names import FIXED_CHANNELS, applied_policy

#: Optional ``[N, C, L]`` rate arrays of synthetic windows (see `Windows`).
RATE_FIELDS = ("true_rates", "latent_rates")


@dataclass
class Windows:
    """A stack of N aligned spike/behaviour windows.

    Attributes:
        spikes: ``[N, C, L]`` float32 spike counts per bin.
        behavior: ``[N, D, L]`` float32 behaviour (smoothed, resampled to the bin rate).
        day: ``[N]`` int64 day index of each window.
        trial: ``[N]`` int64 trial index within its day (``-1`` for continuous recordings
            cut without a trial table; then ``segment`` is what splits use).
        t_start: ``[N]`` float64 time of the window's first bin edge, s.
        target: ``[N]`` int64 trial condition (``-1`` unknown).
        bin_s: bin width, s (0.02 by default).
        channel_ids: ``[C]`` channel labels (of every day, when all days share them).
        behavior_names: ``[D]`` behaviour names.
        info: free-form provenance (preprocessing settings), JSON-serialisable.
        channel_policy: how the channels were formed when the files were read:
            ``"electrode"`` (sorted units summed per electrode: every day has the same
            channels), ``"unit"`` (each sorted unit is a channel: each day has its own list)
            or ``"fixed"`` (the file's own channels, e.g. binned counts; the old spelling
            ``"channel"`` reads as it).
        day_channel_ids: day -> that day's channel labels, only when days have different
            channel lists (``"unit"`` policy); empty otherwise.
        true_rates: ``[N, C, L]`` float32 expected spike counts per bin given the behaviour
            and task (synthetic data only, see `alignnet.data.synthetic.truth`), else None:
            the ceiling every simulation is scored against.
        latent_rates: ``[N, C, L]`` the rates that drew the spikes, given the generator's
            behaviour-unrelated fluctuations too (synthetic data only), else None.

    Days with different channel counts: ``spikes`` holds each day's channels in its first
    ``n_channels_of(day)`` rows. Selecting windows (``windows[idx]``, `select_days`) trims the
    rows to the widest selected day, so one day's windows are exactly ``[N, C_day, L]``;
    `day_spikes` returns them for any day. Only models with a per-day read-in (AlignNet) take
    windows that mix days of different widths; the rows past a day's width are zero and its
    read-in never reads them.
    """

    spikes: np.ndarray
    behavior: np.ndarray
    day: np.ndarray
    trial: np.ndarray
    t_start: np.ndarray
    target: np.ndarray
    bin_s: float = 0.02
    channel_ids: list[str] = field(default_factory=list)
    behavior_names: list[str] = field(default_factory=lambda: ["x", "y"])
    info: dict[str, Any] = field(default_factory=dict)
    channel_policy: str = FIXED_CHANNELS
    day_channel_ids: dict[int, list[str]] = field(default_factory=dict)
    true_rates: np.ndarray | None = None
    latent_rates: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.channel_policy = applied_policy(self.channel_policy)
        self.spikes = np.ascontiguousarray(self.spikes, dtype=np.float32)
        for name in RATE_FIELDS:
            if getattr(self, name) is not None:
                setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float32))
        self.day_channel_ids = {int(d): list(ids) for d, ids in self.day_channel_ids.items()}
        self.behavior = np.ascontiguousarray(self.behavior, dtype=np.float32)
        self.day = np.asarray(self.day, dtype=np.int64)
        self.trial = np.asarray(self.trial, dtype=np.int64)
        self.t_start = np.asarray(self.t_start, dtype=np.float64)
        self.target = np.asarray(self.target, dtype=np.int64)
        self.validate()

    def validate(self) -> None:
        if self.spikes.ndim != 3:
            raise DataError(
                f"expected [N, C, L], got {self.spikes.shape}", field="spikes", source="Windows"
            )
        if self.behavior.ndim != 3:
            raise DataError(
                f"expected [N, D, L], got {self.behavior.shape}", field="behavior", source="Windows"
            )
        n, _, length = self.spikes.shape
        if self.behavior.shape[0] != n or self.behavior.shape[2] != length:
            raise DataError(
                f"behaviour {self.behavior.shape} does not match spikes {self.spikes.shape} (N and L must agree)",
                field="behavior",
                source="Windows",
            )
        for name in ("day", "trial", "t_start", "target"):
            if getattr(self, name).shape != (n,):
                raise DataError(
                    f"shape {getattr(self, name).shape}, expected ({n},)",
                    field=name,
                    source="Windows",
                )
        for name in RATE_FIELDS:
            rates = getattr(self, name)
            if rates is not None and (
                rates.shape != self.spikes.shape
                or not np.isfinite(rates).all()
                or np.any(rates < 0)
            ):
                raise DataError(
                    f"{rates.shape} must match spikes {self.spikes.shape}, finite and >= 0",
                    field=name,
                    source="Windows",
                )
        for name in ("spikes", "behavior"):
            arr = getattr(self, name)
            if arr.size and not np.isfinite(arr).all():
                raise DataError("NaN or inf values", field=name, source="Windows")
        if self.day_channel_ids:
            self._validate_per_day_channels()
        elif self.channel_ids and len(self.channel_ids) != self.spikes.shape[1]:
            raise DataError(
                f"{len(self.channel_ids)} ids for {self.spikes.shape[1]} channels",
                field="channel_ids",
                source="Windows",
            )

    def _validate_per_day_channels(self) -> None:
        missing = sorted(set(np.unique(self.day).tolist()) - set(self.day_channel_ids))
        if missing:
            raise DataError(
                f"days {missing} have no channel list in day_channel_ids",
                field="day_channel_ids",
                source="Windows",
            )
        for d in np.unique(self.day).tolist():
            n = len(self.day_channel_ids[d])
            if n > self.spikes.shape[1]:
                raise DataError(
                    f"day {d} has {n} channels but spikes hold {self.spikes.shape[1]} rows",
                    field="day_channel_ids",
                    source="Windows",
                )
            if np.any(self.spikes[self.day == d, n:]):
                raise DataError(
                    f"day {d}: non-zero counts past its {n} channels",
                    field="spikes",
                    source="Windows",
                )

    # ------------------------------------------------------------------ shape helpers
    def __len__(self) -> int:
        return int(self.spikes.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.spikes.shape[1])

    @property
    def n_behavior_dims(self) -> int:
        return int(self.behavior.shape[1])

    @property
    def window_len(self) -> int:
        return int(self.spikes.shape[2])

    @property
    def days(self) -> np.ndarray:
        """Sorted unique day indices."""
        return np.unique(self.day)

    @property
    def ragged(self) -> bool:
        """True when the days present have different channel lists (``"unit"`` policy): a
        model with one fixed input layout cannot take these windows together."""
        return bool(self.day_channel_ids)

    def n_channels_of(self, day: int) -> int:
        """Channel count of ``day`` (the same for every day unless `ragged`)."""
        if self.day_channel_ids:
            return len(self.day_channel_ids[int(day)])
        return self.n_channels

    def channel_ids_of(self, day: int) -> list[str]:
        """Channel labels of ``day``."""
        if self.day_channel_ids:
            return list(self.day_channel_ids[int(day)])
        return list(self.channel_ids)

    def day_spikes(self, day: int) -> np.ndarray:
        """``[N_day, C_day, L]`` spike counts of one day, at that day's own channel count."""
        sel = self.day == int(day)
        return self.spikes[sel, : self.n_channels_of(day)]

    def channel_counts(self) -> dict[int, int]:
        """Day -> channel count, for the days present."""
        return {int(d): self.n_channels_of(int(d)) for d in self.days}

    def __getitem__(self, index: np.ndarray | slice | Sequence[int]) -> Windows:
        """Select windows (integer indices, bool mask or slice); metadata is shared."""
        if isinstance(index, slice):
            index = np.arange(len(self))[index]
        index = np.asarray(index)
        spikes, channel_ids, day_ids = self.spikes[index], list(self.channel_ids), {}
        truth = {n: None if getattr(self, n) is None else getattr(self, n)[index]
                 for n in RATE_FIELDS}  # fmt: skip
        if self.day_channel_ids:
            day_ids = {d: self.day_channel_ids[d] for d in np.unique(self.day[index]).tolist()}
            lists = list(day_ids.values())
            if lists:
                spikes = spikes[:, : max(len(v) for v in lists)]
                truth = {n: v if v is None else v[:, : spikes.shape[1]] for n, v in truth.items()}
            if lists and all(v == lists[0] for v in lists):  # one channel list: plain windows
                channel_ids, day_ids = list(lists[0]), {}
        return Windows(
            spikes=spikes,
            behavior=self.behavior[index],
            day=self.day[index],
            trial=self.trial[index],
            t_start=self.t_start[index],
            target=self.target[index],
            bin_s=self.bin_s,
            channel_ids=channel_ids,
            behavior_names=list(self.behavior_names),
            info=dict(self.info),
            channel_policy=self.channel_policy,
            day_channel_ids=day_ids,
            **truth,
        )

    @staticmethod
    def concatenate(parts: Sequence[Windows]) -> Windows:
        """Stack windows of several sessions (same D, L and bin width).

        Parts with the same channel list stack as they are. Parts whose channel lists differ
        are allowed only when every part was read with the ``"unit"`` channel policy (each day
        then keeps its own channel list, see the class docstring); otherwise a `DataError`
        names the difference.
        """
        if not parts:
            raise DataError("nothing to concatenate (no windows)", source="Windows")
        first = parts[0]
        for p in parts[1:]:
            if p.behavior.shape[1:] != first.behavior.shape[1:] or (
                p.spikes.shape[2] != first.spikes.shape[2]
            ):
                raise DataError(
                    f"window shapes differ: spikes {p.spikes.shape[1:]} vs "
                    f"{first.spikes.shape[1:]}, behaviour {p.behavior.shape[1:]} vs "
                    f"{first.behavior.shape[1:]}",
                    source="Windows",
                )
            if p.bin_s != first.bin_s:
                raise DataError(f"bin widths differ: {p.bin_s} vs {first.bin_s}", source="Windows")
        policies = {p.channel_policy for p in parts}
        if len(policies) > 1:
            raise DataError(
                f"windows read with different channel policies {sorted(policies)}",
                field="channel_policy",
                source="Windows",
            )
        day_ids: dict[int, list[str]] = {}
        for p in parts:
            for d in p.days.tolist():
                # windows without channel labels are told apart by their channel count
                ids = p.channel_ids_of(d) or [f"#{i}" for i in range(p.n_channels_of(d))]
                if d in day_ids and day_ids[d] != ids:
                    raise DataError(
                        f"day {d} appears twice with different channel lists",
                        field="day",
                        source="Windows",
                    )
                day_ids[d] = ids
        same = len({tuple(v) for v in day_ids.values()}) <= 1
        if not same and first.channel_policy != "unit":
            widths = sorted({len(v) for v in day_ids.values()})
            raise DataError(
                f"days have different channel lists (channel counts {widths}) under the "
                f"{first.channel_policy!r} channel policy; read sorted units with "
                "channels='electrode' (same channels every day) or channels='unit'",
                field="channels",
                source="Windows",
            )
        width = max(p.spikes.shape[1] for p in parts)
        spikes = np.zeros((sum(len(p) for p in parts), width, first.window_len), np.float32)
        # true rates only when every part has them (a mix would score some days without)
        truth = {
            n: None if any(getattr(p, n) is None for p in parts) else np.zeros_like(spikes)
            for n in RATE_FIELDS
        }
        row = 0
        for p in parts:
            spikes[row : row + len(p), : p.spikes.shape[1]] = p.spikes
            for n, arr in truth.items():
                if arr is not None:
                    arr[row : row + len(p), : p.spikes.shape[1]] = getattr(p, n)
            row += len(p)
        return Windows(
            spikes=spikes,
            behavior=np.concatenate([p.behavior for p in parts]),
            day=np.concatenate([p.day for p in parts]),
            trial=np.concatenate([p.trial for p in parts]),
            t_start=np.concatenate([p.t_start for p in parts]),
            target=np.concatenate([p.target for p in parts]),
            bin_s=first.bin_s,
            channel_ids=list(first.channel_ids) if same else [],
            behavior_names=list(first.behavior_names),
            info=dict(first.info),
            channel_policy=first.channel_policy,
            day_channel_ids={} if same else day_ids,
            **truth,
        )

    def select_days(self, days: Sequence[int]) -> Windows:
        """Windows of the given days."""
        return self[np.isin(self.day, np.asarray(days))]


# ---------------------------------------------------------------------- splits
def _trial_keys(windows: Windows) -> np.ndarray:
    """``[N, 2]`` (day, trial) pairs; the unit a split may not cut through."""
    return np.stack([windows.day, windows.trial], axis=1)


def split_by_trial(
    windows: Windows,
    *,
    test_fraction: float = 0.2,
    contiguous: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Split each day's trials into train and test (the paper's single-day 80/20).

    Args:
        windows: windows of one or more days.
        test_fraction: fraction of each day's trials (by count) held out for test.
        contiguous: True holds out the *last* trials of each day (no temporal leakage
            through slow drift); False draws test trials at random with ``seed``.
        seed: used only when ``contiguous`` is False.

    Returns:
        ``(train_idx, test_idx)`` sorted int64 index arrays; every trial's windows fall on
        one side only.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if len(windows) == 0:
        raise DataError("no windows to split", source="split_by_trial")
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(len(windows), dtype=bool)
    for d in windows.days:
        in_day = windows.day == d
        trials = np.unique(windows.trial[in_day])
        if trials.size < 2:
            raise DataError(
                f"day {d} has {trials.size} trial(s); a trial split needs at least 2",
                source="split_by_trial",
            )
        n_test = min(max(1, int(round(test_fraction * trials.size))), trials.size - 1)
        test_trials = (
            trials[-n_test:] if contiguous else rng.choice(trials, size=n_test, replace=False)
        )
        test_mask |= in_day & np.isin(windows.trial, test_trials)
    return np.flatnonzero(~test_mask), np.flatnonzero(test_mask)


def split_by_day(
    windows: Windows, *, train_days: Sequence[int], test_days: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-day split: ``(train_idx, test_idx)`` selecting whole days.

    Raises `DataError` if the two day sets overlap or a day has no windows.
    """
    train_days, test_days = list(train_days), list(test_days)
    overlap = set(train_days) & set(test_days)
    if overlap:
        raise DataError(f"days {sorted(overlap)} are in both train and test", source="split_by_day")
    present = set(windows.days.tolist())
    missing = [d for d in train_days + test_days if d not in present]
    if missing:
        raise DataError(
            f"days {missing} have no windows (present: {sorted(present)})", source="split_by_day"
        )
    return (
        np.flatnonzero(np.isin(windows.day, train_days)),
        np.flatnonzero(np.isin(windows.day, test_days)),
    )


def first_trials(windows: Windows, *, n_trials: int, day: int | None = None) -> np.ndarray:
    """Indices of the windows of the first ``n_trials`` trials (of ``day``, or of each day).

    Used for few-shot adaptation to a new day (N labelled trials).
    """
    days = windows.days if day is None else np.asarray([day])
    keep = np.zeros(len(windows), dtype=bool)
    for d in days:
        in_day = windows.day == d
        trials = np.unique(windows.trial[in_day])[:n_trials]
        keep |= in_day & np.isin(windows.trial, trials)
    return np.flatnonzero(keep)
