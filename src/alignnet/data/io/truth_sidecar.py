"""True rates beside a synthetic day's NWB file (``dayNN.true_rates``, an ``.npz`` archive
under a suffix no session reader takes), so NWB presets read back with their ceiling.

NWB files hold the sorted units, not the generator's truth. `write_truth_sidecar` stores the
day's ``channel_rate`` / ``channel_rate_latent`` (per electrode, see
`alignnet.data.synthetic.truth`); `attach_truth_sidecar` puts them back into the session's
``ground_truth`` when the file was read with the ``electrode`` channel policy (electrodes are
the generator's channels). Under the ``unit`` policy the channels are sorted units, for which
no per-unit truth is stored: the session then has no true rates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.session import Session
from alignnet.utils.atomic import atomic_path

SUFFIX = ".true_rates"
_KEYS = ("channel_rate", "channel_rate_latent", "channel_rate_bin_s", "channel_rate_t_start")


def truth_path(nwb_path: str | Path) -> Path:
    """``dayNN.nwb`` -> ``dayNN.true_rates``."""
    return Path(nwb_path).with_suffix(SUFFIX)


def write_truth_sidecar(session: Session, nwb_path: str | Path, *, overwrite: bool) -> Path | None:
    """Write the session's true rates beside ``nwb_path``; None when it has none."""
    gt = session.ground_truth or {}
    if not all(k in gt for k in _KEYS):
        return None
    path = truth_path(nwb_path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as handle:
            arrays: dict[str, Any] = {k: np.asarray(gt[k]) for k in _KEYS}
            np.savez_compressed(handle, **arrays)
    return path


def attach_truth_sidecar(session: Session, nwb_path: str | Path) -> Session:
    """``session`` with the sidecar's true rates in ``ground_truth`` (electrode policy, same
    channel count), else unchanged. A damaged sidecar is ignored (the truth is optional)."""
    path = truth_path(nwb_path)
    if not path.is_file() or session.meta.channel_policy != "electrode":
        return session
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            truth = {k: data[k] for k in _KEYS}
    except (OSError, ValueError, KeyError, EOFError):
        return session
    if truth["channel_rate"].ndim != 2 or truth["channel_rate"].shape[1] != session.n_channels:
        return session
    return session.replace(ground_truth={**(session.ground_truth or {}), **truth})
