"""Synthetic hippocampal place cells recorded on tetrodes while an animal forages.

Not a reaching task: an animal runs freely in a square arena (or back and forth on a linear
track), a camera tracks it at 30 Hz and loses it now and then, and place cells fire where the
animal is. This is the data a hippocampus lab exports, for the reader, the dropout rule and
the benchmark on behaviour other than hand kinematics.

- **Path**: a smooth random walk (speed ~ ``speed_cm_s``, heading drifts, walls reflect),
  simulated at 1 kHz; on a track, position along the track runs end to end with pauses.
- **Place cells** (``place_fraction`` of the units): Gaussian fields, centres uniform over the
  arena, widths ``field_width_cm``, peak rates ``peak_hz``, plus ``baseline_hz``; the other
  units fire at a constant rate (interneuron-like, carry no position). Spikes are
  inhomogeneous Poisson at 1 ms, with a 2 ms refractory period.
- **Tetrodes**: unit ``u`` sits on tetrode ``u % n_tetrodes``; each unit is linked to its
  tetrode's four wires (as tetrode exports link them).
- **Camera**: ``camera_hz`` samples of the position (cm, or pixels with ``px_per_cm``).
  Dropouts: short ones (1-5 frames, ``short_dropouts_per_min``) and ``long_dropouts``
  of 1-4 s, written as NaN or as ``dropout_value`` (e.g. 0, as some trackers do).
- **Discrete variable**: the arena quadrant (0-3) or the track half (0-1) at the camera rate.

Every draw comes from ``numpy.random.default_rng(seed)``: same seed, same data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_DT = 0.001  # simulation step, s


@dataclass(frozen=True)
class PlaceCellConfig:
    """Settings of one synthetic place-cell session (see the module docstring)."""

    seconds: float = 600.0
    arena_cm: float = 100.0
    track: bool = False
    speed_cm_s: float = 20.0
    camera_hz: float = 30.0
    n_tetrodes: int = 13
    n_units: int = 40
    place_fraction: float = 0.8
    field_width_cm: tuple[float, float] = (8.0, 16.0)
    peak_hz: tuple[float, float] = (8.0, 25.0)
    baseline_hz: float = 0.3
    interneuron_hz: tuple[float, float] = (5.0, 15.0)
    short_dropouts_per_min: float = 6.0
    long_dropouts: int = 3
    dropout_value: float | None = None
    px_per_cm: float | None = None


@dataclass
class PlaceCellSession:
    """One generated session.

    Attributes:
        unit_times: spike times (s) of each unit.
        unit_tetrode: ``[U]`` tetrode of each unit.
        camera_times: ``[T]`` camera frame times, s.
        position: ``[T, D]`` tracked position (cm or px; NaN / ``dropout_value`` on dropouts;
            ``D`` = 2 in the arena, 1 on the track).
        true_position: ``[T, D]`` the same without dropouts.
        region: ``[T]`` quadrant (arena, 0-3) or track half (0-1) at the camera rate.
        unit_label: ``"place"`` or ``"interneuron"`` per unit.
        field_centre: ``[U, D]`` place-field centres, cm (NaN for interneurons).
        unit: position unit (``"cm"`` or ``"px"``).
    """

    unit_times: list[np.ndarray]
    unit_tetrode: np.ndarray
    camera_times: np.ndarray
    position: np.ndarray
    true_position: np.ndarray
    region: np.ndarray
    unit_label: list[str]
    field_centre: np.ndarray
    unit: str


def _path(config: PlaceCellConfig, rng: np.random.Generator, n: int) -> np.ndarray:
    """``[n, D]`` position (cm) at 1 kHz."""
    size, speed = config.arena_cm, config.speed_cm_s
    if config.track:
        track = np.empty(n)
        track[0], v = 0.0, speed
        pause = 0
        for i in range(1, n):
            if pause > 0:
                pause -= 1
                track[i] = track[i - 1]
                continue
            track[i] = track[i - 1] + v * _DT
            if track[i] >= size or track[i] <= 0:  # reward at the ends: turn round after a pause
                track[i] = min(max(track[i], 0.0), size)
                v = -v
                pause = int(rng.uniform(0.5, 2.0) / _DT)
        return track[:, None]
    pos = np.empty((n, 2))
    x: float = size / 2
    y: float = size / 2
    heading = rng.uniform(0, 2 * np.pi)
    turns = rng.normal(0.0, 2.0 * np.sqrt(_DT), n)  # heading diffusion, rad
    steps = speed * _DT * np.exp(0.4 * np.sin(np.cumsum(rng.normal(0, 0.02, n))))
    for i in range(n):
        heading += turns[i]
        x += float(steps[i] * np.cos(heading))
        y += float(steps[i] * np.sin(heading))
        if x < 0 or x > size:  # reflect on the walls
            x, heading = min(max(x, 0.0), size), np.pi - heading
        if y < 0 or y > size:
            y, heading = min(max(y, 0.0), size), -heading
        pos[i] = (x, y)
    return pos


def _dropouts(config: PlaceCellConfig, rng: np.random.Generator, n_frames: int) -> np.ndarray:
    """``[T]`` bool: frames the camera lost the animal."""
    lost = np.zeros(n_frames, dtype=bool)
    minutes = n_frames / config.camera_hz / 60.0
    for _ in range(rng.poisson(config.short_dropouts_per_min * minutes)):
        start = int(rng.integers(0, n_frames))
        lost[start : start + int(rng.integers(1, 6))] = True
    for _ in range(config.long_dropouts):
        length = int(rng.uniform(1.0, 4.0) * config.camera_hz)
        start = int(rng.integers(0, max(n_frames - length, 1)))
        lost[start : start + length] = True
    return lost


def generate_place_cells(config: PlaceCellConfig, *, seed: int) -> PlaceCellSession:
    """Generate one session (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = int(round(config.seconds / _DT))
    path = _path(config, rng, n)
    dims = path.shape[1]
    n_place = int(round(config.place_fraction * config.n_units))
    centres = np.full((config.n_units, dims), np.nan)
    centres[:n_place] = rng.uniform(0, config.arena_cm, (n_place, dims))
    widths = rng.uniform(*config.field_width_cm, config.n_units)
    peaks = rng.uniform(*config.peak_hz, config.n_units)
    tonic = rng.uniform(*config.interneuron_hz, config.n_units)
    order = rng.permutation(config.n_units)  # place cells and interneurons mixed on tetrodes
    unit_times = []
    for u in range(config.n_units):
        if u < n_place:
            d2 = ((path - centres[u]) ** 2).sum(axis=1)
            rate = config.baseline_hz + peaks[u] * np.exp(-d2 / (2 * widths[u] ** 2))
        else:
            rate = np.full(n, tonic[u])
        spikes = np.flatnonzero(rng.random(n) < rate * _DT)
        keep = np.concatenate([[True], np.diff(spikes) > 2]) if spikes.size else spikes > 0
        unit_times.append((spikes[keep] + rng.random(int(keep.sum()))) * _DT)
    unit_times = [unit_times[i] for i in order]
    centres = centres[order]
    labels = ["place" if i < n_place else "interneuron" for i in order]

    camera_times = np.arange(0.0, config.seconds, 1.0 / config.camera_hz)
    frames = np.minimum(np.round(camera_times / _DT).astype(np.int64), n - 1)
    true_position = path[frames]
    if config.track:
        region = (true_position[:, 0] >= config.arena_cm / 2).astype(np.int64)
    else:
        half = config.arena_cm / 2
        region = (true_position[:, 0] >= half).astype(np.int64) + 2 * (
            true_position[:, 1] >= half
        ).astype(np.int64)
    scale = config.px_per_cm or 1.0
    position = true_position * scale
    lost = _dropouts(config, rng, frames.size)
    position[lost] = np.nan if config.dropout_value is None else config.dropout_value
    return PlaceCellSession(
        unit_times=unit_times,
        unit_tetrode=np.arange(config.n_units) % config.n_tetrodes,
        camera_times=camera_times,
        position=position,
        true_position=true_position * scale,
        region=region,
        unit_label=labels,
        field_centre=centres,
        unit="px" if config.px_per_cm else "cm",
    )
