"""Centre-out joystick reaches: the trial plan of one day and the kinematics it implies.

A trial (times relative to its start): the target appears (``target_on``), a go cue follows
(``go_cue``), after a reaction time the stick moves (``move_onset``) along a slightly curved
minimum-jerk path to the target (``reach_end``), holds, and returns to the centre. Failed
trials either reach to a neighbouring target or stop short of it. Between trials the
stick rests at the centre. Positions are joystick units (a.u.) in [-1, 1]; times are s.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from alignnet.data.session import Trials
from alignnet.data.synthetic.config import BehaviorConfig


@dataclass
class TrialTimes:
    """The trial table both generators (joystick and reach) plan: ``[n_trials]`` arrays,
    times in s on the recording clock."""

    start: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    success: np.ndarray
    target_on: np.ndarray
    go_cue: np.ndarray
    move_onset: np.ndarray
    reach_end: np.ndarray
    hold_end: np.ndarray
    return_end: np.ndarray

    def trials(self) -> Trials:
        """The session's `Trials` (start, stop, target, success and the four task events)."""
        return Trials(
            start=self.start,
            stop=self.stop,
            target=self.target,
            success=self.success,
            events={
                "target_on": self.target_on,
                "go_cue": self.go_cue,
                "move_onset": self.move_onset,
                "reach_end": self.reach_end,
            },
        )


def day_date(start_date: str, day: int) -> str:
    """ISO date of calendar ``day`` counted from ``start_date`` (ISO), e.g. day 2 of
    2024-01-30 -> ``"2024-02-01"``."""
    return (_dt.date.fromisoformat(start_date) + _dt.timedelta(days=day)).isoformat()


@dataclass
class TrialPlan(TrialTimes):
    """Everything about one day's trials that the kinematics and the neurons need.

    All per-trial arrays are ``[n_trials]`` (times in s on the recording clock) except
    ``endpoint`` ``[n_trials, 2]`` (where the reach actually went, a.u.).
    """

    endpoint: np.ndarray
    curvature: np.ndarray
    t_stop: float

    @property
    def n_trials(self) -> int:
        return int(self.start.shape[0])


