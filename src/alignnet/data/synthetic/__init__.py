"""Synthetic multi-day recordings with known ground truth (the project's built-in data).

Same shape as the paper's data (64 channels, 30 kHz spike clock, 1 kHz 2-D joystick,
8-direction centre-out reaches, trials >= 2 s), with day-to-day drift of the recorded
population so that cross-day decoding is a real problem.

Example:
    >>> from alignnet.data.synthetic import make_config, generate_sessions
    >>> sessions = generate_sessions(make_config("tiny"), seed=0)
    >>> reach = generate_sessions(make_config("reach"), seed=0)  # the reaching regime
"""

from alignnet.data.synthetic.config import (
    PRESETS,
    BehaviorConfig,
    DriftConfig,
    NeuronConfig,
    SyntheticConfig,
    VoltageConfig,
    make_config,
)
from alignnet.data.synthetic.generate import generate_sessions, iter_sessions
from alignnet.data.synthetic.neurons import LATENT_NAMES
from alignnet.data.synthetic.reach_config import REACH_PRESETS, ReachConfig

__all__ = [
    "LATENT_NAMES",
    "PRESETS",
    "REACH_PRESETS",
    "BehaviorConfig",
    "DriftConfig",
    "NeuronConfig",
    "ReachConfig",
    "SyntheticConfig",
    "VoltageConfig",
    "generate_sessions",
    "iter_sessions",
    "make_config",
]
