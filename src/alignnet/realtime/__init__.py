"""Real-time use: bin-by-bin streaming decoding and export to TorchScript / ONNX."""

from alignnet.realtime.causal import CausalStreamingDecoder, decode_continuous
from alignnet.realtime.stats import spike_statistics
from alignnet.realtime.streaming import StreamingDecoder

__all__ = ["CausalStreamingDecoder", "StreamingDecoder", "decode_continuous", "spike_statistics"]
