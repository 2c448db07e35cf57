"""Every name the project spells out in more than one place, defined once.

Model rows of the benchmark, evaluation protocols, tasks and spiking-neuron kinds. This
module sits at the bottom layer (it imports nothing), so the models, the configuration, the
benchmark, the figures and the command line all read their names from here.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# Each closed set of names is one Literal type; its tuple of values (CLI choices, table order)
# is derived from it with ``get_args``, never retyped.

# ---------------------------------------------------------------------- tasks
DECODE: Final = "decode"
SIMULATE: Final = "simulate"
#: What a model can be fitted for: spikes -> behaviour, behaviour -> spike rates.
Task = Literal["decode", "simulate"]
TASK_NAMES: tuple[Task, ...] = get_args(Task)
TASKS: frozenset[str] = frozenset(TASK_NAMES)

# ---------------------------------------------------------------------- neuron kinds
LIF: Final = "lif"
BITPLANE: Final = "bitplane"
RELU: Final = "relu"
#: Activations of AlignNet's spike branch (``ModelConfig.neuron``).
Neuron = Literal["lif", "bitplane", "relu"]
NEURONS: tuple[Neuron, ...] = get_args(Neuron)
#: How the spike branch's spiking layers see time (``ModelConfig.snn_layout``).
#: Temporal context at the behaviour decoder's bottleneck (`alignnet.models.context`).
ContextKind = Literal["none", "tcn", "gru"]
CONTEXT_KINDS: tuple[ContextKind, ...] = get_args(ContextKind)
SnnLayout = Literal["temporal", "2d"]
SNN_LAYOUTS: tuple[SnnLayout, ...] = get_args(SnnLayout)
#: AlignNet recipes (``alignnet.config.ARCHS``): this version's and the paper reading.
Arch = Literal["default", "paper"]
ARCH_NAMES: tuple[Arch, ...] = get_args(Arch)

# ---------------------------------------------------------------------- data
#: How sorted units in NWB files become channels, as asked for (``--channels``).
ChannelPolicy = Literal["auto", "electrode", "unit"]
CHANNEL_POLICIES: tuple[ChannelPolicy, ...] = get_args(ChannelPolicy)
#: How a recording's channels were formed, the policy applied when it was read
#: (``Session.meta.channel_policy``, ``Windows.channel_policy``, ``DayRegistry``): NWB sorted
#: units summed per ``"electrode"`` or one channel per ``"unit"``; ``"fixed"``: the source's
#: own channels (binned counts, a generator, AlignNet's own files). Files written before it
#: had this name say ``"channel"``; `applied_policy` reads that as ``"fixed"``.
AppliedPolicy = Literal["electrode", "unit", "fixed"]
FIXED_CHANNELS: Final = "fixed"


def applied_policy(stored: str) -> str:
    """A stored applied channel policy in today's vocabulary (``"channel"`` -> ``"fixed"``)."""
    return FIXED_CHANNELS if stored == "channel" else stored


# ---------------------------------------------------------------------- protocols
SINGLE_DAY: Final = "single-day"
CROSS_DAY: Final = "cross-day"
FEW_SHOT: Final = "few-shot"
DAYS_APART: Final = "days-apart"
CONTIGUOUS: Final = "contiguous"
#: Evaluation protocols, in the order the benchmark runs them (``contiguous``: one continuous
#: recording without trials).
Protocol = Literal["single-day", "cross-day", "few-shot", "days-apart", "contiguous"]
PROTOCOLS: tuple[Protocol, ...] = get_args(Protocol)
#: Protocols of multi-day (trial-structured) data.
SYNTHETIC_PROTOCOLS: tuple[Protocol, ...] = PROTOCOLS[:-1]

# ---------------------------------------------------------------------- benchmark, FALCON, export
#: Benchmark presets (``alignnet.evaluation.presets.PRESETS``).
Preset = Literal[
    "tiny", "demo", "standard", "reach", "reach-position", "reach-emg", "reach-days",
    "reach-position-days", "paper",
]  # fmt: skip
PRESET_NAMES: tuple[Preset, ...] = get_args(Preset)
#: FALCON tasks (``alignnet.realtime.falcon``).
FalconTaskName = Literal["m1", "m2", "h1"]
FALCON_TASKS: tuple[FalconTaskName, ...] = get_args(FalconTaskName)
#: Export formats and ONNX exporters (``alignnet.realtime.export``).
ExportFormat = Literal["onnx", "torchscript"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
OnnxExporter = Literal["auto", "dynamo", "torchscript"]
ONNX_EXPORTERS: tuple[OnnxExporter, ...] = get_args(OnnxExporter)

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
#: The paper's acausal window model (LIF): its output at bin t also reads the later bins of
#: its window (the AlignNet-* rows above are causal: output bin t reads only bins <= t).
WINDOW_ROW = "AlignNet-window"
BASELINE_ROWS: tuple[str, ...] = (
    "Wiener", "GRU", "MLP", "ResNet", "ResNet+UNet", "PoissonGLM", "BehaviorMLP",
)  # fmt: skip
#: Rows that need an optional dependency.
OPTIONAL_ROWS: tuple[str, ...] = ("CEBRA",)
#: Rows run only when named: AlignNet aligning new days, and the stabilised linear decoders.
ALIGNMENT_ROWS: tuple[str, ...] = (ALIGNED_ROW, "FA+Procrustes", "CCA-align")
#: Every row of the benchmark.
ALL_MODELS: tuple[str, ...] = (
    ALIGNNET_ROWS + (WINDOW_ROW,) + BASELINE_ROWS + OPTIONAL_ROWS + ALIGNMENT_ROWS
)
#: Rows run when none are named (the acausal window model runs when named:
#: ``--models AlignNet-window``).
DEFAULT_MODELS: tuple[str, ...] = ALIGNNET_ROWS + BASELINE_ROWS
#: Every AlignNet-backed row.
ALIGNNET_BACKED_ROWS: tuple[str, ...] = ALIGNNET_ROWS + (ALIGNED_ROW, WINDOW_ROW)
#: Order in which figures pick the model they feature (first present wins).
FEATURED_ORDER: tuple[str, ...] = (ROW_OF_NEURON[LIF], ROW_OF_NEURON[RELU], ROW_OF_NEURON[BITPLANE])

__all__ = [
    "ARCH_NAMES", "AppliedPolicy", "Arch", "CHANNEL_POLICIES", "ChannelPolicy", "FIXED_CHANNELS",
    "applied_policy", "EXPORT_FORMATS", "ExportFormat",
    "FALCON_TASKS", "FalconTaskName", "ONNX_EXPORTERS", "OnnxExporter", "PRESET_NAMES", "Preset",
    "Protocol", "SNN_LAYOUTS", "SnnLayout", "TASK_NAMES",
    "ALIGNED_ROW", "ALIGNMENT_ROWS", "CONTEXT_KINDS", "ContextKind", "ALIGNNET_BACKED_ROWS", "ALIGNNET_ROWS", "ALL_MODELS",
    "BASELINE_ROWS", "BITPLANE", "CONTIGUOUS", "CROSS_DAY",
    "DAYS_APART", "DECODE", "DEFAULT_MODELS", "FEATURED_ORDER", "FEW_SHOT", "LIF", "NEURONS",
    "Neuron", "OPTIONAL_ROWS", "PROTOCOLS", "RELU", "ROW_OF_NEURON", "SIMULATE", "SINGLE_DAY",
    "SYNTHETIC_PROTOCOLS", "TASKS", "Task", "WINDOW_ROW",
]  # fmt: skip
