"""Moved to `alignnet.config` (the bottom layer); this name stays for older imports."""

from alignnet.config import ARCHS, AlignNetConfig, Layout, ModelConfig, Neuron, TrainConfig

__all__ = ["ARCHS", "AlignNetConfig", "Layout", "ModelConfig", "Neuron", "TrainConfig"]
