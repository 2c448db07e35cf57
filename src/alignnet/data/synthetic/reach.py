"""A second synthetic regime: one (or a few) days of centre-out *hand* reaching with sorted units.

This generator is deliberately unlike the project's own multi-day joystick generator
(`alignnet.data.synthetic.generate`), on which AlignNet's defaults were tuned. It follows the
description of an independent recording (issue 14): a monkey moves a manipulandum between a
centre target and one of 8 targets on an 8 cm circle; ~100 sorted units; behaviour is the hand
*velocity* sampled at 1 kHz, or (``behavior=``) the hand position or EMG-like envelopes
(`alignnet.data.synthetic.reach_behavior`; presets ``reach-position``, ``reach-emg``).

Trial (times relative to the trial start): centre hold -> target on (instructed delay) -> go
cue -> reaction time -> minimum-jerk reach of 0.3-0.6 s -> target hold -> return to the centre.
A fixed fraction of trials fails (half abort during the delay and never move, half reach to a
neighbouring target). The hand rests at the centre between trials.

Units (one unit per channel, like a sorted-unit file): baseline rates log-uniform in 2-40 Hz;
rate ``= gain_trial * [b + m_v (v . u_pd)/v_ref + m_s |v|/v_ref + m_p (p . u_pp)/R
+ m_prep prep(t) cos(target - pd)]_+``, where velocity ``v`` and position ``p`` are read
``lead`` s in the future (the neural lead, 30-100 ms per unit), so the cosine tuning depth to
velocity grows with speed; position, speed and preparatory tuning are weaker. Each unit has a
per-trial multiplicative gain (log-normal, plus a gain shared by all units), and spikes are an
inhomogeneous Poisson process with an absolute refractory period on a 30 kHz clock.

Randomness: units from ``SeedSequence((seed, 41))``, day ``d`` from
``SeedSequence((seed, 42, d))``; a day is the same whichever other days are generated.

Example:
    >>> from alignnet.data.synthetic import make_config, generate_sessions
    >>> sessions = generate_sessions(make_config("reach-tiny"), seed=0)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from alignnet.data.session import Session, SessionMeta
from alignnet.data.synthetic.behavior import TrialTimes, day_date
from alignnet.data.synthetic.reach_behavior import recorded_behavior
from alignnet.data.synthetic.reach_config import ReachConfig
from alignnet.errors import DataError

_UNIT_TAG = 41
_DAY_TAG = 42
_MIN_RATE_HZ = 0.05


# ---------------------------------------------------------------------- trials
@dataclass
class ReachPlan(TrialTimes):
    """One day's trials (``[n]`` arrays, times in s on the recording clock)."""

    aborted: np.ndarray
    endpoint: np.ndarray  # [n, 2] cm
    t_stop: float


