"""Preprocessing (paper section 3.1): binning (eq. 2), behaviour resampling (eq. 1) and
Gaussian smoothing (eq. 3), windowing into `Windows`, and normalisation statistics."""

from alignnet.data.preprocess.behavior import (
    bin_centres,
    gaussian_kernel,
    gaussian_smooth,
    resample_behavior,
)
from alignnet.data.preprocess.binning import (
    bin_edges,
    bin_session_spikes,
    bin_spike_times,
    rebin_counts,
)
from alignnet.data.preprocess.choice import preprocess_config_for
from alignnet.data.preprocess.normalization import NormStats
from alignnet.data.preprocess.windowing import (
    PreprocessConfig,
    session_to_windows,
    sessions_to_windows,
)

__all__ = [
    "NormStats",
    "PreprocessConfig",
    "bin_centres",
    "bin_edges",
    "bin_session_spikes",
    "bin_spike_times",
    "gaussian_kernel",
    "gaussian_smooth",
    "preprocess_config_for",
    "rebin_counts",
    "resample_behavior",
    "session_to_windows",
    "sessions_to_windows",
]
