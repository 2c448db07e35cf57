"""Units, their tuning to a shared movement latent, and spiking.

The latent ``z(t)`` ``[K]`` (names in `LATENT_NAMES`) is the same on every day: velocity and
position of the stick, speed, a preparatory signal keyed by the reach direction, and one
shared behaviour-unrelated factor. Unit ``u`` fires at

    log rate_u(t) = offset_u + W_u . z(t) + slope_u * (t / T - 1/2)

(Hz; ``W_u`` is cosine tuning: gain * depth * (cos, sin)(preferred direction)). Spikes are
drawn exactly for the piecewise-constant rate on a fine grid by time rescaling (one sort per
unit, no loop over time), put on the acquisition clock, and thinned to respect an absolute
refractory period.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.signal import lfilter

from alignnet.data.synthetic.behavior import TrialPlan, kinematics, preparatory_envelope
from alignnet.data.synthetic.config import NeuronConfig
from alignnet.data.synthetic.spiking import spike_samples_from_log_rate  # noqa: F401

LATENT_NAMES: tuple[str, ...] = (
    "vel_x",
    "vel_y",
    "pos_x",
    "pos_y",
    "speed",
    "prep_x",
    "prep_y",
    "shared_noise",
)


@dataclass
class UnitTable:
    """Parameters of ``U`` units, one entry per unit (all arrays ``[U]``).

    Attributes:
        unit_id: identity of the unit across days (a new unit gets a new id).
        channel: channel the unit is recorded on.
        log_baseline: log of the baseline rate in Hz.
        log_gain: log of the tuning gain (scales every behaviour readout).
        pd: preferred velocity direction, rad.
        pos_offset, prep_offset: offsets of the position / preparatory preferred
            directions from ``pd``, rad.
        velocity_depth, position_depth, speed_depth, prep_depth, noise_depth: readout depths.
        log_amplitude: log of the spike amplitude, microvolts.
    """

    unit_id: np.ndarray
    channel: np.ndarray
    log_baseline: np.ndarray
    log_gain: np.ndarray
    pd: np.ndarray
    pos_offset: np.ndarray
    prep_offset: np.ndarray
    velocity_depth: np.ndarray
    position_depth: np.ndarray
    speed_depth: np.ndarray
    prep_depth: np.ndarray
    noise_depth: np.ndarray
    log_amplitude: np.ndarray

    def __len__(self) -> int:
        return int(self.unit_id.shape[0])

    def subset(self, index: np.ndarray) -> UnitTable:
        """Units at ``index`` (bool mask or integer indices), copied."""
        return UnitTable(**{f.name: getattr(self, f.name)[index].copy() for f in fields(self)})

    def assign(self, index: np.ndarray, other: UnitTable) -> None:
        """Overwrite the units at ``index`` with ``other``'s (same length as ``index``)."""
        for f in fields(self):
            getattr(self, f.name)[index] = getattr(other, f.name)

    def readout(self) -> tuple[np.ndarray, np.ndarray]:
        """``(W [U, K], offset [U])`` of the log-rate readout of the latent (see module doc)."""
        gain = np.exp(self.log_gain)
        pos_dir = self.pd + self.pos_offset
        prep_dir = self.pd + self.prep_offset
        w = np.stack(
            [
                gain * self.velocity_depth * np.cos(self.pd),
                gain * self.velocity_depth * np.sin(self.pd),
                gain * self.position_depth * np.cos(pos_dir),
                gain * self.position_depth * np.sin(pos_dir),
                gain * self.speed_depth,
                gain * self.prep_depth * np.cos(prep_dir),
                gain * self.prep_depth * np.sin(prep_dir),
                self.noise_depth,
            ],
            axis=1,
        )
        return w, self.log_baseline.copy()


def draw_units(
    channel: np.ndarray, cfg: NeuronConfig, rng: np.random.Generator, *, first_id: int
) -> UnitTable:
    """Fresh units on the given channels (``[U]``), ids ``first_id, first_id + 1, ...``."""
    n = int(channel.shape[0])

    def uniform(bounds: tuple[float, float]) -> np.ndarray:
        return rng.uniform(bounds[0], bounds[1], n)

    lo, hi = np.log(cfg.baseline_range_hz[0]), np.log(cfg.baseline_range_hz[1])
    log_base = np.clip(rng.normal(np.log(cfg.baseline_median_hz), cfg.baseline_log_sd, n), lo, hi)
    return UnitTable(
        unit_id=np.arange(first_id, first_id + n, dtype=np.int64),
        channel=np.asarray(channel, dtype=np.int64).copy(),
        log_baseline=log_base,
        log_gain=np.zeros(n),
        pd=rng.uniform(-np.pi, np.pi, n),
        pos_offset=rng.normal(0.0, 0.5, n),
        prep_offset=rng.normal(0.0, 0.7, n),
        velocity_depth=uniform(cfg.velocity_depth),
        position_depth=uniform(cfg.position_depth),
        speed_depth=uniform(cfg.speed_depth),
        prep_depth=uniform(cfg.prep_depth),
        noise_depth=uniform(cfg.noise_depth),
        log_amplitude=np.log(uniform(cfg.amplitude_uv)),
    )


def latent_factors(
    times: np.ndarray, plan: TrialPlan, cfg: NeuronConfig, *, shared_noise: np.ndarray
) -> np.ndarray:
    """``[n, K]`` latent at ``times`` (``K = len(LATENT_NAMES)``).

    Velocity is divided by ``cfg.reference_speed``; the preparatory pair is the reach
    direction times `preparatory_envelope`; ``shared_noise`` ``[n]`` is given by the caller.
    """
    pos, vel, trial = kinematics(times, plan)
    vel = vel / cfg.reference_speed
    k = np.clip(trial, 0, None)
    direction = np.arctan2(plan.endpoint[k, 1], plan.endpoint[k, 0])
    env = preparatory_envelope(times, plan, decay_s=cfg.prep_decay_s)
    speed = np.hypot(vel[:, 0], vel[:, 1])
    return np.column_stack(
        [vel, pos, speed, env * np.cos(direction), env * np.sin(direction), shared_noise]
    )


def shared_noise_factor(n: int, *, dt: float, tau_s: float, rng: np.random.Generator) -> np.ndarray:
    """``[n]`` unit-variance Ornstein-Uhlenbeck process sampled every ``dt`` s."""
    a = np.exp(-dt / tau_s)
    drive = rng.standard_normal(n) * np.sqrt(1.0 - a * a)
    drive[0] = rng.standard_normal()
    return lfilter([1.0], [1.0, -a], drive)
