"""Where the benchmark's windows come from: a synthetic preset or a recording on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignnet.data.windows import Windows
from alignnet.names import ChannelPolicy


def load_benchmark_windows(
    data: str,
    *,
    preset: str,
    data_seed: int = 0,
    progress: bool = False,
    channels: ChannelPolicy = "auto",
    read_options: dict[str, Any] | None = None,
) -> tuple[Windows, dict[str, Any]]:
    """Windows for ``data`` = ``"synthetic"`` (the generator's ``preset``) or a file/folder path.

    Synthetic days come from `alignnet.data.synthetic.iter_sessions` (one day in memory at a
    time; the windows keep the generator's true rates) and the default
    `PreprocessConfig` (20 ms bins, 100-bin trial windows). A path goes through
    `alignnet.data.io.load_sessions` and `alignnet.data.preprocess.preprocess_config_for` (the
    rule of every command): a 50 ms-binned recording (the Stevenson M1 and Miller S1 ``.mat``
    files) is cut into back-to-back 100-bin windows at its own bin width.

    Returns:
        ``(windows, info)``; ``info`` records the source, settings and whether the data are one
        continuous recording (then only the ``contiguous`` protocol applies).

    ``channels`` is the channel policy for sorted units in NWB files (``"auto"``,
    ``"electrode"``, ``"unit"``; see `alignnet.data.io.nwb_channels`); ``read_options`` the
    other `alignnet.data.io.load_sessions` keywords (``behavior``, ``max_gap_s``,
    ``missing_value``).
    """
    from alignnet.data.preprocess import (
        PreprocessConfig,
        preprocess_config_for,
        sessions_to_windows,
    )

    if data == "synthetic":
        from tqdm.auto import tqdm

        from alignnet.data.synthetic import iter_sessions, make_config

        config = make_config(preset)
        prep = PreprocessConfig()
        info: dict[str, Any] = {
            "source": f"synthetic preset {preset!r}",
            "generator": config.to_dict(),
        }
        # One day in memory at a time: a day's true rates (5 ms) are larger than its windows.
        parts, sessions = [], []
        days = tqdm(
            iter_sessions(config, seed=data_seed),
            desc="synthetic days",
            unit="day",
            disable=not progress,
        )
        for session in days:
            parts.append(sessions_to_windows([session], prep))
            sessions.append(session.replace(ground_truth={}, spike_times=[]))
        windows = Windows.concatenate(parts)
        windows.info = {
            "preprocess": prep.to_dict(),
            "sessions": [p.info["sessions"][0] for p in parts],
        }
    else:
        from alignnet.data.io import load_sessions

        sessions = load_sessions(Path(data), channels=channels, **(read_options or {}))
        prep = preprocess_config_for(sessions)  # the rule every command shares
        info = {"source": str(data), "channels_requested": channels, **(read_options or {})}
        info["channel_policy_reason"] = sessions[0].meta.extra.get("channel_policy_reason", "")
        info["dropped_behavior_gaps"] = 0
        windows = sessions_to_windows(sessions, prep, progress=progress)
    if "dropped_behavior_gaps" in info:
        info["dropped_behavior_gaps"] = sum(
            int(s.get("dropped_behavior_gaps", 0)) for s in windows.info.get("sessions", [])
        )
    continuous = all(len(s.trials) == 1 for s in sessions)
    info.update(
        {
            "data_seed": data_seed,
            "preprocess": prep.to_dict(),
            "n_days": len(sessions),
            "continuous": continuous,
            "shape": {
                "windows": len(windows),
                "channels": windows.n_channels,
                "behavior_dims": windows.n_behavior_dims,
                "window_bins": windows.window_len,
                "bin_s": windows.bin_s,
            },
            "behavior_names": list(windows.behavior_names),
            "channel_policy": windows.channel_policy,
            "channels_per_day": {str(d): n for d, n in windows.channel_counts().items()},
            "dates": {str(s.meta.day): s.meta.date for s in sessions},
        }
    )
    return windows, info
