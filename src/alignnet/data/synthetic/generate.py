"""Assemble one `Session` per synthetic day: behaviour, spikes, drift, voltage, ground truth.

Randomness: day ``d`` draws from ``SeedSequence((seed, 3, d))`` (behaviour, spikes, noise
spikes and voltage each from their own child), and the population from `drift`'s own
streams, so any subset of days is identical to the same days of a full run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from alignnet.data.session import Session, SessionMeta, Voltage
from alignnet.data.synthetic.behavior import TrialPlan, day_date, joystick_samples, plan_trials
from alignnet.data.synthetic.config import SyntheticConfig
from alignnet.data.synthetic.drift import DayState, iter_day_states
from alignnet.data.synthetic.neurons import (
    LATENT_NAMES,
    latent_factors,
    shared_noise_factor,
    spike_samples_from_log_rate,
)
from alignnet.data.synthetic.reach import iter_reach_sessions
from alignnet.data.synthetic.reach_config import ReachConfig
from alignnet.data.synthetic.truth import expected_counts, to_truth_grid, truth_entries
from alignnet.errors import DataError

_DAY_TAG = 3
_UNIT_CHUNK = 16


def _check_days(config: SyntheticConfig, days: Iterable[int] | None) -> list[int]:
    recorded = config.day_indices  # calendar days when ``config.recording_days`` is set
    if days is None:
        return recorded
    chosen = sorted({int(d) for d in days})
    bad = [d for d in chosen if d not in set(recorded)]
    if bad or not chosen:
        where = (
            f"0..{config.n_days - 1}"
            if config.recording_days is None
            else f"the recording days {list(config.recording_days)}"
        )
        raise DataError(
            f"days {bad or '[]'} not in {where}",
            field="days",
            source="generate_sessions",
        )
    return chosen


def iter_sessions(
    config: SyntheticConfig | ReachConfig, *, seed: int, days: Iterable[int] | None = None
) -> Iterator[Session]:
    """Yield the sessions of ``days`` (default: all) one at a time, in day order.

    Memory holds one day at a time, so the ``paper`` preset streams to disk. A `ReachConfig`
    runs the reaching regime (`alignnet.data.synthetic.reach`).
    """
    if isinstance(config, ReachConfig):
        yield from iter_reach_sessions(config, seed=seed, days=days)
        return
    chosen = _check_days(config, days)
    wanted = set(chosen)
    for state in iter_day_states(config, seed=seed, last_day=chosen[-1]):
        if state.day in wanted:
            yield generate_day(config, state, seed=seed)


def generate_sessions(
    config: SyntheticConfig | ReachConfig,
    *,
    seed: int,
    days: Iterable[int] | None = None,
    progress: bool = False,
) -> list[Session]:
    """Generate the synthetic recording days ``days`` (default: all ``config.n_days``).

    Args:
        config: generator settings (see `make_config` and `PRESETS`); a `ReachConfig` runs
            the reaching regime.
        seed: same seed -> bit-identical sessions.
        days: subset of day indices; day ``d`` is the same whichever other days are asked.
        progress: show a tqdm bar over days.

    Returns:
        One validated `Session` per day (spike times on a 30 kHz clock, 1 kHz joystick
        position in a.u., trials with ``target_on``/``go_cue``/``move_onset``/``reach_end``
        events, ground truth in ``session.ground_truth``).
    """
    if isinstance(config, SyntheticConfig):
        chosen = _check_days(config, days)
    else:  # the reaching regime checks its days itself
        chosen = list(range(config.n_days)) if days is None else sorted({int(d) for d in days})
    sessions = iter_sessions(config, seed=seed, days=chosen)
    if progress:
        from tqdm.auto import tqdm

        sessions = tqdm(sessions, total=len(chosen), desc="synthetic days", unit="day")
    return list(sessions)


def _channel_spikes(
    config: SyntheticConfig,
    state: DayState,
    plan: TrialPlan,
    *,
    spike_rng: np.random.Generator,
    noise_rng: np.random.Generator,
    behaviour_rng: np.random.Generator,
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], np.ndarray, tuple]:
    """Spike sample indices per channel and per unit, and the channels' true rates.

    Returns:
        ``(channel_samples, channel_labels, unit_samples, latent_grid, channel_truth)``: ``C``
        sorted int64 arrays; ``[total spikes]`` unit row (``-1``: noise spike) in
        channel-concatenated order; ``U`` per-unit arrays; the latent on the rate grid
        ``[n_grid, K]``; expected counts per channel ``[n_truth_bins, C]`` given the behaviour
        and given the latent (see `truth`).
    """
    neurons = config.neurons
    fs = config.spike_sampling_rate_hz
    dt = neurons.rate_dt_s
    n_grid = int(np.ceil(plan.t_stop / dt))
    centres = (np.arange(n_grid) + 0.5) * dt
    noise = shared_noise_factor(n_grid, dt=dt, tau_s=neurons.shared_noise_tau_s, rng=behaviour_rng)
    latent = latent_factors(centres, plan, neurons, shared_noise=noise)
    weights, offset = state.units.readout()
    drift_shape = centres / plan.t_stop - 0.5
    last_sample = int(np.floor(plan.t_stop * fs))
    max_log_rate = np.log(neurons.max_rate_hz)

    units = state.units
    recorded = ~state.dead_channels[units.channel]
    unit_samples: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(units)
    rows = np.flatnonzero(recorded)
    latent_t = np.ascontiguousarray(latent.T)  # [K, n_grid]: row-major rates per unit below
    # expected counts per cell: given the latent, and given the behaviour (averaged over the
    # unit-variance shared noise factor, the latent's last column: E[exp(w n)] = exp(w^2 / 2))
    truth = np.zeros((config.n_channels, n_grid), np.float32)
    truth_b = np.zeros((config.n_channels, n_grid), np.float32)
    noise_col = latent_t[-1]
    for lo in range(0, rows.size, _UNIT_CHUNK):
        chunk = rows[lo : lo + _UNIT_CHUNK]
        log_rate = weights[chunk] @ latent_t  # [chunk, n_grid]
        log_rate += offset[chunk, None] + state.within_day_slope[chunk, None] * drift_shape
        np.minimum(log_rate, max_log_rate, out=log_rate)
        cell = expected_counts(np.exp(log_rate), dt=dt, refractory_s=neurons.refractory_s)
        w = weights[chunk, -1:]
        log_b = log_rate - w * noise_col + 0.5 * w**2  # before the cap: the mean of the
        np.minimum(log_b, max_log_rate, out=log_b)  # capped rate is approximated
        cell_b = expected_counts(np.exp(log_b), dt=dt, refractory_s=neurons.refractory_s)
        for j, row in enumerate(chunk):
            truth[units.channel[row]] += cell[j]
            truth_b[units.channel[row]] += cell_b[j]
            s = spike_samples_from_log_rate(
                log_rate[j],
                dt=dt,
                sampling_rate_hz=fs,
                refractory_s=neurons.refractory_s,
                rng=spike_rng,
            )
            unit_samples[row] = s[s <= last_sample]

    channel_samples: list[np.ndarray] = []
    channel_labels: list[np.ndarray] = []
    for ch in range(config.n_channels):
        on_channel = np.flatnonzero(units.channel == ch)
        parts = [unit_samples[r] for r in on_channel]
        labels = [np.full(unit_samples[r].size, r, dtype=np.int32) for r in on_channel]
        if state.noisy_channels[ch]:
            n_noise = noise_rng.poisson(config.drift.noisy_rate_hz * plan.t_stop)
            truth[ch] += config.drift.noisy_rate_hz * dt
            truth_b[ch] += config.drift.noisy_rate_hz * dt
            parts.append(np.sort(noise_rng.integers(0, last_sample + 1, n_noise)))
            labels.append(np.full(n_noise, -1, dtype=np.int32))
        if parts:
            samples = np.concatenate(parts)
            lab = np.concatenate(labels)
            order = np.argsort(samples, kind="stable")
            channel_samples.append(samples[order])
            channel_labels.append(lab[order])
        else:
            channel_samples.append(np.zeros(0, dtype=np.int64))
            channel_labels.append(np.zeros(0, dtype=np.int32))
    labels_all = np.concatenate(channel_labels)
    grids = (to_truth_grid(truth_b.T, dt=dt), to_truth_grid(truth.T, dt=dt))
    return channel_samples, labels_all, unit_samples, latent, grids


def _voltage(
    config: SyntheticConfig,
    state: DayState,
    plan: TrialPlan,
    unit_samples: list[np.ndarray],
    rng: np.random.Generator,
) -> Voltage | None:
    vcfg = config.voltage
    if not vcfg.enabled or state.day not in vcfg.days:
        return None
    channels = np.array([c for c in vcfg.channels if 0 <= c < config.n_channels], dtype=np.int64)
    if channels.size == 0:
        return None
    try:
        from alignnet.data.synthetic.voltage import synthesize_voltage
    except ImportError:  # the voltage synthesiser is optional (built separately)
        return None
    fs = config.spike_sampling_rate_hz
    n_trials = min(max(vcfg.n_trials, 1), plan.n_trials)
    t_start, t_stop = 0.0, float(plan.stop[n_trials - 1])
    rows = np.flatnonzero(np.isin(state.units.channel, channels))
    local = np.searchsorted(channels, state.units.channel[rows])
    spikes = []
    for r in rows:
        t = unit_samples[r] / fs
        spikes.append(t[(t >= t_start) & (t < t_stop)])
    data = synthesize_voltage(
        unit_spike_times=spikes,
        unit_channel=local.astype(np.int64),
        unit_amplitude_uv=np.exp(state.units.log_amplitude[rows]),
        n_channels=int(channels.size),
        t_start=t_start,
        t_stop=t_stop,
        rate_hz=fs,
        noise_uv=vcfg.noise_uv,
        lfp_uv=vcfg.lfp_uv,
        rng=rng,
    )
    return Voltage(data=data, rate_hz=fs, t_start=t_start, channel_index=channels)


def generate_day(config: SyntheticConfig, state: DayState, *, seed: int) -> Session:
    """One validated `Session` for ``state.day`` (see `generate_sessions`)."""
    day = state.day
    behaviour_rng, spike_rng, noise_rng, voltage_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence([seed, _DAY_TAG, day]).spawn(4)
    )
    plan = plan_trials(config.trials_per_day, config.behavior, behaviour_rng)
    times, joystick = joystick_samples(
        plan, config.behavior, rate_hz=config.behavior_rate_hz, rng=behaviour_rng
    )
    channel_samples, labels, unit_samples, latent, truth = _channel_spikes(
        config,
        state,
        plan,
        spike_rng=spike_rng,
        noise_rng=noise_rng,
        behaviour_rng=behaviour_rng,
    )
    fs = config.spike_sampling_rate_hz
    trials = plan.trials()
    meta = SessionMeta(
        subject=config.subject,
        session_id=f"synthetic-day{day:02d}",
        day=day,
        date=day_date(config.start_date, day),
        channel_ids=[f"ch{c:03d}" for c in range(config.n_channels)],
        behavior_names=["x", "y"],
        behavior_unit="a.u.",
        spike_sampling_rate_hz=fs,
        source=f"alignnet synthetic generator (seed {seed}, day {day})",
        extra={"generator": "alignnet.data.synthetic", "seed": int(seed), "day": day},
    )
    session = Session(
        t_start=0.0,
        t_stop=plan.t_stop,
        behavior=joystick,
        behavior_times=times,
        trials=trials,
        meta=meta,
        spike_times=[s / fs for s in channel_samples],
        voltage=_voltage(config, state, plan, unit_samples, voltage_rng),
        ground_truth={**_ground_truth(config, state, labels, latent), **truth_entries(*truth)},
    )
    return session.validate()


def _ground_truth(
    config: SyntheticConfig, state: DayState, labels: np.ndarray, latent: np.ndarray
) -> dict[str, np.ndarray]:
    """Small arrays that describe what generated the day (see `generate_sessions`).

    ``spike_unit`` ``[total spikes]`` gives, for the spikes of all channels concatenated in
    channel order, the row of the unit that fired each (``-1``: noise spike); with
    ``unit_channel`` it rebuilds every unit's spike train.
    """
    units = state.units
    weights, offset = units.readout()
    step = max(1, int(round(1.0 / (config.latent_rate_hz * config.neurons.rate_dt_s))))
    label_dtype = np.int16 if len(units) < np.iinfo(np.int16).max else np.int32
    return {
        "unit_id": units.unit_id.copy(),
        "unit_channel": units.channel.copy(),
        "unit_baseline_hz": np.exp(units.log_baseline),
        "unit_gain": np.exp(units.log_gain),
        "unit_pd_rad": np.mod(units.pd + np.pi, 2 * np.pi) - np.pi,
        "unit_velocity_depth": units.velocity_depth.copy(),
        "unit_position_depth": units.position_depth.copy(),
        "unit_speed_depth": units.speed_depth.copy(),
        "unit_prep_depth": units.prep_depth.copy(),
        "unit_noise_depth": units.noise_depth.copy(),
        "unit_amplitude_uv": np.exp(units.log_amplitude),
        "unit_within_day_slope": state.within_day_slope.copy(),
        "unit_readout": weights,
        "unit_log_offset": offset,
        "spike_unit": labels.astype(label_dtype),
        "dead_channels": state.dead_channels.copy(),
        "noisy_channels": state.noisy_channels.copy(),
        "latent": latent[::step].astype(np.float32),
        "latent_rate_hz": np.float64(1.0 / (step * config.neurons.rate_dt_s)),
        "latent_t_start": np.float64(0.5 * config.neurons.rate_dt_s),
        "latent_names": np.array(LATENT_NAMES),
    }
