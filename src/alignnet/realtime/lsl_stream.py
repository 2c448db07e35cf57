"""`alignnet stream`'s loop: spikes in from Lab Streaming Layer, decoded behaviour out.

Input (resolved by name, source id or type): either

- binned counts: ``C`` channels (the model's), nominal rate ``1 / bin_s``; or
- spike events: 1 channel (the spike's channel index), irregular rate (0); binned on the
  stream's clock by `alignnet.realtime.lsl_input.EventBinner`.

Another channel count or rate is refused at the start (`StreamError`). Every bin is decoded
by a `CausalStreamingDecoder` (constant work per bin) and published on the output stream as
one sample: ``D`` float32 channels with the behaviour names and units in its ``desc``
(``channels/channel/{label, unit, type}``), nominal rate ``1 / bin_s``, time-stamped with the
input bin's time (counts: the input sample's time stamp; events: the bin's end), in this
machine's clock (the inlet applies LSL's clock-offset correction).

Bad input never stops the loop: a NaN or negative sample is refused (not decoded, counted),
samples out of order are dropped and counted, gaps are counted, and when the input stream
disappears the outlet stays up while the loop waits for the input to come back (the decoder
keeps its state).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from alignnet.errors import CheckpointError, StreamError
from alignnet.realtime.lsl_config import import_pylsl
from alignnet.realtime.lsl_input import BinSequence, Counters, EventBinner, check_counts

COUNTS, EVENTS = "counts", "events"


@dataclass
class StreamOptions:
    """Settings of one `run_stream`.

    Attributes:
        input_name, input_source_id, input_type: what to resolve (at least one; all given
            must match).
        output_name, output_type, output_source_id: the outlet's identity.
        behavior_names, behavior_units: ``D`` labels and units of the output channels
            (default: the checkpoint's behaviour names, else ``behavior0..``; ``a.u.``).
        duration_s: stop after this many seconds of decoding (None: until the input ends).
        resolve_timeout_s: how long to look for the input stream at the start.
        reconnect_timeout_s: after the input disappears, how long to wait for it to come
            back before ending (ignored with ``duration_s``: then it waits to the end).
        event_latency_s: events: a bin is closed this long after its end when no later
            spike closed it.
        progress_s: seconds between progress lines on stderr (0: none).
    """

    input_name: str | None = None
    input_source_id: str | None = None
    input_type: str | None = None
    output_name: str = "AlignNet-decoded"
    output_type: str = "Behavior"
    output_source_id: str = ""
    behavior_names: list[str] = field(default_factory=list)
    behavior_units: list[str] = field(default_factory=list)
    duration_s: float | None = None
    resolve_timeout_s: float = 30.0
    reconnect_timeout_s: float = 10.0
    event_latency_s: float = 0.05
    progress_s: float = 5.0

    def predicate(self) -> str:
        """The XPath predicate LSL resolves the input with."""
        parts = [
            f"{key}='{value}'"
            for key, value in (
                ("name", self.input_name),
                ("source_id", self.input_source_id),
                ("type", self.input_type),
            )
            if value
        ]
        if not parts:
            raise StreamError(
                "name the input stream: --input-name, --input-source-id or --input-type"
            )
        return " and ".join(parts)


def check_causal(model: Any) -> None:
    """Refuse an acausal (window) model, saying how to make a causal one."""
    if not model.config.model.causal:
        raise CheckpointError(
            "alignnet stream decodes bin by bin and needs a causal model; this checkpoint is "
            "the acausal window model. Train a causal one: `alignnet pretrain DATA --out P` "
            "(causal is the default; no --acausal, no --arch paper), then `alignnet finetune "
            "P DATA --task decode --out CKPT` (or `alignnet demo`)"
        )


def input_kind(info: Any, *, n_channels: int, bin_s: float) -> str:
    """``"counts"`` or ``"events"`` for the resolved input ``info``; `StreamError` if the
    stream fits neither form for this model."""
    channels, rate = int(info.channel_count()), float(info.nominal_srate())
    name = info.name()
    if channels == 1 and rate == 0 and n_channels != 1:
        return EVENTS
    if channels != n_channels:
        raise StreamError(
            f"input stream {name!r} has {channels} channels; the model decodes {n_channels} "
            "(binned counts, one channel per model channel) or takes spike events (1 channel, "
            "irregular rate)"
        )
    expected = 1.0 / bin_s
    if not math.isclose(rate, expected, rel_tol=1e-6):
        raise StreamError(
            f"input stream {name!r} has a nominal rate of {rate:g} Hz; the model's bins are "
            f"{bin_s * 1000:g} ms ({expected:g} Hz)"
        )
    return COUNTS


def make_outlet(pylsl: Any, *, n_behavior: int, bin_s: float, options: StreamOptions) -> Any:
    """The decoded-behaviour outlet, with channel labels and units in its description."""
    names = options.behavior_names or [f"behavior{i}" for i in range(n_behavior)]
    units = options.behavior_units or ["a.u."] * n_behavior
    if len(names) != n_behavior or len(units) != n_behavior:
        raise StreamError(
            f"the model decodes {n_behavior} behaviour dimensions; got {len(names)} names "
            f"and {len(units)} units"
        )
    info = pylsl.StreamInfo(
        options.output_name,
        options.output_type,
        n_behavior,
        1.0 / bin_s,
        "float32",
        options.output_source_id,
    )
    channels = info.desc().append_child("channels")
    for label, unit in zip(names, units, strict=True):
        ch = channels.append_child("channel")
        ch.append_child_value("label", label)
        ch.append_child_value("unit", unit)
        ch.append_child_value("type", "decoded")
    info.desc().append_child_value("bin_s", f"{bin_s:g}")
    info.desc().append_child_value("decoder", "alignnet causal (incremental)")
    return pylsl.StreamOutlet(info)


def _say(err: TextIO, text: str) -> None:
    print(text, file=err, flush=True)


class StreamLoop:
    """One run of `alignnet stream` (see the module docstring).

    Args:
        decoder: a `CausalStreamingDecoder` (its ``n_channels``, ``n_behavior``, ``step``).
        bin_s: the model's bin width in seconds.
        options: `StreamOptions`.
        err: where reports and progress go (stderr).
    """

    def __init__(
        self, decoder: Any, *, bin_s: float, options: StreamOptions, err: TextIO | None = None
    ) -> None:
        self.pylsl = import_pylsl()
        self.decoder, self.bin_s, self.options = decoder, float(bin_s), options
        self.err = err or sys.stderr
        self.counters = Counters()
        self.sequence = BinSequence(bin_s)
        self.binner = EventBinner(decoder.n_channels, bin_s)
        self.inlet: Any = None
        self.kind = COUNTS
        self.outlet: Any = None
        self._lost_at = 0.0  # when the input last disappeared (time.monotonic)

    # ------------------------------------------------------------------ connection
    def resolve(self, timeout: float) -> Any | None:
        """The first stream matching the input predicate, or None after ``timeout`` s (asked
        in short rounds, so that Ctrl-C is honoured while it looks)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            found = self.pylsl.resolve_bypred(
                self.options.predicate(), minimum=1, timeout=max(0.05, min(0.5, left))
            )
            if found:
                return found[0]
            if left <= 0.5:
                return None

    def connect(self, timeout: float) -> bool:
        """Resolve and open the input (checking its form); False if not found in time."""
        info = self.resolve(timeout)
        if info is None:
            return False
        self.kind = input_kind(info, n_channels=self.decoder.n_channels, bin_s=self.bin_s)
        pylsl = self.pylsl
        inlet = pylsl.StreamInlet(
            info, max_buflen=60, recover=False, processing_flags=pylsl.proc_clocksync
        )
        try:
            inlet.open_stream(timeout=max(timeout, 1.0))
            # The first clock-offset estimate takes several probes (~0.5 s); done here,
            # before the first pull, while samples already queue in the inlet.
            inlet.time_correction(timeout=max(timeout, 5.0))
        except (pylsl.util.LostError, pylsl.util.TimeoutError):
            return False  # it vanished while we connected (e.g. a stale discovery answer)
        self.inlet = inlet
        _say(
            self.err,
            f"input: {info.name()!r} ({info.type()}, source id {info.source_id()!r}) as "
            f"{self.kind}: {info.channel_count()} channel(s) at {info.nominal_srate():g} Hz",
        )
        return True

    # ------------------------------------------------------------------ per bin
    def _publish(self, counts: np.ndarray, stamp: float) -> None:
        problem = check_counts(counts)
        if problem is not None:
            if problem == "nan":
                self.counters.refused_nan += 1
            else:
                self.counters.refused_negative += 1
            self._report(f"refused a bin at t={stamp:.4f}: {problem} counts (not decoded)")
            return
        estimate = self.decoder.step(counts)
        self.outlet.push_sample(estimate.astype(np.float32).tolist(), stamp)
        self.counters.decoded += 1

    def _counts_sample(self, sample: list[float], stamp: float) -> None:
        self.counters.received += 1
        status, missing = self.sequence.check(stamp)
        if status == "out_of_order":
            self.counters.out_of_order += 1
            self._report(f"dropped a sample out of order (t={stamp:.4f})")
            return
        if status == "gap":
            self.counters.gaps += 1
            self.counters.missing_bins += missing
            self._report(f"gap before t={stamp:.4f}: about {missing} bin(s) missing")
        self._publish(np.asarray(sample, dtype=np.float32), stamp)

    def _event_sample(self, sample: list[float], stamp: float) -> None:
        self.counters.received += 1
        status, closed = self.binner.add(float(sample[0]), stamp)
        if status == "bad_channel":
            self.counters.bad_channel += 1
            self._report(f"dropped a spike event naming channel {sample[0]!r}")
        elif status == "out_of_order":
            self.counters.out_of_order += 1
            self._report(f"dropped a spike event in a closed bin (t={stamp:.4f})")
        for end, counts in closed:
            self._publish(counts, end)

    def _close_idle_bins(self) -> None:
        if self.kind != EVENTS or self.binner.origin is None:
            return
        now = self.pylsl.local_clock() - self.options.event_latency_s
        for end, counts in self.binner.close_until(now):
            self._publish(counts, end)

    def _report(self, text: str) -> None:
        _say(self.err, f"stream: {text}")

    # ------------------------------------------------------------------ the loop
    def run(self) -> Counters:
        """Decode until the duration ends, the input ends or Ctrl-C; returns the tallies."""
        opts = self.options
        # The outlet is up first (a task program can connect before the input appears) and
        # stays up until the end, whatever happens to the input.
        self.outlet = make_outlet(
            self.pylsl, n_behavior=self.decoder.n_behavior, bin_s=self.bin_s, options=opts
        )
        _say(self.err, f"output: {opts.output_name!r} ({self.decoder.n_behavior} channels)")
        try:
            if not self.connect(opts.resolve_timeout_s):
                raise StreamError(
                    f"no LSL stream matching {opts.predicate()} found in "
                    f"{opts.resolve_timeout_s:g} s"
                )
        except KeyboardInterrupt:
            _say(self.err, "stopped (Ctrl-C) before the input was found")
            _say(self.err, f"done: {self.counters.summary()}")
            self.close()
            return self.counters
        except BaseException:
            self.close()
            raise
        start = last_progress = time.monotonic()
        handler = self._event_sample if self.kind == EVENTS else self._counts_sample
        try:
            while opts.duration_s is None or time.monotonic() - start < opts.duration_s:
                if self.inlet is None:
                    if not self._reconnect(start):
                        break
                    continue
                try:
                    sample, stamp = self.inlet.pull_sample(timeout=0.05)
                except self.pylsl.util.LostError:
                    self.counters.lost += 1
                    self._report("the input stream disappeared; the output stays up")
                    self.inlet = None
                    self._lost_at = time.monotonic()
                    continue
                if sample is not None:
                    handler(sample, stamp)
                self._close_idle_bins()
                if opts.progress_s and time.monotonic() - last_progress >= opts.progress_s:
                    last_progress = time.monotonic()
                    _say(self.err, f"progress: {self.counters.summary()}")
        except KeyboardInterrupt:
            _say(self.err, "stopped (Ctrl-C)")
        finally:
            _say(self.err, f"done: {self.counters.summary()}")
            self.close()
        return self.counters

    def _reconnect(self, start: float) -> bool:
        """Wait for the input to come back; False when it is over (time out)."""
        opts = self.options
        now = time.monotonic()
        if opts.duration_s is not None:
            left = opts.duration_s - (now - start)
        else:
            left = opts.reconnect_timeout_s - (now - self._lost_at)
        if left <= 0:
            if opts.duration_s is None:
                self._report("the input stream did not come back; ending")
            return False
        if self.connect(min(left, 1.0)):
            self._report("the input stream is back")
        return True

    def close(self) -> None:
        for handle in (self.inlet, self.outlet):
            if handle is not None and hasattr(handle, "close_stream"):
                handle.close_stream()
        self.inlet = None
        self.outlet = None
