"""Real-time use: bin-by-bin streaming decoding and export to TorchScript / ONNX."""

from alignnet.realtime.stats import spike_statistics
from alignnet.realtime.streaming import StreamingDecoder

__all__ = ["StreamingDecoder", "spike_statistics"]
