"""Day-to-day drift of the recorded population: turnover, random walks, dead/noisy channels.

The population is a fixed set of unit *slots* (``max_units_per_channel`` per channel). On day
0 each slot holds a unit with ``unit_probability``. Each later day every unit's log gain, log
baseline, preferred direction and log amplitude take one random-walk step; a held slot loses
its unit with probability ``unit_turnover`` and an empty slot gains a brand-new unit (new id,
new tuning) at the rate that keeps the expected count constant. Channels die for good with
``dead_channel_prob`` per day; noisy channels are drawn afresh every day.

Day ``d``'s state depends only on ``(seed, 0..d)``: each day's steps come from their own
``SeedSequence((seed, tag, d))``, so generating day 5 alone replays the (cheap) walk of days
1..5 and gives exactly the day 5 of a full run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from alignnet.data.synthetic.config import DriftConfig, NeuronConfig, SyntheticConfig
from alignnet.data.synthetic.neurons import UnitTable, draw_units

_POPULATION_TAG = 1
_DRIFT_TAG = 2


@dataclass
class DayState:
    """What the recorded population looks like on one day.

    Attributes:
        day: day index.
        units: the units present that day (``[U]`` each), including those on dead channels.
        within_day_slope: ``[U]`` total log-rate change of each unit over the day.
        dead_channels: ``[C]`` bool, channels that record nothing.
        noisy_channels: ``[C]`` bool, channels with extra behaviour-unrelated spikes.
    """

    day: int
    units: UnitTable
    within_day_slope: np.ndarray
    dead_channels: np.ndarray
    noisy_channels: np.ndarray


def _rng(seed: int, *tags: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *tags]))


def _day_extras(
    n_units: int, n_channels: int, drift: DriftConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    slope = rng.normal(0.0, drift.within_day_sd, n_units)
    noisy = rng.random(n_channels) < drift.noisy_channel_prob
    return slope, noisy


def iter_day_states(config: SyntheticConfig, *, seed: int, last_day: int) -> Iterator[DayState]:
    """Yield the population state of days ``0..last_day`` in order."""
    neurons: NeuronConfig = config.neurons
    drift = config.drift
    n_slots = config.n_channels * neurons.max_units_per_channel
    slot_channel = np.repeat(np.arange(config.n_channels), neurons.max_units_per_channel)

    rng = _rng(seed, _POPULATION_TAG)
    slots = draw_units(slot_channel, neurons, rng, first_id=0)
    next_id = n_slots
    active = rng.random(n_slots) < neurons.unit_probability
    dead = rng.random(config.n_channels) < drift.dead_channel_prob
    birth_prob = (
        min(1.0, drift.unit_turnover * neurons.unit_probability / (1.0 - neurons.unit_probability))
        if neurons.unit_probability < 1.0
        else 0.0
    )

    for day in range(last_day + 1):
        if day > 0:
            rng = _rng(seed, _DRIFT_TAG, day)
            slots.log_gain += rng.normal(0.0, drift.gain_walk_sd, n_slots)
            slots.log_baseline += rng.normal(0.0, drift.baseline_walk_sd, n_slots)
            slots.pd += rng.normal(0.0, np.deg2rad(drift.rotation_sd_deg), n_slots)
            slots.log_amplitude += rng.normal(0.0, drift.amplitude_walk_sd, n_slots)
            dies = active & (rng.random(n_slots) < drift.unit_turnover)
            born = ~active & (rng.random(n_slots) < birth_prob)
            newcomers = draw_units(slot_channel, neurons, rng, first_id=0)
            born_idx = np.flatnonzero(born)
            fresh = newcomers.subset(born_idx)
            fresh.unit_id = np.arange(next_id, next_id + born_idx.size, dtype=np.int64)
            next_id += born_idx.size
            slots.assign(born_idx, fresh)
            active = (active & ~dies) | born
            dead |= rng.random(config.n_channels) < drift.dead_channel_prob
        else:
            rng = _rng(seed, _DRIFT_TAG, 0)
        present = np.flatnonzero(active)
        slope, noisy = _day_extras(present.size, config.n_channels, drift, rng)
        yield DayState(
            day=day,
            units=slots.subset(present),
            within_day_slope=slope,
            dead_channels=dead.copy(),
            noisy_channels=noisy & ~dead,
        )
