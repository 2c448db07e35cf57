"""Loaders of the two real 50 ms recordings in ../shared/data (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alignnet.data.io import load_session
from alignnet.data.io.mat import load_miller_s1, load_stevenson_m1
from alignnet.data.preprocess import PreprocessConfig, session_to_windows
from alignnet.errors import DataError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
M1 = DATA / "m1_stevenson_2011.mat"
S1 = DATA / "s1_data.mat"
needs_m1 = pytest.mark.skipif(
    not M1.is_file(), reason="../shared/data/m1_stevenson_2011.mat absent"
)
needs_s1 = pytest.mark.skipif(not S1.is_file(), reason="../shared/data/s1_data.mat absent")


@needs_m1
def test_stevenson_m1():
    import scipy.io

    session = load_stevenson_m1(M1)
    raw = scipy.io.loadmat(str(M1))
    assert session.spike_counts.shape == (15536, 171)
    # uint8 in the file: the total must not wrap around
    assert int(session.spike_counts.sum()) == int(raw["spikes"].astype(np.int64).sum())
    assert session.spike_counts.max() == 26
    assert session.n_behavior_dims == 2 and session.meta.behavior_unit == "m/s"
    np.testing.assert_array_equal(session.behavior, raw["handVel"][:2].T)
    assert session.count_bin_s == 0.05
    assert session.duration == pytest.approx(776.8)
    assert session.t_start == pytest.approx(12.591 - 0.025)
    assert len(session.trials) == 1
    pos = load_session(M1, target="pos")
    assert pos.meta.behavior_unit == "m" and pos.behavior[:, 1].max() < -0.2


@needs_s1
def test_miller_s1():
    session = load_miller_s1(S1)
    assert session.spike_counts.shape == (35129, 52)
    assert session.meta.behavior_unit == "cm/s" and session.t_start == 0.0
    assert session.duration == pytest.approx(1756.45)
    assert load_session(S1, target="pos").meta.behavior_unit == "cm"


@needs_s1
def test_real_counts_window_at_native_width_only():
    session = load_session(S1)
    windows = session_to_windows(session, PreprocessConfig(bin_s=0.05, smooth_sigma_bins=0))
    assert windows.spikes.shape == (351, 52, 100)  # 35129 bins -> 351 segments of 100
    np.testing.assert_array_equal(windows.spikes[1], session.spike_counts[100:200].T)
    np.testing.assert_allclose(windows.behavior[1], session.behavior[100:200].T, rtol=1e-6)
    np.testing.assert_array_equal(windows.trial, np.arange(351))
    with pytest.raises(DataError, match="50 ms counts cannot be binned to 20 ms"):
        session_to_windows(session, PreprocessConfig(bin_s=0.02))
