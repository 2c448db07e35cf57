"""Binning, behaviour resampling/smoothing, windowing, normalisation and windows files."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alignnet.data import Session, SessionMeta, Trials
from alignnet.data.io import load_windows, save_windows
from alignnet.data.preprocess import (
    NormStats,
    PreprocessConfig,
    bin_edges,
    bin_spike_times,
    gaussian_kernel,
    gaussian_smooth,
    rebin_counts,
    resample_behavior,
    session_to_windows,
    sessions_to_windows,
)
from alignnet.errors import DataError, FileFormatError


# ---------------------------------------------------------------------- helpers
def make_session(
    *,
    duration: float = 6.0,
    trials: Trials | None = None,
    day: int = 0,
    n_channels: int = 3,
    seed: int = 0,
) -> Session:
    """Spike times at random, behaviour a 1 kHz ramp: x = t, y = 2 t + 1."""
    rng = np.random.default_rng(seed)
    spike_times = [np.sort(rng.uniform(0, duration, 50 + 10 * c)) for c in range(n_channels)]
    times = np.arange(0, duration + 1e-9, 0.001)
    behavior = np.stack([times, 2 * times + 1], axis=1)
    if trials is None:
        trials = Trials(
            start=[0.0, 2.0, 4.5],
            stop=[2.0, 4.5, 6.0],
            target=[3, 5, 7],
            success=[True, False, True],
        )
    meta = SessionMeta(session_id=f"day{day}", day=day)
    return Session(0.0, duration, behavior, times, trials, meta, spike_times=spike_times).validate()


# ---------------------------------------------------------------------- binning
def test_bin_edges_whole_bins_only():
    np.testing.assert_allclose(bin_edges(0.0, 0.1, bin_s=0.02), [0, 0.02, 0.04, 0.06, 0.08, 0.1])
    assert bin_edges(1.0, 1.105, bin_s=0.02).shape == (6,)  # trailing 5 ms left out
    with pytest.raises(DataError, match="bin width"):
        bin_edges(0.0, 1.0, bin_s=0.0)


def test_bin_spike_times_hand_computed():
    edges = bin_edges(0.0, 0.1, bin_s=0.02)
    spikes = [np.array([0.0, 0.019, 0.02, 0.05, 0.1]), np.array([])]
    counts = bin_spike_times(spikes, edges)
    # [0, .02): 0.0, 0.019 | [.02, .04): 0.02 | [.04, .06): 0.05 | last edge 0.1 not counted
    np.testing.assert_array_equal(counts, [[2, 0], [1, 0], [1, 0], [0, 0], [0, 0]])
    assert counts.dtype == np.int64


def test_rebin_counts_integer_factor_sums():
    counts = np.array([[1, 0], [2, 1], [3, 0], [4, 2], [5, 9]])
    np.testing.assert_array_equal(
        rebin_counts(counts, from_bin_s=0.05, to_bin_s=0.1), [[3, 1], [7, 2]]
    )
    assert rebin_counts(counts, from_bin_s=0.05, to_bin_s=0.05) is counts
    for bad in (0.02, 0.075):
        with pytest.raises(DataError, match=f"50 ms counts cannot be binned to {bad * 1e3:g} ms"):
            rebin_counts(counts, from_bin_s=0.05, to_bin_s=bad)


# ---------------------------------------------------------------------- behaviour
def test_resample_1khz_to_50hz_interp_and_mean():
    times = np.arange(1000) * 0.001  # 1 kHz, 1 s
    values = np.stack([2 * times + 1, times**2], axis=1)
    edges = bin_edges(0.0, 1.0, bin_s=0.02)  # 50 bins
    centres = 0.01 + 0.02 * np.arange(50)

    interp = resample_behavior(times, values, edges)  # default: paper eq. 1
    assert interp.shape == (50, 2)
    np.testing.assert_allclose(interp[:, 0], 2 * centres + 1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(interp[:, 1], centres**2, rtol=0, atol=1e-12)  # centres are samples

    mean = resample_behavior(times, values, edges, method="mean")
    # bin k holds samples 0.02k + 0.000..0.019: mean time 0.02k + 0.0095
    np.testing.assert_allclose(mean[:, 0], 2 * (0.02 * np.arange(50) + 0.0095) + 1, atol=1e-12)


def test_resample_mean_empty_bin_falls_back_to_interp():
    times = np.array([0.0, 0.1])
    values = np.array([0.0, 10.0])
    out = resample_behavior(times, values, bin_edges(0.0, 0.1, bin_s=0.02), method="mean")
    # bin 0 holds sample 0.0 only; the other bins are empty -> value at their centre
    np.testing.assert_allclose(out[:, 0], [0.0, 3.0, 5.0, 7.0, 9.0])


def test_gaussian_smooth_hand_computed():
    impulse = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    # sigma 1, truncate 1 -> k = 1: weights e^-1/2, 1, e^-1/2 normalised
    side = np.exp(-0.5) / (1 + 2 * np.exp(-0.5))
    centre = 1 / (1 + 2 * np.exp(-0.5))
    np.testing.assert_allclose(
        gaussian_smooth(impulse, sigma_bins=1.0, truncate=1.0), [0, side, centre, side, 0]
    )
    i = np.arange(-2, 3)
    eq3 = np.exp(-(i**2) / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(gaussian_kernel(1.0, truncate=2.0), eq3 / eq3.sum())
    constant = np.full((7, 2), 3.5)
    np.testing.assert_allclose(gaussian_smooth(constant, sigma_bins=2.0), constant, rtol=1e-15)
    np.testing.assert_array_equal(gaussian_smooth(impulse, sigma_bins=0.0), impulse)


# ---------------------------------------------------------------------- windowing
def test_trial_windows_match_binning_and_drop_past_end():
    session = make_session()
    config = PreprocessConfig(window_bins=50, smooth_sigma_bins=0.0)  # 1 s windows
    windows = session_to_windows(session, config)
    # trials start at 0, 2, 4.5 s; 4.5 + 1 <= 6 so all fit
    assert windows.spikes.shape == (3, 3, 50)
    np.testing.assert_array_equal(windows.trial, [0, 1, 2])
    np.testing.assert_array_equal(windows.target, [3, 5, 7])
    np.testing.assert_allclose(windows.t_start, [0.0, 2.0, 4.5])
    edges = bin_edges(2.0, 3.0, bin_s=0.02)
    np.testing.assert_array_equal(windows.spikes[1], bin_spike_times(session.spike_times, edges).T)
    centres = 2.01 + 0.02 * np.arange(50)
    np.testing.assert_allclose(windows.behavior[1, 0], centres, atol=1e-5)
    np.testing.assert_allclose(windows.behavior[1, 1], 2 * centres + 1, atol=1e-5)

    long = session_to_windows(session, PreprocessConfig(window_bins=110))  # 2.2 s windows
    np.testing.assert_array_equal(long.trial, [0, 1])  # 4.5 + 2.2 > 6: dropped
    assert long.info["sessions"][0]["dropped_past_end"] == 1
    assert long.info["sessions"][0]["past_trial_stop"] == 1  # trial 0 ends at 2.0 s, kept


def test_trial_options_offset_successful_within_fields():
    session = make_session()
    shifted = session_to_windows(session, PreprocessConfig(window_bins=25, trial_offset_s=0.5))
    np.testing.assert_allclose(shifted.t_start, [0.5, 2.5, 5.0])
    ok = session_to_windows(session, PreprocessConfig(window_bins=25, successful_only=True))
    np.testing.assert_array_equal(ok.trial, [0, 2])
    inside = session_to_windows(session, PreprocessConfig(window_bins=110, within_trial=True))
    np.testing.assert_array_equal(inside.trial, [1])  # only trial 1 is >= 2.2 s long
    y_only = session_to_windows(session, PreprocessConfig(window_bins=25, behavior_fields=("y",)))
    assert y_only.behavior_names == ["y"] and y_only.n_behavior_dims == 1
    with pytest.raises(DataError, match=r"behaviour fields \['speed'\] not found"):
        session_to_windows(session, PreprocessConfig(behavior_fields=("speed",)))


def test_sliding_windows_never_straddle_trials():
    session = make_session()
    config = PreprocessConfig(placement="sliding", window_bins=30, stride_bins=7)
    windows = session_to_windows(session, config)
    assert len(windows) > 10
    trials = session.trials
    ends = windows.t_start + 30 * 0.02
    assert np.all(windows.t_start >= trials.start[windows.trial] - 1e-9)
    assert np.all(ends <= trials.stop[windows.trial] + 1e-9)
    # every trial is used and windows step by the stride inside it
    np.testing.assert_array_equal(np.unique(windows.trial), [0, 1, 2])
    np.testing.assert_allclose(np.diff(windows.t_start[windows.trial == 0]), 7 * 0.02)


def test_continuous_recording_cut_into_segments():
    session = make_session(trials=Trials.single(0.0, 6.0))
    windows = session_to_windows(
        session,
        PreprocessConfig(window_bins=50, placement="sliding", stride_bins=10, segment_bins=100),
    )
    # 300 bins -> 3 segments of 100 bins, 6 windows each (starts 0..50 step 10)
    np.testing.assert_array_equal(np.bincount(windows.trial), [6, 6, 6])
    seg_start = windows.trial * 100 * 0.02
    assert np.all(windows.t_start >= seg_start - 1e-9)
    assert np.all(windows.t_start + 1.0 <= seg_start + 2.0 + 1e-9)
    default = session_to_windows(session, PreprocessConfig(window_bins=50))
    np.testing.assert_array_equal(default.trial, np.arange(6))  # one window per segment


def test_count_only_session_rebinning_rule():
    rng = np.random.default_rng(1)
    counts = rng.poisson(1.0, size=(200, 4)).astype(np.uint8)
    times = 0.025 + 0.05 * np.arange(200)
    session = Session(
        0.0,
        10.0,
        np.stack([times, -times], axis=1),
        times,
        Trials.single(0.0, 10.0),
        SessionMeta(),
        spike_counts=counts,
        count_bin_s=0.05,
        count_t_start=0.0,
    ).validate()
    native = session_to_windows(session, PreprocessConfig(bin_s=0.05, window_bins=40))
    np.testing.assert_array_equal(native.spikes[0], counts[:40].T)
    coarse = session_to_windows(session, PreprocessConfig(bin_s=0.1, window_bins=20))
    np.testing.assert_array_equal(coarse.spikes[0, :, 0], counts[0].astype(int) + counts[1])
    with pytest.raises(DataError, match="50 ms counts cannot be binned to 20 ms"):
        session_to_windows(session, PreprocessConfig(bin_s=0.02))


def test_sessions_to_windows_stacks_days():
    sessions = [make_session(day=d, seed=d) for d in (0, 1, 4)]
    windows = sessions_to_windows(sessions, PreprocessConfig(window_bins=25))
    np.testing.assert_array_equal(windows.days, [0, 1, 4])
    assert [s["day"] for s in windows.info["sessions"]] == [0, 1, 4]
    assert windows.info["preprocess"]["window_bins"] == 25
    again = sessions_to_windows(sessions, PreprocessConfig(window_bins=25))
    np.testing.assert_array_equal(again.spikes, windows.spikes)
    with pytest.raises(DataError, match="no windows"):
        sessions_to_windows(sessions, PreprocessConfig(window_bins=1000))


def test_config_validation_and_dict_round_trip():
    config = PreprocessConfig(placement="sliding", stride_bins=5, behavior_fields=["x"])
    assert PreprocessConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="placement"):
        PreprocessConfig(placement="diagonal")  # type: ignore[arg-type]


def test_placement_old_name_align_still_reads():
    """``align`` was the old name of ``placement``: settings saved with it load the same."""
    new = PreprocessConfig(placement="sliding", stride_bins=5)
    assert PreprocessConfig(align="sliding", stride_bins=5) == new
    saved = {k: v for k, v in new.to_dict().items() if k != "placement"}
    assert "align" not in new.to_dict()
    assert PreprocessConfig.from_dict({**saved, "align": "sliding"}) == new


# ---------------------------------------------------------------------- normalisation
def test_norm_stats_pooled_and_per_day():
    sessions = [make_session(day=d, seed=d) for d in (0, 1)]
    windows = sessions_to_windows(sessions, PreprocessConfig(window_bins=25))
    stats = NormStats.fit(windows)
    z = stats.transform(windows)
    np.testing.assert_allclose(z.spikes.mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(z.behavior.std(axis=(0, 2)), 1, atol=1e-5)
    np.testing.assert_allclose(stats.inverse_behavior(z.behavior), windows.behavior, atol=1e-5)

    per_day = NormStats.fit(windows, per_day=True)
    z1 = per_day.transform_spikes(windows.spikes[windows.day == 1], day=1)
    np.testing.assert_allclose(z1.mean(axis=(0, 2)), 0, atol=1e-5)
    new_day = session_to_windows(make_session(day=7, seed=7), PreprocessConfig(window_bins=25))
    with pytest.raises(DataError, match=r"no spike statistics for day\(s\) \[7\]"):
        per_day.transform(new_day)
    adapted = per_day.fit_new_day(new_day)
    assert 7 in adapted.day_spike_mean and 7 not in per_day.day_spike_mean
    restored = NormStats.from_dict(json.loads(json.dumps(adapted.to_dict())))
    np.testing.assert_array_equal(restored.day_spike_std[7], adapted.day_spike_std[7])
    np.testing.assert_array_equal(
        restored.transform(new_day).spikes, adapted.transform(new_day).spikes
    )


# ---------------------------------------------------------------------- windows files
def test_windows_file_round_trip_compact(tmp_path: Path):
    windows = sessions_to_windows(
        [make_session(day=d, seed=d) for d in (0, 2)], PreprocessConfig(window_bins=25)
    )
    path = save_windows(windows, tmp_path / "w.npz")
    with np.load(path) as raw:
        assert raw["spikes"].dtype == np.uint8
    loaded = load_windows(path)
    for name in ("spikes", "behavior", "day", "trial", "t_start", "target"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(windows, name))
    assert loaded.info == windows.info and loaded.channel_ids == windows.channel_ids
    with pytest.raises(FileExistsError):
        save_windows(windows, path)
    z = NormStats.fit(windows).transform(windows)  # non-integer spikes stay float32
    loaded_z = load_windows(save_windows(z, tmp_path / "z.npz"))
    np.testing.assert_array_equal(loaded_z.spikes, z.spikes)


def test_windows_file_bad_files(tmp_path: Path):
    with pytest.raises(FileFormatError, match="file not found"):
        load_windows(tmp_path / "none.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(FileFormatError, match="not a windows file"):
        load_windows(tmp_path / "other.npz")
    windows = session_to_windows(make_session(), PreprocessConfig(window_bins=25))
    data = save_windows(windows, tmp_path / "w.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="truncated or corrupt"):
        load_windows(tmp_path / "cut.npz")


# ---------------------------------------------------------------------- CLI
def test_cli_preprocess_nwb(tmp_path: Path):
    from click.testing import CliRunner

    from alignnet.cli.data_preprocess import preprocess
    from alignnet.data.io import save_session

    save_session(make_session(day=2), tmp_path / "day2.nwb")
    out = tmp_path / "w.npz"
    args = [str(tmp_path / "day2.nwb"), "--out", str(out), "--window-bins", "25"]
    result = CliRunner().invoke(preprocess, args)
    assert result.exit_code == 0, result.output
    assert "3 windows, C=3, D=2, L=25" in result.output
    assert "day   2 day2: 3 windows" in result.output
    assert load_windows(out).info["preprocess"]["window_bins"] == 25
    again = CliRunner().invoke(preprocess, args)
    assert again.exit_code != 0 and "--overwrite" in again.output
    # --placement, and its old hidden name --align, cut sliding windows
    for flag in ("--placement", "--align"):
        cut = tmp_path / f"s{flag.strip('-')}.npz"
        sliding = [*args[:2], str(cut), *args[3:], flag, "sliding", "--stride-bins", "5"]
        result = CliRunner().invoke(preprocess, sliding)
        assert result.exit_code == 0, result.output
        assert load_windows(cut).info["preprocess"]["placement"] == "sliding"
    assert "--align" not in CliRunner().invoke(preprocess, ["--help"]).output


def test_cli_module_imports_no_torch():
    code = "import sys, alignnet.cli.data_preprocess; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_norm_stats_estimator_rules():
    """``unseen_day="own"``, adding days, count stats, legacy estimator dicts."""
    rng = np.random.default_rng(0)
    spikes = rng.poisson(1.5, (12, 4, 6)).astype(np.float32)
    spikes[:, 3] = 2.0  # constant channel: std floored to 1
    behavior = rng.standard_normal((12, 2, 6)).astype(np.float32)
    day = np.repeat([0, 1], 6)
    stats = NormStats.fit_arrays(spikes, behavior, day=day, per_day=True, unseen_day="own")
    np.testing.assert_array_equal(stats.count_mean, spikes.mean(axis=(0, 2), dtype=np.float64))
    assert stats.day_spike_std[0][3] == 1.0 and stats.knows(1) and not stats.knows(5)
    new = rng.poisson(3.0, (5, 4, 6)).astype(np.float32)
    z = stats.transform_spikes(new, day=5)  # unseen day: its own statistics
    np.testing.assert_allclose(z[:, :3].mean(axis=(0, 2)), 0, atol=1e-5)
    with pytest.raises(DataError, match=r"day\(s\) \[5\]"):
        dataclasses.replace(stats, unseen_day="raise").transform_spikes(new, day=5)
    added = stats.with_new_days(np.concatenate([spikes, new]), day=np.r_[day, [5] * 5])
    np.testing.assert_array_equal(added.day_spike_mean[0], stats.day_spike_mean[0])
    np.testing.assert_array_equal(added.transform_spikes(new, day=5), z)
    legacy = {  # the dict older AlignNet checkpoints stored under "normalizer"
        "per_day": True,
        "days": [0, 1],
        "spike_mean": [stats.day_spike_mean[d].tolist() for d in (0, 1)],
        "spike_std": [stats.day_spike_std[d].tolist() for d in (0, 1)],
        "behavior_mean": stats.behavior_mean.tolist(),
        "behavior_std": stats.behavior_std.tolist(),
        "count_mean": stats.count_mean.tolist(),
        "count_std": stats.count_std.tolist(),
    }
    restored = NormStats.from_dict(legacy)
    assert restored.unseen_day == "own"
    both = np.concatenate([spikes, new])
    days = np.r_[day, [5] * 5]
    np.testing.assert_array_equal(
        restored.transform_spikes(both, day=days), stats.transform_spikes(both, day=days)
    )
    assert NormStats.from_dict(stats.to_dict()).unseen_day == "own"
