"""Spike detection on synthetic voltage: quality, chunked == whole, dead time, named errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from alignnet.data.io.raw.base import ArrayRecording
from alignnet.data.preprocess.detection import (
    DetectionConfig,
    _filtfilt,
    detect_spikes,
    detect_spikes_chunked,
    detection_scores,
    estimate_noise_levels,
)
from alignnet.data.synthetic.voltage import synthesize_voltage, unit_waveforms
from alignnet.errors import DataError

RATE = 30000.0


def _poisson_trains(rng: np.random.Generator, n_units: int, duration: float, rate_hz: float):
    trains = []
    for _ in range(n_units):
        isi = rng.exponential(1.0 / rate_hz, size=int(duration * rate_hz * 2) + 10) + 0.003
        t = np.cumsum(isi) + 0.01
        trains.append(t[t < duration - 0.01])
    return trains


@pytest.fixture(scope="module")
def recording():
    rng = np.random.default_rng(7)
    n_ch, duration = 4, 6.0
    truth = _poisson_trains(rng, n_ch, duration, 20.0)
    volts = synthesize_voltage(
        unit_spike_times=truth,
        unit_channel=np.arange(n_ch),
        unit_amplitude_uv=np.full(n_ch, 80.0),
        n_channels=n_ch,
        t_start=0.0,
        t_stop=duration,
        rng=rng,
    )
    return volts, truth


def test_synthesize_voltage_shape_dtype_and_determinism(recording):
    volts, truth = recording
    assert volts.shape == (int(6.0 * RATE), 4) and volts.dtype == np.float32
    again = synthesize_voltage(
        unit_spike_times=truth[:1],
        unit_channel=[0],
        unit_amplitude_uv=[50.0],
        n_channels=2,
        t_start=0.0,
        t_stop=0.1,
        rng=np.random.default_rng(1),
    )
    same = synthesize_voltage(
        unit_spike_times=truth[:1],
        unit_channel=[0],
        unit_amplitude_uv=[50.0],
        n_channels=2,
        t_start=0.0,
        t_stop=0.1,
        rng=np.random.default_rng(1),
    )
    assert np.array_equal(again, same)


def test_waveforms_are_negative_peak_biphasic():
    w = unit_waveforms(5, rate_hz=RATE, rng=np.random.default_rng(0))
    trough = int(round(0.5e-3 * RATE))
    assert np.allclose(w[:, trough], -1.0)
    assert np.all(w.argmin(axis=1) == trough)
    assert np.all(w[:, trough:].max(axis=1) > 0.1)  # positive rebound after the trough


def test_precision_recall_at_clear_snr(recording):
    volts, truth = recording
    detected = detect_spikes(volts, rate_hz=RATE, config=DetectionConfig())
    precision, recall = detection_scores(detected, truth, tolerance_ms=0.3)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)


def test_no_spikes_means_few_detections():
    rng = np.random.default_rng(3)
    volts = synthesize_voltage(
        unit_spike_times=[],
        unit_channel=np.zeros(0, dtype=int),
        unit_amplitude_uv=np.zeros(0),
        n_channels=3,
        t_start=0.0,
        t_stop=3.0,
        rng=rng,
    )
    detected = detect_spikes(volts, rate_hz=RATE)
    # Gaussian noise beyond 4.5 sigma: a handful per channel per few seconds, not hundreds.
    assert sum(d.size for d in detected) < 30


@pytest.mark.parametrize(
    ("chunk_s", "block_s"), [(0.37, 0.0123), (0.05, 0.05), (1.0, 1.0), (100.0, 0.31)]
)
def test_chunked_equals_whole(recording, chunk_s, block_s):
    volts, _ = recording
    config = DetectionConfig(filter_block_s=block_s, sign="both")
    whole = detect_spikes(volts, rate_hz=RATE, config=config, t_start=2.5)
    source = ArrayRecording(volts, rate_hz=RATE, t_start=2.5)
    chunked = detect_spikes_chunked(source, config=config, chunk_s=chunk_s)
    assert all(np.array_equal(w, c) for w, c in zip(whole, chunked, strict=True))
    assert sum(w.size for w in whole) > 100


def test_spike_straddling_block_boundary_found_once():
    # One big spike whose trough sits exactly on a block boundary, and one a sample before it.
    rng = np.random.default_rng(5)
    block_s = 0.1
    boundary_t = 3 * block_s
    truth = [np.array([boundary_t]), np.array([boundary_t - 1 / RATE])]
    volts = synthesize_voltage(
        unit_spike_times=truth,
        unit_channel=[0, 1],
        unit_amplitude_uv=[150.0, 150.0],
        n_channels=2,
        t_start=0.0,
        t_stop=1.0,
        noise_uv=2.0,
        lfp_uv=0.0,
        rng=rng,
    )
    config = DetectionConfig(filter_block_s=block_s)
    for chunk_s in (block_s, 0.25, 1.0):
        detected = detect_spikes_chunked(
            ArrayRecording(volts, rate_hz=RATE), config=config, chunk_s=chunk_s
        )
        assert [d.size for d in detected] == [1, 1]
        assert abs(detected[0][0] - truth[0][0]) <= 2 / RATE
        assert abs(detected[1][0] - truth[1][0]) <= 2 / RATE


def test_block_filter_matches_whole_trace_sosfiltfilt(recording):
    volts, _ = recording
    config = DetectionConfig()
    sos = config.sos(RATE)
    margin = config.margin_samples(RATE)
    whole = signal.sosfiltfilt(sos, volts[:, 0].astype(np.float64), padlen=0)
    s0, s1 = 60000, 90000
    block = _filtfilt(sos, volts[s0 - margin : s1 + margin, :1])[0, margin:-margin]
    assert np.max(np.abs(block - whole[s0:s1])) < 1e-6  # microvolts


def test_dead_time_suppresses_close_spikes():
    rng = np.random.default_rng(11)
    t0 = 0.5
    truth = [np.array([t0, t0 + 0.0006, t0 + 0.0030])]  # 0.6 ms then 2.4 ms later
    volts = synthesize_voltage(
        unit_spike_times=truth,
        unit_channel=[0],
        unit_amplitude_uv=[200.0],
        n_channels=1,
        t_start=0.0,
        t_stop=1.0,
        noise_uv=1.0,
        lfp_uv=0.0,
        rng=rng,
    )
    fixed = np.array([10.0])  # threshold 45 uV: far above the noise, far below the spikes
    with_dead = detect_spikes(
        volts, rate_hz=RATE, config=DetectionConfig(dead_time_ms=1.0), noise_levels_uv=fixed
    )[0]
    assert with_dead.size == 2
    assert abs(with_dead[0] - t0) < 0.2e-3 and abs(with_dead[1] - (t0 + 0.003)) < 0.2e-3
    assert np.all(np.diff(with_dead) >= 1e-3)
    no_dead = detect_spikes(
        volts, rate_hz=RATE, config=DetectionConfig(dead_time_ms=0.0), noise_levels_uv=fixed
    )[0]
    assert no_dead.size >= 3


def test_noise_levels_are_seeded_and_close_to_truth():
    rng = np.random.default_rng(2)
    white = rng.normal(scale=10.0, size=(int(RATE * 4), 2)).astype(np.float32)
    source = ArrayRecording(white, rate_hz=RATE)
    config = DetectionConfig(noise_n_segments=5, noise_segment_s=0.2, noise_seed=3)
    a = estimate_noise_levels(source, config=config)
    b = estimate_noise_levels(source, config=config)
    assert np.array_equal(a, b)
    # White noise of sd 10 band-passed to 300-6000 Hz keeps ~sqrt(5700/15000) of its power.
    expected = 10.0 * np.sqrt((6000 - 300) / (RATE / 2))
    assert np.allclose(a, expected, rtol=0.1)
    other = estimate_noise_levels(source, config=DetectionConfig(noise_n_segments=5, noise_seed=4))
    assert not np.array_equal(a, other)


def test_flat_channel_has_no_spikes(recording):
    volts, _ = recording
    volts = volts.copy()
    volts[:, 1] = 0.0
    detected = detect_spikes(volts, rate_hz=RATE)
    assert detected[1].size == 0 and detected[0].size > 0


def test_detection_scores_counts():
    truth = [np.array([1.0, 2.0, 3.0])]
    detected = [np.array([1.0001, 2.5, 3.0002, 3.0003])]
    precision, recall = detection_scores(detected, truth, tolerance_ms=0.5)
    assert precision == pytest.approx(2 / 4) and recall == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (DetectionConfig(band_hz=(300.0, 20000.0)), "config.band_hz"),
        (DetectionConfig(threshold=0.0), "config.threshold"),
        (DetectionConfig(sign="up"), "config.sign"),  # type: ignore[arg-type]
        (DetectionConfig(dead_time_ms=-1.0), "config.dead_time_ms"),
    ],
)
def test_bad_config_is_named(config, field):
    with pytest.raises(DataError) as info:
        detect_spikes(np.zeros((3000, 1), np.float32), rate_hz=RATE, config=config)
    assert info.value.field == field
