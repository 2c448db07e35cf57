"""The reaching regime of the synthetic generator (`alignnet.data.synthetic.reach`)."""

from __future__ import annotations

import numpy as np
import pytest

from alignnet.data.synthetic import ReachConfig, generate_sessions, make_config
from alignnet.errors import DataError


@pytest.fixture(scope="module")
def day():
    return generate_sessions(make_config("reach-tiny"), seed=3)[0]


def test_presets_and_overrides():
    full = make_config("reach")
    assert isinstance(full, ReachConfig)
    assert (full.n_days, full.trials_per_day, full.n_units) == (1, 300, 100)
    assert full.behavior_rate_hz == pytest.approx(1000.0)
    assert make_config("reach", n_days=3).n_days == 3
    assert ReachConfig.from_dict(full.to_dict()) == full
    with pytest.raises(DataError):
        make_config("reach", no_such_knob=1)
    assert make_config("demo").n_channels == 64  # the other presets are untouched


def test_valid_session_shapes_and_trials(day):
    cfg = make_config("reach-tiny")
    day.validate()
    assert day.n_channels == cfg.n_units
    assert len(day.spike_times) == cfg.n_units
    assert day.meta.behavior_names == ["vx", "vy"] and day.meta.behavior_unit == "cm/s"
    assert np.allclose(np.diff(day.behavior_times), 1e-3)  # hand velocity at 1 kHz
    assert len(day.trials) == cfg.trials_per_day
    failed = ~day.trials.success
    assert failed.sum() == round(cfg.failure_rate * cfg.trials_per_day)  # 6 % failed trials
    aborted = day.ground_truth["trial_aborted"]
    assert np.isnan(day.trials.events["move_onset"][aborted]).all()
    reach = day.trials.events["reach_end"] - day.trials.events["move_onset"]
    assert np.nanmin(reach) >= 0.3 - 1e-9 and np.nanmax(reach) <= 0.6 + 1e-9
    # minimum-jerk reaches of 8 cm: the hand peaks at 1.875 * 8 / duration cm/s
    speed = np.hypot(day.behavior[:, 0], day.behavior[:, 1])
    assert 20.0 < speed.max() < 60.0


def test_rates_refractory_and_lead(day):
    gt = day.ground_truth
    cfg = make_config("reach-tiny")
    assert gt["unit_baseline_hz"].min() >= 2.0 and gt["unit_baseline_hz"].max() <= 40.0
    assert gt["unit_lead_s"].min() >= 0.03 and gt["unit_lead_s"].max() <= 0.1
    rates = np.array([t.size for t in day.spike_times]) / (day.t_stop - day.t_start)
    assert rates.min() > 1.0 and rates.max() < 80.0
    assert min(np.diff(t).min() for t in day.spike_times if t.size > 1) >= cfg.refractory_s - 1e-6
    # Empirical lead: spikes correlate best with the velocity 30-100 ms *later*.
    dt = 0.005
    edges = np.arange(0.0, day.t_stop + dt, dt)
    centres = edges[:-1] + dt / 2
    vel = np.stack([np.interp(centres, day.behavior_times, day.behavior[:, j]) for j in (0, 1)], 1)
    lags = np.arange(-30, 31)
    total = np.zeros(lags.size)
    for i, t in enumerate(day.spike_times):
        counts = np.histogram(t, edges)[0].astype(float)
        counts -= counts.mean()
        pd = gt["unit_pd_rad"][i]
        proj = vel[:, 0] * np.cos(pd) + vel[:, 1] * np.sin(pd)
        proj -= proj.mean()
        for k, lag in enumerate(lags):
            if lag >= 0:
                total[k] += counts[: counts.size - lag] @ proj[lag:]
            else:
                total[k] += counts[-lag:] @ proj[: counts.size + lag]
    best = lags[np.argmax(total)] * dt
    assert 0.02 <= best <= 0.11


def test_deterministic_and_windows(day):
    from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows

    again = generate_sessions(make_config("reach-tiny"), seed=3)[0]
    assert all(
        np.array_equal(a, b) for a, b in zip(day.spike_times, again.spike_times, strict=True)
    )
    assert np.array_equal(day.behavior, again.behavior)
    windows = sessions_to_windows([day], PreprocessConfig())
    assert windows.spikes.shape[1:] == (24, 100) and windows.behavior.shape[1:] == (2, 100)
    assert len(windows) == len(day.trials)
