"""`alignnet.data.checks.check_array`: the one finite-values and shape check."""

from __future__ import annotations

import numpy as np
import pytest

from alignnet.data.checks import check_array
from alignnet.errors import DataError
from alignnet.realtime.stats import z_score_block


def test_shape_and_finite_values_are_checked() -> None:
    a = np.zeros((5, 3), dtype=np.float32)
    assert check_array(a, field="x", shape=(None, 3)) is a
    with pytest.raises(DataError, match=r"expected \[T, 4\] counts, got shape \(5, 3\)"):
        check_array(a, field="x", shape=(None, 4), expected="[T, 4] counts")
    with pytest.raises(DataError, match=r"expected \('\*', 3\)"):
        check_array(a[0], field="x", shape=(None, 3))
    a[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN or inf") as info:
        check_array(a, field="counts", source="here")
    assert "counts" in str(info.value)


def test_block_z_scores_in_float64_then_float32() -> None:
    counts = np.array([[1.0, 2.0], [3.0, 5.0]], dtype=np.float32)
    mean, std = np.array([1.0, 2.0]), np.array([2.0, 3.0])
    z = z_score_block(counts, spike_mean=mean, spike_std=std, source="t")
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z, ((counts - mean) / std).astype(np.float32))
    with pytest.raises(DataError, match="NaN"):
        z_score_block(counts * np.inf, spike_mean=mean, spike_std=std, source="t")
