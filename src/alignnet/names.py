"""Every name the project spells out in more than one place, defined once.

Model rows of the benchmark, evaluation protocols, tasks and spiking-neuron kinds. This
module sits at the bottom layer (it imports nothing), so the models, the configuration, the
benchmark, the figures and the command line all read their names from here.
"""

from __future__ import annotations

from typing import Literal

# ---------------------------------------------------------------------- tasks
DECODE = "decode"
SIMULATE = "simulate"
#: What a model can be fitted for: spikes -> behaviour, behaviour -> spike rates.
TASKS: frozenset[str] = frozenset({DECODE, SIMULATE})
Task = Literal["decode", "simulate"]

# ---------------------------------------------------------------------- neuron kinds
LIF = "lif"
BITPLANE = "bitplane"
RELU = "relu"
#: Activations of AlignNet's spike branch (``ModelConfig.neuron``).
NEURONS: tuple[str, ...] = (LIF, BITPLANE, RELU)
Neuron = Literal["lif", "bitplane", "relu"]

# ---------------------------------------------------------------------- protocols
SINGLE_DAY = "single-day"
CROSS_DAY = "cross-day"
FEW_SHOT = "few-shot"
DAYS_APART = "days-apart"
CONTIGUOUS = "contiguous"
#: Protocols of multi-day (trial-structured) data, in the order the benchmark runs them.
SYNTHETIC_PROTOCOLS: tuple[str, ...] = (SINGLE_DAY, CROSS_DAY, FEW_SHOT, DAYS_APART)
#: Every protocol (``contiguous``: one continuous recording without trials).
PROTOCOLS: tuple[str, ...] = SYNTHETIC_PROTOCOLS + (CONTIGUOUS,)

# ---------------------------------------------------------------------- model rows
#: The AlignNet row of each neuron kind.
ROW_OF_NEURON: dict[str, str] = {
    LIF: "AlignNet-LIF",
    BITPLANE: "AlignNet-bitplane",
    RELU: "AlignNet-ANN",
}
ALIGNNET_ROWS: tuple[str, ...] = tuple(ROW_OF_NEURON[n] for n in NEURONS)
#: AlignNet (LIF) aligning every day it was not trained on from that day's unlabelled spikes.
ALIGNED_ROW = "AlignNet-aligned"
#: AlignNet (LIF) whose output at bin t reads only bins <= t (closed loop).
CAUSAL_ROW = "AlignNet-causal"
BASELINE_ROWS: tuple[str, ...] = (
    "Wiener", "GRU", "MLP", "ResNet", "ResNet+UNet", "PoissonGLM", "BehaviorMLP",
)  # fmt: skip
#: Rows that need an optional dependency.
OPTIONAL_ROWS: tuple[str, ...] = ("CEBRA",)
#: Rows run only when named: AlignNet aligning new days, and the stabilised linear decoders.
ALIGNMENT_ROWS: tuple[str, ...] = (ALIGNED_ROW, "FA+Procrustes", "CCA-align")
#: The causal AlignNet, run only when named.
CAUSAL_ROWS: tuple[str, ...] = (CAUSAL_ROW,)
#: Every row of the benchmark.
ALL_MODELS: tuple[str, ...] = (
    ALIGNNET_ROWS + BASELINE_ROWS + OPTIONAL_ROWS + ALIGNMENT_ROWS + CAUSAL_ROWS
)
#: Rows run when none are named.
DEFAULT_MODELS: tuple[str, ...] = ALIGNNET_ROWS + BASELINE_ROWS
#: Every AlignNet-backed row.
ALIGNNET_BACKED_ROWS: tuple[str, ...] = ALIGNNET_ROWS + (ALIGNED_ROW, CAUSAL_ROW)
#: Order in which figures pick the model they feature (first present wins).
FEATURED_ORDER: tuple[str, ...] = (ROW_OF_NEURON[LIF], ROW_OF_NEURON[RELU], ROW_OF_NEURON[BITPLANE])

__all__ = [
    "ALIGNED_ROW", "ALIGNMENT_ROWS", "ALIGNNET_BACKED_ROWS", "ALIGNNET_ROWS", "ALL_MODELS",
    "BASELINE_ROWS", "BITPLANE", "CAUSAL_ROW", "CAUSAL_ROWS", "CONTIGUOUS", "CROSS_DAY",
    "DAYS_APART", "DECODE", "DEFAULT_MODELS", "FEATURED_ORDER", "FEW_SHOT", "LIF", "NEURONS",
    "Neuron", "OPTIONAL_ROWS", "PROTOCOLS", "RELU", "ROW_OF_NEURON", "SIMULATE", "SINGLE_DAY",
    "SYNTHETIC_PROTOCOLS", "TASKS", "Task",
]  # fmt: skip
