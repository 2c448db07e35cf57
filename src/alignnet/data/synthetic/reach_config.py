"""Settings of the synthetic centre-out reaching generator (`alignnet.data.synthetic.reach`):
`ReachConfig`, its presets and `make_reach_config`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from alignnet.data.synthetic.reach_behavior import REACH_BEHAVIORS
from alignnet.errors import DataError


@dataclass(frozen=True)
class ReachConfig:
    """Every knob of the reaching generator (times in s, distances in cm, rates in Hz).

    Ranges ``(lo, hi)`` are drawn uniformly per trial (timing) or per unit (tuning).

    Attributes:
        n_days: recording days (1 by default; later days drift, see ``day_*``).
        trials_per_day: trials per day.
        n_units: sorted units (= channels).
        n_targets, target_distance_cm: targets on a circle around the centre.
        endpoint_sd_cm: scatter of the reach endpoint around the target.
        centre_hold_s, delay_s, reaction_time_s, reach_duration_s, target_hold_s,
            return_duration_s, inter_trial_s: phase durations.
        failure_rate: fraction of failed trials (exactly ``round(rate * trials)`` per day);
            half abort during the delay (no movement), half reach a neighbouring target.
        hand_noise_cm_s: SD of the slow hand jitter added to the velocity.
        baseline_range_hz: baselines are log-uniform in this range.
        velocity_depth: modulation ``m_v`` at ``reference_speed_cm_s`` along the preferred
            direction, as a multiple of the baseline; ``velocity_depth_hz`` is added to it.
        speed_depth: non-directional speed modulation (multiple of ``m_v``).
        position_depth: modulation at the target distance along the preferred position
            direction (multiple of ``m_v``).
        prep_depth: preparatory modulation (target on -> movement, cosine of the target;
            multiple of ``m_v``).
        prep_decay_s: decay of the preparatory signal after movement onset.
        reference_speed_cm_s: speed that normalises the velocity tuning.
        lead_range_s: neural lead over the movement (per unit).
        trial_gain_sd, shared_gain_sd: log-SD of the per-unit per-trial gain and of the gain
            shared by all units in a trial.
        refractory_s: absolute refractory period.
        rate_dt_s: grid of the rates (and of the 1 kHz behaviour).
        spike_sampling_rate_hz: acquisition clock of the spike times.
        lead_in_s: recording time before the first trial and after the last.
        day_baseline_sd, day_rotation_deg: day-to-day drift (log baseline step, preferred
            direction step); unused with one day.
        subject, start_date: metadata.
        behavior: what the session records as behaviour (`REACH_BEHAVIORS`): hand
            ``"velocity"`` (cm/s), hand ``"position"`` (cm) or ``"emg"`` (four EMG-like
            envelopes); the spikes do not depend on it.
    """

    n_days: int = 1
    trials_per_day: int = 300
    n_units: int = 100
    n_targets: int = 8
    target_distance_cm: float = 8.0
    endpoint_sd_cm: float = 0.3
    centre_hold_s: tuple[float, float] = (0.3, 0.6)
    delay_s: tuple[float, float] = (0.5, 1.0)
    reaction_time_s: tuple[float, float] = (0.18, 0.35)
    reach_duration_s: tuple[float, float] = (0.3, 0.6)
    target_hold_s: tuple[float, float] = (0.3, 0.5)
    return_duration_s: tuple[float, float] = (0.4, 0.7)
    inter_trial_s: tuple[float, float] = (0.2, 0.5)
    failure_rate: float = 0.06
    hand_noise_cm_s: float = 0.4
    baseline_range_hz: tuple[float, float] = (2.0, 40.0)
    velocity_depth: tuple[float, float] = (0.2, 0.8)
    velocity_depth_hz: tuple[float, float] = (1.0, 6.0)
    speed_depth: tuple[float, float] = (-0.2, 0.5)
    position_depth: tuple[float, float] = (0.2, 0.5)
    prep_depth: tuple[float, float] = (0.3, 0.6)
    prep_decay_s: float = 0.2
    reference_speed_cm_s: float = 20.0
    lead_range_s: tuple[float, float] = (0.03, 0.1)
    trial_gain_sd: float = 0.3
    shared_gain_sd: float = 0.1
    refractory_s: float = 0.002
    rate_dt_s: float = 0.001
    spike_sampling_rate_hz: float = 30000.0
    lead_in_s: float = 1.0
    day_baseline_sd: float = 0.15
    day_rotation_deg: float = 10.0
    subject: str = "synthetic-reach"
    start_date: str = "2025-06-02"
    behavior: str = "velocity"

    def __post_init__(self) -> None:
        checks = [
            (self.n_days >= 1, "n_days", "must be >= 1"),
            (self.trials_per_day >= 1, "trials_per_day", "must be >= 1"),
            (self.n_units >= 1, "n_units", "must be >= 1"),
            (0.0 <= self.failure_rate < 1.0, "failure_rate", "must be in [0, 1)"),
            (self.baseline_range_hz[0] > 0, "baseline_range_hz", "must be > 0"),
            (self.lead_range_s[0] >= 0, "lead_range_s", "must be >= 0"),
            (self.rate_dt_s > 0, "rate_dt_s", "must be > 0"),
            (self.behavior in REACH_BEHAVIORS, "behavior", f"must be one of {REACH_BEHAVIORS}"),
        ]
        for ok, name, problem in checks:
            if not ok:
                raise DataError(problem, field=name, source="ReachConfig")

    @property
    def behavior_rate_hz(self) -> float:
        """Sampling rate of the behaviour (hand velocity), Hz."""
        return 1.0 / self.rate_dt_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (tuples become lists), tagged with the regime."""
        return {"regime": "reach", **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReachConfig:
        """Inverse of `to_dict` (unknown keys raise `DataError`)."""
        data = {k: v for k, v in data.items() if k != "regime"}
        return make_reach_config(None, **data)


REACH_PRESETS: dict[str, ReachConfig] = {
    "reach": ReachConfig(),
    "reach-tiny": ReachConfig(trials_per_day=50, n_units=24),
    "reach-position": ReachConfig(behavior="position"),
    "reach-emg": ReachConfig(behavior="emg"),
    "reach-days": ReachConfig(n_days=3),
    "reach-position-days": ReachConfig(n_days=3, behavior="position"),
}


def make_reach_config(preset: str | None = "reach", **overrides: Any) -> ReachConfig:
    """A reaching preset (None: the defaults) with some settings replaced.

    Raises:
        DataError: unknown preset or setting.
    """
    if preset is not None and preset not in REACH_PRESETS:
        raise DataError(
            f"unknown preset {preset!r} (choose from {sorted(REACH_PRESETS)})",
            field="preset",
            source="make_config",
        )
    base = ReachConfig() if preset is None else REACH_PRESETS[preset]
    known = {f.name: f for f in dataclasses.fields(ReachConfig)}
    bad = set(overrides) - set(known)
    if bad:
        raise DataError(f"unknown settings {sorted(bad)}", source="make_config")
    fixed: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) and isinstance(getattr(base, k), tuple) else v
        for k, v in overrides.items()
    }
    return dataclasses.replace(base, **fixed)
