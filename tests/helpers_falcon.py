"""Tiny generated NWB files in the layout FALCON's loader reads for its M1 task.

FALCON M1 (`falcon_challenge.dataloaders.load_nwb`, task m1): ``units`` with spike times,
``acquisition["preprocessed_emg"]`` holding one TimeSeries per muscle (16) with timestamps at
the 20 ms bin ends, ``acquisition["eval_mask"]`` (bool per bin) and a trials table. 64 units.
File names follow DANDI 000941 (``sub-MonkeyL-held-in-<split>_ses-<date>_behavior+ecephys.nwb``)
so that `FalconConfig.hash_dataset` finds the session date.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

N_UNITS, N_MUSCLES, BIN_S = 64, 16, 0.02
HELD_IN = ("20120924", "20120926", "20120927", "20120928")


def _latents(n_bins: int, rng: np.random.Generator) -> np.ndarray:
    """``[T, 3]`` smooth latent drive (sums of slow sinusoids)."""
    t = np.arange(n_bins) * BIN_S
    freqs = rng.uniform(0.3, 1.2, size=(3, 2))
    phases = rng.uniform(0, 2 * np.pi, size=(3, 2))
    return np.stack(
        [
            np.sin(2 * np.pi * f * t[:, None] + p).sum(axis=1)
            for f, p in zip(freqs, phases, strict=True)
        ],
        1,
    )


def write_m1_file(path: Path, *, date: str, n_bins: int, seed: int) -> None:
    """One M1-layout NWB file of ``n_bins`` 20 ms bins (the mapping is shared by all files:
    fixed by ``seed=0`` weights, while the latent drive and the spikes depend on ``seed``)."""
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.behavior import BehavioralTimeSeries

    weights = np.random.default_rng(0)
    to_rates = weights.normal(scale=0.6, size=(3, N_UNITS))
    to_emg = weights.normal(size=(3, N_MUSCLES))
    rng = np.random.default_rng(seed)
    z = _latents(n_bins, rng)
    rates = np.exp(-0.3 + z @ to_rates)  # counts per bin
    counts = rng.poisson(rates)
    emg = np.log1p(np.exp(z @ to_emg))  # softplus: non-negative like EMG envelopes
    ends = 1.0 + BIN_S * (np.arange(n_bins) + 1)  # bin end times
    nwb = NWBFile(
        session_description="generated FALCON-M1-layout test file",
        identifier=f"{date}-{seed}",
        session_start_time=datetime(
            int(date[:4]), int(date[4:6]), int(date[6:]), tzinfo=timezone.utc
        ),
    )
    for u in range(N_UNITS):
        times = [
            ends[b] - BIN_S + BIN_S * (i + 0.5) / counts[b, u]
            for b in np.flatnonzero(counts[:, u])
            for i in range(counts[b, u])
        ]
        nwb.add_unit(spike_times=np.asarray(times, dtype=np.float64))
    container = BehavioralTimeSeries(name="preprocessed_emg")
    for m in range(N_MUSCLES):
        container.add_timeseries(
            TimeSeries(name=f"muscle{m:02d}", data=emg[:, m], timestamps=ends, unit="a.u.")
        )
    nwb.add_acquisition(container)
    mask = np.ones(n_bins, dtype=bool)
    mask[:5] = False  # like FALCON: some bins are not scored
    nwb.add_acquisition(TimeSeries(name="eval_mask", data=mask, timestamps=ends, unit="bool"))
    for start in range(0, n_bins - 49, 50):
        nwb.add_trial(start_time=ends[start] - BIN_S, stop_time=ends[start + 49])
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def write_m1_dataset(root: Path, *, n_bins: int = 400) -> Path:
    """``root/m1/minival/*.nwb`` (4 held-in sessions) and ``root/m1/calib/*.nwb`` (their
    calibration files); returns ``root``."""
    for split, offset in (("minival", 100), ("calib", 200)):
        folder = root / "m1" / split
        folder.mkdir(parents=True, exist_ok=True)
        for i, date in enumerate(HELD_IN):
            name = f"sub-MonkeyL-held-in-{split}_ses-{date}_behavior+ecephys.nwb"
            write_m1_file(folder / name, date=date, n_bins=n_bins, seed=offset + i)
    return root
