"""Typed settings of the synthetic multi-day recording generator, and its presets.

Every knob of the generator lives here, so a dataset's ``dataset.json`` (which stores
``SyntheticConfig.to_dict()`` and the seed) is enough to regenerate it bit for bit.

Presets:
- ``paper``: the paper's shape (22 days, ~1,458 trials a day, 64 channels, 30 kHz, 1 kHz
  joystick); about 73 min of recording a day.
- ``demo``: small enough for ``alignnet demo`` on 2 CPU cores (6 days x 150 trials).
- ``tiny``: for tests (3 days x 24 trials, 16 channels, no voltage).
- ``reach`` / ``reach-tiny``: a different regime, one day of centre-out hand reaching with
  sorted units and hand velocity as behaviour (`alignnet.data.synthetic.reach_config.ReachConfig`).
- ``nwb-turnover``: a 96-electrode Utah array recorded on calendar days 0, 1, 2, 3, 7, 14
  and 30, ~100-110 sorted units a day, strong unit turnover (about a third of the units
  replaced between day 0 and day 30) and a few electrodes dying on later days; meant to be
  written as DANDI-style NWB files (``alignnet data synth --format nwb``).
- ``nwb-gain``: the same array and calendar with slow gain / baseline drift, little turnover
  and no dead electrodes.
- ``nwb-tiny``: for tests (16 electrodes, ~20 units, calendar days 0, 1, 5, 12, 40 trials).

``recording_days`` puts the recordings on a calendar with gaps: the generator's day index is
the calendar day, drift accumulates per calendar day, and only the listed days are recorded
(``n_days`` is then the number of recordings).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from alignnet.data.synthetic.reach_config import REACH_PRESETS, ReachConfig, make_reach_config
from alignnet.errors import DataError


@dataclass(frozen=True)
class DriftConfig:
    """Day-to-day and within-day non-stationarity; each part has its own knob (0 = off).

    Random walks are cumulative: day ``d`` carries the sum of ``d`` daily steps, so later
    days drift further from day 0.

    Attributes:
        unit_turnover: per-day probability that a recorded unit disappears; empty unit slots
            gain a new unit at the rate that keeps the expected unit count constant.
        gain_walk_sd: SD of the daily step of each unit's log tuning gain.
        baseline_walk_sd: SD of the daily step of each unit's log baseline rate.
        rotation_sd_deg: SD of the daily step of each unit's preferred direction, degrees.
        dead_channel_prob: per-day probability that a live channel dies (silent from then on,
            including day 0).
        noisy_channel_prob: per-day probability that a channel is noisy that day.
        noisy_rate_hz: rate of the extra, behaviour-unrelated Poisson spikes on a noisy
            channel, Hz.
        within_day_sd: SD of each unit's slow linear log-rate drift over one day (total change
            from the start to the end of the day, in log units).
        amplitude_walk_sd: SD of the daily step of each unit's log spike amplitude (voltage).
    """

    unit_turnover: float = 0.08
    gain_walk_sd: float = 0.12
    baseline_walk_sd: float = 0.2
    rotation_sd_deg: float = 15.0
    dead_channel_prob: float = 0.005
    noisy_channel_prob: float = 0.03
    noisy_rate_hz: float = 40.0
    within_day_sd: float = 0.2
    amplitude_walk_sd: float = 0.05


@dataclass(frozen=True)
class BehaviorConfig:
    """Centre-out joystick reaches (8 targets on a circle).

    Times are in s, positions in joystick units (a.u., the stick's range is [-1, 1]).
    Ranges ``(lo, hi)`` are drawn uniformly per trial unless stated otherwise.
    """

    n_targets: int = 8
    target_radius: float = 0.8
    target_on_delay_s: tuple[float, float] = (0.1, 0.3)
    go_delay_s: tuple[float, float] = (0.2, 0.5)
    reaction_time_median_s: float = 0.26
    reaction_time_log_sd: float = 0.25
    reaction_time_range_s: tuple[float, float] = (0.15, 0.5)
    reach_duration_s: tuple[float, float] = (0.3, 0.55)
    curvature: float = 0.12
    hold_s: tuple[float, float] = (0.2, 0.45)
    return_duration_s: tuple[float, float] = (0.35, 0.55)
    trial_duration_s: tuple[float, float] = (2.0, 3.0)
    inter_trial_s: tuple[float, float] = (0.2, 0.8)
    lead_s: float = 1.0
    failure_rate: float = 0.05
    noise_sd: float = 0.004
    adc_bits: int = 16


@dataclass(frozen=True)
class NeuronConfig:
    """Units, their tuning to the shared latent, and spiking.

    Attributes:
        max_units_per_channel: unit slots per channel (each channel carries 0..this many).
        unit_probability: chance a slot holds a unit (mean units per channel = product).
        baseline_median_hz: median baseline rate; baselines are log-normal, clipped to
            ``baseline_range_hz``.
        baseline_log_sd: SD of log baseline rate.
        baseline_range_hz: clip range of baseline rates (near-silent to high).
        velocity_depth: range of the cosine tuning depth to velocity (log-rate units per
            reference speed).
        position_depth, speed_depth, prep_depth, noise_depth: ranges of the other readouts.
        reference_speed: speed (a.u./s) that normalises velocity in the latent.
        prep_decay_s: time constant of the preparatory signal's decay after movement onset.
        shared_noise_tau_s: time constant of the shared, behaviour-unrelated latent factor.
        max_rate_hz: firing rates are capped here.
        refractory_s: absolute refractory period.
        rate_dt_s: resolution of the rate grid the spikes are drawn on.
        amplitude_uv: range of spike amplitudes on day 0, microvolts (for voltage).
    """

    max_units_per_channel: int = 3
    unit_probability: float = 0.6
    baseline_median_hz: float = 6.0
    baseline_log_sd: float = 1.1
    baseline_range_hz: tuple[float, float] = (0.1, 60.0)
    velocity_depth: tuple[float, float] = (0.4, 1.1)
    position_depth: tuple[float, float] = (0.8, 1.5)
    speed_depth: tuple[float, float] = (-0.3, 0.6)
    prep_depth: tuple[float, float] = (0.2, 0.8)
    noise_depth: tuple[float, float] = (0.0, 0.2)
    reference_speed: float = 3.0
    prep_decay_s: float = 0.15
    shared_noise_tau_s: float = 0.5
    max_rate_hz: float = 250.0
    refractory_s: float = 0.0015
    rate_dt_s: float = 0.005
    amplitude_uv: tuple[float, float] = (40.0, 160.0)


@dataclass(frozen=True)
class VoltageConfig:
    """Which raw 30 kHz voltage to synthesise (it is large: keep the subset small).

    Attributes:
        enabled: False makes no voltage at all.
        days: days that get voltage.
        n_trials: the first ``n_trials`` trials of those days (from the recording start to
            the stop of the last of them).
        channels: channel indices that get voltage (those >= ``n_channels`` are ignored).
        noise_uv, lfp_uv: background noise and LFP amplitude, microvolts.
    """

    enabled: bool = True
    days: tuple[int, ...] = (0,)
    n_trials: int = 3
    channels: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7)
    noise_uv: float = 10.0
    lfp_uv: float = 30.0


@dataclass(frozen=True)
class SyntheticConfig:
    """Everything the generator needs besides the seed.

    Attributes:
        n_days: number of recording days.
        trials_per_day: trials in each day.
        n_channels: electrode channels ``C``.
        behavior_rate_hz: joystick sampling rate, Hz.
        spike_sampling_rate_hz: acquisition clock; spike times are multiples of its period.
        subject: subject name written into every session.
        start_date: ISO date of day 0 (day ``d`` is ``d`` calendar days later).
        latent_rate_hz: rate of the ground-truth latent stored with each session.
        recording_days: calendar days that are recorded, strictly increasing, >= 0
            (``None``: days ``0..n_days - 1``). When given, ``n_days`` must equal its length;
            day indices everywhere (``days=`` arguments, ``SessionMeta.day``) are these
            calendar days, and drift takes one step per calendar day in between.
    """

    n_days: int = 6
    trials_per_day: int = 150
    n_channels: int = 64
    behavior_rate_hz: float = 1000.0
    spike_sampling_rate_hz: float = 30000.0
    subject: str = "synthetic-monkey"
    start_date: str = "2025-04-01"
    latent_rate_hz: float = 50.0
    recording_days: tuple[int, ...] | None = None
    behavior: BehaviorConfig = field(default_factory=BehaviorConfig)
    neurons: NeuronConfig = field(default_factory=NeuronConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)
    voltage: VoltageConfig = field(default_factory=VoltageConfig)

    def __post_init__(self) -> None:
        rec = self.recording_days
        if rec is not None:
            rec = tuple(int(d) for d in rec)
            object.__setattr__(self, "recording_days", rec)
        checks = [
            (self.n_days >= 1, "n_days", "must be >= 1"),
            (self.trials_per_day >= 1, "trials_per_day", "must be >= 1"),
            (self.n_channels >= 1, "n_channels", "must be >= 1"),
            (self.behavior_rate_hz > 0, "behavior_rate_hz", "must be > 0"),
            (self.spike_sampling_rate_hz > 0, "spike_sampling_rate_hz", "must be > 0"),
            (
                self.behavior.trial_duration_s[0] >= 2.0,
                "behavior.trial_duration_s",
                "trials must last at least 2.0 s (one model window)",
            ),
            (
                rec is None
                or (
                    len(rec) == self.n_days
                    and rec[0] >= 0
                    and all(rec[i + 1] > rec[i] for i in range(len(rec) - 1))
                ),
                "recording_days",
                f"must be n_days = {self.n_days} strictly increasing calendar days >= 0",
            ),
        ]
        for ok, name, problem in checks:
            if not ok:
                raise DataError(problem, field=name, source="SyntheticConfig")

    @property
    def day_indices(self) -> list[int]:
        """Recorded day indices: ``recording_days`` (calendar days) or ``0..n_days - 1``."""
        if self.recording_days is not None:
            return list(self.recording_days)
        return list(range(self.n_days))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyntheticConfig:
        """Inverse of `to_dict` (unknown keys raise `DataError`)."""
        return _build(cls, data, "SyntheticConfig")


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    """Construct dataclass ``cls`` from a (possibly nested) dict, restoring tuples."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise DataError(f"unknown settings {sorted(unknown)}", source=where)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        default = getattr(cls(), name) if name not in _NESTED else None
        if name in _NESTED and isinstance(value, dict):
            kwargs[name] = _build(_NESTED[name], value, f"{where}.{name}")
        elif isinstance(value, list) and isinstance(default, tuple):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


_NESTED: dict[str, type] = {
    "behavior": BehaviorConfig,
    "neurons": NeuronConfig,
    "drift": DriftConfig,
    "voltage": VoltageConfig,
}

PRESETS: dict[str, SyntheticConfig] = {
    "paper": SyntheticConfig(
        n_days=22,
        trials_per_day=1458,  # 32,083 trials / 22 days in the paper
        n_channels=64,
        voltage=VoltageConfig(days=(0,), n_trials=5, channels=tuple(range(8))),
    ),
    "demo": SyntheticConfig(n_days=6, trials_per_day=150, n_channels=64),
    "tiny": SyntheticConfig(
        n_days=3,
        trials_per_day=24,
        n_channels=16,
        voltage=VoltageConfig(enabled=False, n_trials=1, channels=(0, 1)),
    ),
    # Multi-day Utah-array regimes written as DANDI-style NWB files (sorted units linked to
    # electrodes). Drift rates are per calendar day; noise spikes are off (a spike sorter
    # would not keep them as units).
    "nwb-turnover": SyntheticConfig(
        n_days=7,
        recording_days=(0, 1, 2, 3, 7, 14, 30),
        trials_per_day=150,
        n_channels=96,
        subject="synthetic-utah-monkey",
        neurons=NeuronConfig(unit_probability=0.38),  # 96 x 3 x 0.38 = ~109 units a day
        drift=DriftConfig(
            unit_turnover=0.0135,  # 1 - (1 - 0.0135)^30 = 1/3 replaced by day 30
            gain_walk_sd=0.03,
            baseline_walk_sd=0.04,
            rotation_sd_deg=2.0,
            dead_channel_prob=0.001,  # ~3 of 96 electrodes dead by day 30
            noisy_channel_prob=0.0,
            within_day_sd=0.1,
        ),
        voltage=VoltageConfig(enabled=False),
    ),
    "nwb-gain": SyntheticConfig(
        n_days=7,
        recording_days=(0, 1, 2, 3, 7, 14, 30),
        trials_per_day=150,
        n_channels=96,
        subject="synthetic-utah-monkey",
        neurons=NeuronConfig(unit_probability=0.38),
        drift=DriftConfig(
            unit_turnover=0.002,  # ~6 % replaced by day 30
            gain_walk_sd=0.06,  # SD 0.33 of log gain by day 30
            baseline_walk_sd=0.06,
            rotation_sd_deg=1.0,
            dead_channel_prob=0.0,
            noisy_channel_prob=0.0,
            within_day_sd=0.1,
        ),
        voltage=VoltageConfig(enabled=False),
    ),
    "nwb-tiny": SyntheticConfig(
        n_days=4,
        recording_days=(0, 1, 5, 12),
        trials_per_day=40,
        n_channels=16,
        subject="synthetic-utah-monkey",
        neurons=NeuronConfig(unit_probability=0.42),  # 16 x 3 x 0.42 = ~20 units a day
        drift=DriftConfig(
            unit_turnover=0.03,
            gain_walk_sd=0.05,
            baseline_walk_sd=0.05,
            rotation_sd_deg=2.0,
            dead_channel_prob=0.01,
            noisy_channel_prob=0.0,
            within_day_sd=0.1,
        ),
        voltage=VoltageConfig(enabled=False),
    ),
}


def make_config(preset: str = "demo", **overrides: Any) -> SyntheticConfig | ReachConfig:
    """A preset with some settings replaced.

    Nested settings take a dataclass or a dict of the fields to change, e.g.
    ``make_config("tiny", n_days=2, drift={"unit_turnover": 0.0})``. The reaching regime's
    presets (``"reach"``, ``"reach-tiny"``, see `alignnet.data.synthetic.reach`) return a
    `ReachConfig` instead; `generate_sessions` accepts both.

    Raises:
        DataError: unknown preset or setting.
    """
    if preset in REACH_PRESETS:
        return make_reach_config(preset, **overrides)
    if preset not in PRESETS:
        raise DataError(
            f"unknown preset {preset!r} (choose from {sorted(PRESETS) + sorted(REACH_PRESETS)})",
            field="preset",
            source="make_config",
        )
    base = PRESETS[preset]
    known = {f.name for f in dataclasses.fields(SyntheticConfig)}
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in known:
            raise DataError(f"unknown setting {name!r}", field=name, source="make_config")
        if name in _NESTED and isinstance(value, dict):
            nested_known = {f.name for f in dataclasses.fields(_NESTED[name])}
            bad = set(value) - nested_known
            if bad:
                raise DataError(f"unknown settings {sorted(bad)}", field=name, source="make_config")
            value = dataclasses.replace(getattr(base, name), **value)
        changes[name] = value
    return dataclasses.replace(base, **changes)
