"""Loopback-only Lab Streaming Layer for the tests: every packet stays on 127.0.0.1.

liblsl reads its configuration once per process, so the first call of `loopback_env` fixes
it for the whole test process; the same file is handed to every process a test starts
(``LSLAPICFG``). Each test process gets its own LSL session id, so parallel runs on one
machine never see each other's streams.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from alignnet.data.session import Session, SessionMeta, Trials
from alignnet.realtime.lsl_config import CONFIG_ENV, loopback_config, use_config

_SESSION = f"alignnet-test-{uuid.uuid4().hex[:12]}"


def loopback_env(folder: Path) -> dict[str, str]:
    """Write the loopback configuration (once), point this process at it; returns the
    environment for child processes."""
    if CONFIG_ENV not in os.environ or _SESSION not in Path(os.environ[CONFIG_ENV]).name:
        path = loopback_config(Path(folder) / f"{_SESSION}.cfg", session_id=_SESSION)
        use_config(path)
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    return env


def unique(name: str) -> str:
    """A stream name no other test uses."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def counts_session(counts: np.ndarray, *, day: int, bin_s: float = 0.02) -> Session:
    """A count-only session holding ``counts [T, C]`` (behaviour: zeros), for the replay."""
    n_bins = counts.shape[0]
    t_stop = n_bins * bin_s
    times = (np.arange(n_bins) + 0.5) * bin_s
    return Session(
        t_start=0.0,
        t_stop=t_stop,
        behavior=np.zeros((n_bins, 2)),
        behavior_times=times,
        trials=Trials.single(0.0, t_stop),
        meta=SessionMeta(day=day, session_id=f"replay-day{day}"),
        spike_counts=counts.astype(np.int64),
        count_bin_s=bin_s,
        count_t_start=0.0,
    )
