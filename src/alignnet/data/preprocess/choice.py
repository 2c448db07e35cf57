"""One rule, shared by every command, for the bin width sessions are windowed at.

Sessions with spike times can be binned at any width: they get the paper's 20 ms
(`PreprocessConfig` defaults). A count-only session (the 50 ms ``.mat`` recordings) can only
be summed into multiples of its own bin, so it is windowed at that width, in 100-bin windows.
`alignnet pretrain/finetune/decode/...` and `alignnet benchmark --data` all use
`preprocess_config_for`, so a recording that one command accepts, every command accepts.
"""

from __future__ import annotations

from collections.abc import Sequence

from alignnet.data.preprocess.windowing import PreprocessConfig
from alignnet.data.session import Session
from alignnet.errors import DataError

DEFAULT_WINDOW_BINS = 100


def preprocess_config_for(sessions: Sequence[Session]) -> PreprocessConfig:
    """The `PreprocessConfig` every command uses for ``sessions`` (see the module docstring).

    Raises:
        DataError: count-only sessions of different bin widths (no common width).
    """
    widths = sorted(
        {round(float(s.count_bin_s or 0.0), 9) for s in sessions if not s.has_spike_times}
    )
    if not widths:
        return PreprocessConfig()
    if len(widths) > 1:
        ms = ", ".join(f"{w * 1e3:g} ms" for w in widths)
        raise DataError(
            f"count-only sessions with different bin widths ({ms}); preprocess them separately",
            field="count_bin_s",
        )
    return PreprocessConfig(bin_s=widths[0], window_bins=DEFAULT_WINDOW_BINS)