def plan_trials(n_trials: int, cfg: BehaviorConfig, rng: np.random.Generator) -> TrialPlan:
    """Draw one day's trial timing, targets, outcomes and reach endpoints.

    The recording starts at 0 s; the first trial starts ``cfg.lead_s`` later and the
    recording ends ``cfg.lead_s`` after the last trial stops (``TrialPlan.t_stop``).
    """

    def uniform(bounds: tuple[float, float]) -> np.ndarray:
        return rng.uniform(bounds[0], bounds[1], n_trials)

    target = rng.integers(0, cfg.n_targets, n_trials)
    target_on_rel = uniform(cfg.target_on_delay_s)
    go_rel = target_on_rel + uniform(cfg.go_delay_s)
    rt = np.exp(rng.normal(np.log(cfg.reaction_time_median_s), cfg.reaction_time_log_sd, n_trials))
    rt = np.clip(rt, *cfg.reaction_time_range_s)
    onset_rel = go_rel + rt
    reach_rel = onset_rel + uniform(cfg.reach_duration_s)
    hold_rel = reach_rel + uniform(cfg.hold_s)
    return_rel = hold_rel + uniform(cfg.return_duration_s)
    duration = np.maximum(uniform(cfg.trial_duration_s), return_rel + 0.05)
    gaps = uniform(cfg.inter_trial_s)

    # Trial k starts after all earlier trials and their inter-trial gaps.
    start = cfg.lead_s + np.concatenate([[0.0], np.cumsum(duration[:-1] + gaps[:-1])])
    stop = start + duration

    # Outcomes: a failure is a reach to a neighbouring target or one that stops short.
    failed = rng.random(n_trials) < cfg.failure_rate
    wrong_place = failed & (rng.random(n_trials) < 0.5)
    shift = np.where(rng.random(n_trials) < 0.5, -1, 1)
    reached_target = np.where(wrong_place, (target + shift) % cfg.n_targets, target)
    amplitude = np.where(failed & ~wrong_place, rng.uniform(0.3, 0.6, n_trials), 1.0)
    amplitude = amplitude * cfg.target_radius * rng.uniform(0.95, 1.05, n_trials)
    angle = 2.0 * np.pi * reached_target / cfg.n_targets + rng.normal(0.0, 0.05, n_trials)
    endpoint = amplitude[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    curvature = cfg.curvature * rng.standard_normal(n_trials)

    return TrialPlan(
        start=start,
        stop=stop,
        target=target.astype(np.int64),
        success=~failed,
        target_on=start + target_on_rel,
        go_cue=start + go_rel,
        move_onset=start + onset_rel,
        reach_end=start + reach_rel,
        hold_end=start + hold_rel,
        return_end=start + return_rel,
        endpoint=endpoint,
        curvature=curvature,
        t_stop=float(stop[-1] + cfg.lead_s),
    )


def _min_jerk(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-jerk profile ``s(tau)`` and ``ds/dtau`` for ``tau`` in [0, 1]."""
    tau = np.clip(tau, 0.0, 1.0)
    s = tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2)
    ds = 30.0 * tau**2 * (1.0 - tau) ** 2
    return s, ds


def kinematics(times: np.ndarray, plan: TrialPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise-free stick position and velocity, and the trial each time falls in.

    Args:
        times: ``[n]`` sorted times, s.
        plan: the day's trials.

    Returns:
        ``(position [n, 2] a.u., velocity [n, 2] a.u./s, trial [n] int64)``; ``trial`` is
        the index of the last trial started at or before each time (``-1`` before the first).
    """
    trial = np.searchsorted(plan.start, times, side="right") - 1
    k = np.clip(trial, 0, None)
    t = times
    onset, reach_end = plan.move_onset[k], plan.reach_end[k]
    hold_end, return_end = plan.hold_end[k], plan.return_end[k]
    end = plan.endpoint[k]
    perp = np.stack([-end[:, 1], end[:, 0]], axis=1)
    curv = plan.curvature[k][:, None]

    in_reach = (trial >= 0) & (t >= onset) & (t < reach_end)
    in_hold = (trial >= 0) & (t >= reach_end) & (t < hold_end)
    in_return = (trial >= 0) & (t >= hold_end) & (t < return_end)

    reach_len = reach_end - onset
    s, ds = _min_jerk((t - onset) / reach_len)
    s, ds_dt = s[:, None], (ds / reach_len)[:, None]
    reach_pos = s * end + curv * np.sin(np.pi * s) * perp
    reach_vel = ds_dt * (end + curv * np.pi * np.cos(np.pi * s) * perp)

    ret_len = return_end - hold_end
    s2, ds2 = _min_jerk((t - hold_end) / ret_len)
    return_pos = (1.0 - s2)[:, None] * end
    return_vel = -(ds2 / ret_len)[:, None] * end

    pos = np.zeros((t.shape[0], 2))
    vel = np.zeros((t.shape[0], 2))
    pos[in_reach], vel[in_reach] = reach_pos[in_reach], reach_vel[in_reach]
    pos[in_hold] = end[in_hold]
    pos[in_return], vel[in_return] = return_pos[in_return], return_vel[in_return]
    return pos, vel, trial


def preparatory_envelope(times: np.ndarray, plan: TrialPlan, *, decay_s: float) -> np.ndarray:
    """``[n]`` preparatory activity: ramps 0->1 from target onset to movement onset, then
    decays with time constant ``decay_s`` until the trial stops; 0 outside trials."""
    trial = np.searchsorted(plan.start, times, side="right") - 1
    k = np.clip(trial, 0, None)
    t_on, onset, stop = plan.target_on[k], plan.move_onset[k], plan.stop[k]
    ramp = np.clip((times - t_on) / (onset - t_on), 0.0, 1.0)
    decay = np.exp(-np.clip(times - onset, 0.0, None) / decay_s)
    env = np.where(times < onset, ramp, decay)
    env[(trial < 0) | (times < t_on) | (times >= stop)] = 0.0
    return env


def joystick_samples(
    plan: TrialPlan, cfg: BehaviorConfig, *, rate_hz: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The recorded joystick: position plus sensor noise, digitised by an ADC.

    Returns:
        ``(times [n] s, position [n, 2] a.u.)``; ``times = arange(n) / rate_hz`` covers
        ``0..plan.t_stop``. Values are multiples of ``2**-(adc_bits-1)`` in [-1, 1), so a
        16-bit ADC's samples are exact in float32 (the native file stores them losslessly).
    """
    n = int(np.floor(plan.t_stop * rate_hz)) + 1
    times = np.arange(n) / rate_hz
    pos, _, _ = kinematics(times, plan)
    pos += rng.normal(0.0, cfg.noise_sd, pos.shape)
    full_scale = 2.0 ** (cfg.adc_bits - 1)
    codes = np.clip(np.round(pos * full_scale), -full_scale, full_scale - 1)
    return times, codes / full_scale
