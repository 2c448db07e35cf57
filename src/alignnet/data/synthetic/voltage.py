"""Synthetic raw extracellular voltage with known spikes (ground truth for spike detection).

voltage = sum over units of (waveform * amplitude placed at each spike) on the unit's channel
        + coloured background noise (white Gaussian through a one-pole low-pass, per channel)
        + LFP (a few shared slow sources below ~20 Hz, mixed into every channel).

Each spike's waveform trough sits exactly on the spike's sample (``round((t - t_start) * rate)``).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from alignnet.errors import DataError

WAVEFORM_BEFORE_MS = 0.5
WAVEFORM_AFTER_MS = 1.0
NOISE_CORNER_HZ = 3000.0
LFP_CORNER_HZ = 20.0
LFP_SOURCES = 3


def unit_waveforms(n_units: int, *, rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one extracellular waveform shape per unit.

    Negative-peak biphasic: a narrow Gaussian trough (sd 0.08-0.15 ms) at t = 0 followed by a
    broader, smaller positive rebound (20-45 % of the trough, 0.25-0.5 ms later), spanning
    -0.5..+1.0 ms. Normalised so the trough is -1.

    Returns:
        ``[n_units, W]`` float64, W = samples in 1.5 ms; index ``round(0.5 ms * rate)`` is t = 0.
    """
    before = int(round(WAVEFORM_BEFORE_MS * 1e-3 * rate_hz))
    after = int(round(WAVEFORM_AFTER_MS * 1e-3 * rate_hz))
    t_ms = (np.arange(-before, after + 1) / rate_hz * 1e3)[None, :]
    trough_sd = rng.uniform(0.08, 0.15, size=(n_units, 1))
    rebound_delay = rng.uniform(0.25, 0.5, size=(n_units, 1))
    rebound_sd = rng.uniform(0.15, 0.3, size=(n_units, 1))
    rebound_size = rng.uniform(0.2, 0.45, size=(n_units, 1))
    wave = -np.exp(-0.5 * (t_ms / trough_sd) ** 2) + rebound_size * np.exp(
        -0.5 * ((t_ms - rebound_delay) / rebound_sd) ** 2
    )
    return wave / -wave[:, before : before + 1]


def synthesize_voltage(
    *,
    unit_spike_times: list[np.ndarray],
    unit_channel: np.ndarray,
    unit_amplitude_uv: np.ndarray,
    n_channels: int,
    t_start: float,
    t_stop: float,
    rate_hz: float = 30000.0,
    noise_uv: float = 10.0,
    lfp_uv: float = 30.0,
    rng: np.random.Generator,
    waveforms: np.ndarray | None = None,
) -> np.ndarray:
    """Raw voltage of ``n_channels`` electrodes with the given units' spikes.

    Args:
        unit_spike_times: ``U`` arrays of spike times, s; spikes outside [t_start, t_stop) and
            waveform parts beyond the edges are dropped.
        unit_channel: ``[U]`` channel of each unit (0 <= c < n_channels).
        unit_amplitude_uv: ``[U]`` trough depth of each unit, microvolts (>= 0).
        n_channels: ``C``.
        t_start, t_stop: time of sample 0 and end of the recording, s.
        rate_hz: sampling rate, Hz.
        noise_uv: standard deviation of the background noise per channel, microvolts.
        lfp_uv: standard deviation of the LFP per channel, microvolts.
        rng: random generator (waveform shapes first, then noise, then LFP).
        waveforms: optional ``[U, W]`` shapes from `unit_waveforms` (to keep shapes fixed across
            calls, e.g. when writing a long recording block by block); drawn from ``rng`` if None.

    Returns:
        ``[n_samples, C]`` float32, microvolts, ``n_samples = round((t_stop - t_start) * rate_hz)``;
        sample ``k`` is at ``t_start + k / rate_hz``.
    """
    n_units = len(unit_spike_times)
    unit_channel = np.asarray(unit_channel, dtype=np.int64)
    unit_amplitude_uv = np.asarray(unit_amplitude_uv, dtype=np.float64)
    if unit_channel.shape != (n_units,) or unit_amplitude_uv.shape != (n_units,):
        raise DataError(
            f"unit_channel {unit_channel.shape} / unit_amplitude_uv {unit_amplitude_uv.shape} "
            f"do not match {n_units} units",
            field="unit_channel",
        )
    if n_units and (unit_channel.min() < 0 or unit_channel.max() >= n_channels):
        raise DataError(f"channels must be in 0..{n_channels - 1}", field="unit_channel")
    if not (rate_hz > 0) or not (t_stop > t_start):
        raise DataError(
            f"need rate_hz > 0 and t_stop > t_start, got {rate_hz}, {t_start}..{t_stop}",
            field="t_start/t_stop",
        )
    n = int(round((t_stop - t_start) * rate_hz))
    if waveforms is None:
        waveforms = unit_waveforms(n_units, rate_hz=rate_hz, rng=rng)
    waveforms = np.asarray(waveforms, dtype=np.float64)
    if waveforms.ndim != 2 or waveforms.shape[0] != n_units:
        raise DataError(f"expected [{n_units}, W], got {waveforms.shape}", field="waveforms")
    before = int(round(WAVEFORM_BEFORE_MS * 1e-3 * rate_hz))

    out = np.zeros((n, n_channels), dtype=np.float64)
    offsets = np.arange(waveforms.shape[1]) - before
    for u in range(n_units):  # one vectorised scatter-add per unit, not per spike
        samples = np.round((np.asarray(unit_spike_times[u], dtype=np.float64) - t_start) * rate_hz)
        samples = samples[(samples >= 0) & (samples < n)].astype(np.int64)
        idx = (samples[:, None] + offsets[None, :]).ravel().astype(np.int64)
        vals = np.broadcast_to(waveforms[u] * unit_amplitude_uv[u], (samples.size, offsets.size))
        inside = (idx >= 0) & (idx < n)
        np.add.at(out[:, unit_channel[u]], idx[inside], vals.ravel()[inside])

    # Coloured background noise: white through a one-pole low-pass, rescaled to noise_uv.
    white = rng.standard_normal((n, n_channels))
    pole = np.exp(-2 * np.pi * NOISE_CORNER_HZ / rate_hz)
    coloured = signal.lfilter([1.0 - pole], [1.0, -pole], white, axis=0)
    coloured *= noise_uv / np.sqrt((1 - pole) ** 2 / (1 - pole**2))  # stationary std of the filter
    out += coloured
    del white, coloured

    # LFP: a few shared slow sources mixed into every channel with random weights.
    if lfp_uv > 0:
        slow = rng.standard_normal((n, LFP_SOURCES))
        sos = signal.butter(2, LFP_CORNER_HZ, btype="lowpass", fs=rate_hz, output="sos")
        slow = signal.sosfilt(sos, slow, axis=0)
        slow /= np.maximum(slow.std(axis=0, keepdims=True), 1e-12)
        mix = rng.normal(size=(LFP_SOURCES, n_channels))
        mix /= np.linalg.norm(mix, axis=0, keepdims=True)
        out += lfp_uv * (slow @ mix)
    return out.astype(np.float32)