def plan_reaches(cfg: ReachConfig, rng: np.random.Generator) -> ReachPlan:
    """Draw one day's trial timing, targets, outcomes and endpoints."""
    n = cfg.trials_per_day

    def uniform(bounds: tuple[float, float]) -> np.ndarray:
        return rng.uniform(bounds[0], bounds[1], n)

    target = rng.integers(0, cfg.n_targets, n)
    target_on = uniform(cfg.centre_hold_s)
    delay = uniform(cfg.delay_s)
    go = target_on + delay
    onset = go + uniform(cfg.reaction_time_s)
    reach_end = onset + uniform(cfg.reach_duration_s)
    hold_end = reach_end + uniform(cfg.target_hold_s)
    return_end = hold_end + uniform(cfg.return_duration_s)
    duration = return_end + 0.05

    failed = np.zeros(n, dtype=bool)
    failed[rng.choice(n, size=int(round(cfg.failure_rate * n)), replace=False)] = True
    aborted = failed & (rng.random(n) < 0.5)
    # An aborted trial ends during the delay: no go cue, no movement.
    abort_at = target_on + rng.uniform(0.2, 0.9, n) * delay
    duration = np.where(aborted, abort_at + 0.1, duration)
    wrong = failed & ~aborted
    shift = np.where(rng.random(n) < 0.5, -1, 1)
    reached = np.where(wrong, (target + shift) % cfg.n_targets, target)
    angle = 2.0 * np.pi * reached / cfg.n_targets
    endpoint = cfg.target_distance_cm * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    endpoint += rng.normal(0.0, cfg.endpoint_sd_cm, endpoint.shape)

    gaps = uniform(cfg.inter_trial_s)
    start = cfg.lead_in_s + np.concatenate([[0.0], np.cumsum(duration[:-1] + gaps[:-1])])
    nan = np.full(n, np.nan)

    def at(rel: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return np.where(keep, start + rel, nan)

    moved = ~aborted
    return ReachPlan(
        start=start,
        stop=start + duration,
        target=target.astype(np.int64),
        success=~failed,
        aborted=aborted,
        target_on=start + target_on,
        go_cue=at(go, moved),
        move_onset=at(onset, moved),
        reach_end=at(reach_end, moved),
        hold_end=at(hold_end, moved),
        return_end=at(return_end, moved),
        endpoint=endpoint,
        t_stop=float(start[-1] + duration[-1] + cfg.lead_in_s),
    )


def _min_jerk(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tau = np.clip(tau, 0.0, 1.0)
    return tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2), 30.0 * tau**2 * (1.0 - tau) ** 2


def hand_kinematics(times: np.ndarray, plan: ReachPlan) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free hand position ``[n, 2]`` (cm, centre = 0) and velocity ``[n, 2]`` (cm/s)."""
    pos = np.zeros((times.size, 2))
    vel = np.zeros((times.size, 2))
    for k in np.flatnonzero(~plan.aborted):
        end = plan.endpoint[k]
        onset, arrive = plan.move_onset[k], plan.reach_end[k]
        leave, back = plan.hold_end[k], plan.return_end[k]
        lo, hi = np.searchsorted(times, [onset, back])
        t = times[lo:hi]
        out = np.where(t < arrive, (t - onset) / (arrive - onset), 1.0)
        ret = np.clip((t - leave) / (back - leave), 0.0, 1.0)
        s_out, ds_out = _min_jerk(out)
        s_ret, ds_ret = _min_jerk(ret)
        frac = s_out - s_ret
        speed = np.where(t < arrive, ds_out / (arrive - onset), 0.0) - np.where(
            t >= leave, ds_ret / (back - leave), 0.0
        )
        pos[lo:hi] = frac[:, None] * end
        vel[lo:hi] = speed[:, None] * end
    return pos, vel


def _smooth_noise(n: int, *, sd: float, tau_steps: float, rng: np.random.Generator) -> np.ndarray:
    """``[n, 2]`` AR(1) noise with stationary SD ``sd`` and time constant ``tau_steps``."""
    a = np.exp(-1.0 / tau_steps)
    e = rng.normal(0.0, sd * np.sqrt(1 - a * a), (n, 2))
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -a], e, axis=0)


# ---------------------------------------------------------------------- units
@dataclass
class ReachUnits:
    """Per-unit tuning (all ``[U]``; angles in rad)."""

    baseline_hz: np.ndarray
    pd: np.ndarray
    velocity_depth_hz: np.ndarray
    speed_depth_hz: np.ndarray
    position_pd: np.ndarray
    position_depth_hz: np.ndarray
    prep_pd: np.ndarray
    prep_depth_hz: np.ndarray
    lead_s: np.ndarray


def draw_units(cfg: ReachConfig, rng: np.random.Generator) -> ReachUnits:
    """Tuning of ``cfg.n_units`` units (see the module docstring)."""
    u = cfg.n_units
    lo, hi = np.log(cfg.baseline_range_hz[0]), np.log(cfg.baseline_range_hz[1])
    base = np.exp(rng.uniform(lo, hi, u))

    def uniform(bounds: tuple[float, float]) -> np.ndarray:
        return rng.uniform(bounds[0], bounds[1], u)

    pd = rng.uniform(-np.pi, np.pi, u)
    m_v = base * uniform(cfg.velocity_depth) + uniform(cfg.velocity_depth_hz)
    return ReachUnits(
        baseline_hz=base,
        pd=pd,
        velocity_depth_hz=m_v,
        speed_depth_hz=m_v * uniform(cfg.speed_depth),
        position_pd=pd + rng.normal(0.0, 0.5, u),
        position_depth_hz=m_v * uniform(cfg.position_depth),
        prep_pd=pd + rng.normal(0.0, 0.5, u),
        prep_depth_hz=m_v * uniform(cfg.prep_depth),
        lead_s=uniform(cfg.lead_range_s),
    )


def _day_units(cfg: ReachConfig, units: ReachUnits, day: int, seed: int) -> ReachUnits:
    """Units on ``day``: day 0 as drawn; later days add cumulative baseline and PD steps."""
    if day == 0:
        return units
    rng = np.random.default_rng(np.random.SeedSequence([seed, _UNIT_TAG, 1]))
    steps_b = rng.normal(0.0, cfg.day_baseline_sd, (day, cfg.n_units)).sum(axis=0)
    steps_r = np.deg2rad(rng.normal(0.0, cfg.day_rotation_deg, (day, cfg.n_units)).sum(axis=0))
    scale = np.exp(steps_b)
    return dataclasses.replace(
        units,
        baseline_hz=units.baseline_hz * scale,
        pd=units.pd + steps_r,
        velocity_depth_hz=units.velocity_depth_hz * scale,
        speed_depth_hz=units.speed_depth_hz * scale,
        position_pd=units.position_pd + steps_r,
        position_depth_hz=units.position_depth_hz * scale,
        prep_pd=units.prep_pd + steps_r,
        prep_depth_hz=units.prep_depth_hz * scale,
    )


def _prep_envelope(times: np.ndarray, plan: ReachPlan, decay_s: float) -> np.ndarray:
    """``[n]``: 0 -> 1 ramp from target on to movement onset (or the abort), then decay."""
    trial = np.searchsorted(plan.start, times, side="right") - 1
    k = np.clip(trial, 0, None)
    t_on = plan.target_on[k]
    onset = np.where(plan.aborted[k], plan.stop[k], plan.move_onset[k])
    ramp = np.clip((times - t_on) / np.maximum(onset - t_on, 1e-3), 0.0, 1.0)
    decay = np.exp(-np.clip(times - onset, 0.0, None) / decay_s)
    env = np.where(times < onset, ramp, decay)
    env[(trial < 0) | (times < t_on)] = 0.0
    return env


# ---------------------------------------------------------------------- sessions
def _generate_day(cfg: ReachConfig, units: ReachUnits, day: int, seed: int) -> Session:
    # imported here: `neurons` imports the joystick regime's config, which imports this module
    from alignnet.data.synthetic.spiking import spike_samples_from_log_rate
    from alignnet.data.synthetic.truth import expected_counts, to_truth_grid, truth_entries

    plan_rng, hand_rng, gain_rng, spike_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence([seed, _DAY_TAG, day]).spawn(4)
    )
    plan = plan_reaches(cfg, plan_rng)
    dt = cfg.rate_dt_s
    n = int(np.floor(plan.t_stop / dt))
    times = np.arange(n) * dt
    pos, vel = hand_kinematics(times, plan)
    vel = vel + _smooth_noise(n, sd=cfg.hand_noise_cm_s, tau_steps=0.05 / dt, rng=hand_rng)

    day_units = _day_units(cfg, units, day, seed)
    trial = np.clip(np.searchsorted(plan.start, times, side="right") - 1, 0, None)
    shared = np.exp(gain_rng.normal(0.0, cfg.shared_gain_sd, plan.start.size))
    gains = shared[:, None] * np.exp(
        gain_rng.normal(0.0, cfg.trial_gain_sd, (plan.start.size, cfg.n_units))
    )
    prep = _prep_envelope(times, plan, cfg.prep_decay_s)
    target_angle = 2.0 * np.pi * plan.target / cfg.n_targets
    fs = cfg.spike_sampling_rate_hz
    spikes: list[np.ndarray] = []
    truth, truth_b = [], []  # per unit: expected counts per truth bin (latent, behaviour)
    mean_gain = np.exp(0.5 * (cfg.trial_gain_sd**2 + cfg.shared_gain_sd**2))  # E[gain]
    for i in range(cfg.n_units):
        shifted = times + day_units.lead_s[i]  # the unit fires `lead` s before the hand moves
        v = np.stack([np.interp(shifted, times, vel[:, j]) for j in range(2)], axis=1)
        p = np.stack([np.interp(shifted, times, pos[:, j]) for j in range(2)], axis=1)
        c, s = np.cos(day_units.pd[i]), np.sin(day_units.pd[i])
        cp, sp = np.cos(day_units.position_pd[i]), np.sin(day_units.position_pd[i])
        speed = np.hypot(v[:, 0], v[:, 1])
        rate = (
            day_units.baseline_hz[i]
            + day_units.velocity_depth_hz[i]
            * (v[:, 0] * c + v[:, 1] * s)
            / cfg.reference_speed_cm_s
            + day_units.speed_depth_hz[i] * speed / cfg.reference_speed_cm_s
            + day_units.position_depth_hz[i]
            * (p[:, 0] * cp + p[:, 1] * sp)
            / cfg.target_distance_cm
            + day_units.prep_depth_hz[i] * prep * np.cos(target_angle[trial] - day_units.prep_pd[i])
        )
        rate_b = np.maximum(rate * mean_gain, _MIN_RATE_HZ)  # averaged over the trial gains
        rate = np.maximum(rate * gains[trial, i], _MIN_RATE_HZ)
        expected = expected_counts(rate_b, dt=dt, refractory_s=cfg.refractory_s)
        truth_b.append(to_truth_grid(expected, dt=dt).astype(np.float32))
        expected = expected_counts(rate, dt=dt, refractory_s=cfg.refractory_s)
        truth.append(to_truth_grid(expected, dt=dt).astype(np.float32))
        samples = spike_samples_from_log_rate(
            np.log(rate), dt=dt, sampling_rate_hz=fs, refractory_s=cfg.refractory_s, rng=spike_rng
        )
        spikes.append(samples / fs)

    behavior, names, unit = recorded_behavior(
        cfg.behavior,
        position=pos,
        velocity=vel,
        dt=dt,
        reference_speed_cm_s=cfg.reference_speed_cm_s,
        target_distance_cm=cfg.target_distance_cm,
    )
    trials = plan.trials()
    meta = SessionMeta(
        subject=cfg.subject,
        session_id=f"synthetic-reach-day{day:02d}",
        day=day,
        date=day_date(cfg.start_date, day),
        channel_ids=[f"unit{i:03d}" for i in range(cfg.n_units)],
        behavior_names=names,
        behavior_unit=unit,
        spike_sampling_rate_hz=fs,
        source=f"alignnet synthetic reach generator (seed {seed}, day {day})",
        extra={"generator": "alignnet.data.synthetic.reach", "seed": int(seed), "day": day},
    )
    session = Session(
        t_start=0.0,
        t_stop=float(n * dt),
        behavior=behavior,
        behavior_times=times,
        trials=trials,
        meta=meta,
        spike_times=spikes,
        ground_truth={
            "unit_baseline_hz": day_units.baseline_hz.copy(),
            "unit_pd_rad": np.mod(day_units.pd + np.pi, 2 * np.pi) - np.pi,
            "unit_velocity_depth_hz": day_units.velocity_depth_hz.copy(),
            "unit_speed_depth_hz": day_units.speed_depth_hz.copy(),
            "unit_position_depth_hz": day_units.position_depth_hz.copy(),
            "unit_prep_depth_hz": day_units.prep_depth_hz.copy(),
            "unit_lead_s": day_units.lead_s.copy(),
            "trial_gain": gains.astype(np.float32),
            "trial_aborted": plan.aborted.copy(),
            "trial_endpoint_cm": plan.endpoint.copy(),
            **truth_entries(np.stack(truth_b, axis=1), np.stack(truth, axis=1)),
        },
    )
    return session.validate()


def iter_reach_sessions(
    cfg: ReachConfig, *, seed: int, days: Iterable[int] | None = None
) -> Iterator[Session]:
    """Yield the sessions of ``days`` (default: all ``cfg.n_days``), one at a time."""
    chosen = list(range(cfg.n_days)) if days is None else sorted({int(d) for d in days})
    bad = [d for d in chosen if not 0 <= d < cfg.n_days]
    if bad or not chosen:
        raise DataError(
            f"days {bad or '[]'} not in 0..{cfg.n_days - 1}", field="days", source="reach"
        )
    units = draw_units(cfg, np.random.default_rng(np.random.SeedSequence([seed, _UNIT_TAG])))
    for day in chosen:
        yield _generate_day(cfg, units, day, seed)
