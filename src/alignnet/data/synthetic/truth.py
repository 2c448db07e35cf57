"""The true rates of a synthetic day: expected spike counts per channel on a fine grid.

Every generator knows the rate that drew each unit's spikes. A day keeps, in its
``ground_truth``, the expected count of every channel (the sum of its recorded units, plus
the behaviour-unrelated noise spikes of a noisy channel) in bins of `TRUTH_BIN_S` from the
recording's start:

- ``"channel_rate"``: ``[n_truth_bins, C]`` float16, expected spikes per bin given the
  behaviour and the task (the trial's target), *averaged over* the behaviour-unrelated
  fluctuations (the joystick generator's shared noise factor, the reaching generator's
  per-trial gains): the best prediction a behaviour -> spikes simulator can make;
- ``"channel_rate_latent"``: the same, *given* those fluctuations too: the rates that drew
  the spikes (a latent-state oracle; Poisson samples of it have the data's own statistics);
- ``"channel_rate_bin_s"``: the bin width, s; ``"channel_rate_t_start"``: its first edge, s.

`alignnet.data.preprocess.binning.bin_session_true_rates` sums them to the spike bins (any
whole multiple of 5 ms), so windows carry the best prediction any simulator could make
(`Windows.true_rates`, the *ceiling* of the simulation metrics, see docs/metrics.md).

The generators drop a spike that follows its predecessor closer than the refractory
period ``tau``; for a locally constant rate ``r`` this keeps a fraction ``exp(-r tau)``, so
the expected count of a grid cell of width ``dt`` is ``r dt exp(-r tau)``.
"""

from __future__ import annotations

import numpy as np

from alignnet.errors import DataError

TRUTH_BIN_S = 0.005


def expected_counts(rate_hz: np.ndarray, *, dt: float, refractory_s: float) -> np.ndarray:
    """Expected spikes per grid cell of width ``dt`` (s) for rates ``rate_hz`` (any shape)."""
    rate = np.asarray(rate_hz, dtype=np.float64)
    return rate * dt * np.exp(-rate * refractory_s)


def to_truth_grid(fine: np.ndarray, *, dt: float) -> np.ndarray:
    """Sum ``[n_fine, ...]`` per-cell expected counts (cells of ``dt`` s from 0) into
    `TRUTH_BIN_S` bins (a trailing partial bin is dropped).

    Raises:
        DataError: ``TRUTH_BIN_S`` is not a whole multiple of ``dt``.
    """
    factor = TRUTH_BIN_S / dt
    k = int(round(factor))
    if k < 1 or abs(factor - k) > 1e-6 * k:
        raise DataError(
            f"rate grid {dt * 1e3:g} ms does not divide {TRUTH_BIN_S * 1e3:g} ms",
            field="rate_dt_s",
            source="synthetic truth",
        )
    n = fine.shape[0] // k
    return fine[: n * k].reshape(n, k, *fine.shape[1:]).sum(axis=1)


def truth_entries(given_behavior: np.ndarray, latent: np.ndarray) -> dict[str, np.ndarray]:
    """The ``ground_truth`` entries of a day from ``[n_truth_bins, C]`` expected counts given
    the behaviour (averaged over the behaviour-unrelated fluctuations) and given the latent."""
    return {
        "channel_rate": np.asarray(given_behavior, dtype=np.float16),
        "channel_rate_latent": np.asarray(latent, dtype=np.float16),
        "channel_rate_bin_s": np.float64(TRUTH_BIN_S),
        "channel_rate_t_start": np.float64(0.0),
    }
