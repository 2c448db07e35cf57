"""Lab Streaming Layer in and out (`alignnet stream`, `alignnet stream-replay`), on loopback.

Every LSL packet of these tests stays on 127.0.0.1 (`helpers_lsl.loopback_env`). Each wait is
bounded, and every process a test starts is killed at the end, so a test can fail but never
hang.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

from alignnet.data.io import save_session
from alignnet.errors import CheckpointError, StreamError
from alignnet.realtime.causal import CausalStreamingDecoder, decode_continuous
from alignnet.realtime.lsl_input import BinSequence, EventBinner, check_counts
from alignnet.realtime.lsl_stream import StreamLoop, StreamOptions
from helpers_lsl import counts_session, loopback_env, unique
from helpers_realtime import N_CHANNELS, recording, train_tiny

pylsl = pytest.importorskip("pylsl")
torch.set_num_threads(1)
BIN_S = 0.02
DAY = 1


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return loopback_env(tmp_path_factory.mktemp("lsl"))


@pytest.fixture(scope="module")
def causal(tmp_path_factory):
    path = tmp_path_factory.mktemp("lslmodel") / "causal.pt"
    return train_tiny(path, causal=True), path


def _alignnet(*args: str) -> list[str]:
    return [sys.executable, "-m", "alignnet", *args]


def _pull(inlet, n: int, *, timeout: float) -> tuple[np.ndarray, np.ndarray]:
    values, stamps = [], []
    deadline = time.monotonic() + timeout
    while len(values) < n and time.monotonic() < deadline:
        sample, stamp = inlet.pull_sample(timeout=0.2)
        if sample is not None:
            values.append(sample)
            stamps.append(stamp)
    return np.asarray(values, dtype=np.float32), np.asarray(stamps)


def _resolve(name: str, timeout: float = 30.0):
    found = pylsl.resolve_bypred(f"name='{name}'", 1, timeout)
    assert found, f"stream {name!r} not found in {timeout} s"
    return found[0]


# ---------------------------------------------------------------------- pure checks
def test_sample_checks_sequence_and_event_binning():
    assert check_counts(np.array([0.0, 2.0])) is None
    assert check_counts(np.array([np.nan, 2.0])) == "nan"
    assert check_counts(np.array([np.inf, 2.0])) == "nan"
    assert check_counts(np.array([-1.0, 2.0])) == "negative"
    seq = BinSequence(0.02)
    assert [seq.check(t) for t in (1.0, 1.02, 1.04)] == [("ok", 0)] * 3
    assert seq.check(1.03) == ("out_of_order", 0)
    assert seq.check(1.14) == ("gap", 4)  # 1.06 .. 1.12 missing
    binner = EventBinner(3, 0.02)
    assert binner.add(5, 10.001) == ("bad_channel", [])
    assert binner.add(0.5, 10.001) == ("bad_channel", [])
    assert binner.add(1, 10.005)[0] == "ok"
    status, closed = binner.add(2, 10.045)  # closes bins [10.00, 10.02) and [10.02, 10.04)
    assert status == "ok" and len(closed) == 2
    np.testing.assert_array_equal(closed[0][1], [0, 1, 0])
    np.testing.assert_array_equal(closed[1][1], [0, 0, 0])
    assert closed[0][0] == pytest.approx(10.02)
    assert binner.add(0, 10.01) == ("out_of_order", [])  # its bin is closed
    ends = binner.close_until(10.061)
    assert len(ends) == 1 and ends[0][1].tolist() == [0, 0, 1]


# ---------------------------------------------------------------------- two processes
def test_replay_and_stream_processes_equal_causal_batch_decode(env, causal, tmp_path):
    """stream-replay | stream, as two processes: the decoded stream is the causal batch
    decode of the same bins, one sample per bin, stamped with the input bin's time."""
    model, ckpt = causal
    counts = recording(240, seed=3)
    data = save_session(counts_session(counts, day=DAY), tmp_path / "day.npz")
    source, output = unique("replay"), unique("decoded")
    procs = []
    try:
        procs.append(subprocess.Popen(
            _alignnet("stream", str(ckpt), "--input-name", source, "--output-name", output,
                      "--day", str(DAY), "--reconnect-timeout", "1", "--resolve-timeout", "60",
                      "--behavior-units", "cm,cm"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
        info = _resolve(output, timeout=60)
        inlet = pylsl.StreamInlet(info, processing_flags=pylsl.proc_clocksync)
        inlet.open_stream(timeout=10)
        full = inlet.info(timeout=10)
        channel = full.desc().child("channels").child("channel")
        # labels: the behaviour names the checkpoint was trained with; units as given
        assert model.behavior_names == ["x", "y"]
        assert (channel.child_value("label"), channel.child_value("unit")) == ("x", "cm")
        second = channel.next_sibling()
        assert (second.child_value("label"), second.child_value("unit")) == ("y", "cm")
        assert full.channel_count() == 2 and full.nominal_srate() == pytest.approx(1 / BIN_S)
        procs.append(subprocess.Popen(
            _alignnet("stream-replay", str(data), "--name", source, "--speed", "4",
                      "--wait-consumer", "60", "--progress", "0"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
        values, stamps = _pull(inlet, len(counts), timeout=90)
        replay_err = procs[1].communicate(timeout=60)[1]
        stream_err = procs[0].communicate(timeout=60)[1]
    finally:
        for proc in procs:
            proc.kill()
    assert len(values) == len(counts), stream_err + replay_err
    expected = decode_continuous(model, counts, day=DAY)
    np.testing.assert_allclose(values, expected, atol=1e-5)
    # replay stamps bin k with its end, t0 + (k + 1) * bin_s: the output carries them on
    np.testing.assert_allclose(np.diff(stamps), BIN_S, atol=1e-6)
    assert "decoded=240" in stream_err and "refused_nan=0" in stream_err, stream_err
    assert procs[0].returncode == 0, stream_err
    assert procs[1].returncode == 0, replay_err


# ---------------------------------------------------------------------- bad input
def _run_loop(decoder, options):
    loop = StreamLoop(decoder, bin_s=BIN_S, options=options)
    result: dict = {}

    def target():
        try:
            result["counters"] = loop.run()
        except Exception as exc:  # any error is handed to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def _outlet(name: str, channels: int, rate: float, fmt: str = "float32"):
    return pylsl.StreamOutlet(pylsl.StreamInfo(name, "SpikeCounts", channels, rate, fmt, name))


def test_stream_bad_input(env, causal, tmp_path):
    model, _ = causal
    decoder = CausalStreamingDecoder(model, day=DAY)
    # another channel count or rate than the model's: refused at the start
    for channels, rate, match in ((N_CHANNELS + 3, 50.0, "channels"), (N_CHANNELS, 100.0, "rate")):
        name = unique("wrong")
        outlet = _outlet(name, channels, rate)
        with pytest.raises(StreamError, match=match):
            StreamLoop(decoder, bin_s=BIN_S, options=StreamOptions(
                input_name=name, output_name=unique("out"), resolve_timeout_s=20, progress_s=0,
            )).run()  # fmt: skip
        del outlet
    # an acausal checkpoint: refused, saying how to make a causal one
    from click.testing import CliRunner

    from alignnet.cli.main import cli

    acausal = tmp_path / "acausal.pt"
    train_tiny(acausal, causal=False)
    res = CliRunner().invoke(cli, ["stream", str(acausal), "--input-name", "x", "--day", "1"])
    assert isinstance(res.exception, CheckpointError)
    assert "alignnet pretrain" in str(res.exception)

    # bad samples, a gap, the input vanishing and coming back: reported, counted, no crash
    source, output = unique("bad"), unique("out")
    decoder = CausalStreamingDecoder(model, day=DAY)
    thread, result = _run_loop(decoder, StreamOptions(
        input_name=source, output_name=output, resolve_timeout_s=30, reconnect_timeout_s=20,
        progress_s=0,
    ))  # fmt: skip
    good = recording(6, seed=5)
    outlet = _outlet(source, N_CHANNELS, 1 / BIN_S)
    inlet = pylsl.StreamInlet(_resolve(output), processing_flags=pylsl.proc_clocksync)
    inlet.open_stream(timeout=10)
    assert outlet.wait_for_consumers(30)
    t0 = pylsl.local_clock()
    nan, negative = good[0].copy(), good[0].copy()
    nan[2], negative[3] = np.nan, -1.0
    for row, k in ((good[0], 1), (good[1], 2), (good[2], 3), (nan, 4), (negative, 5),
                   (good[5], 2.5), (good[3], 11)):  # fmt: skip
        outlet.push_sample(row.tolist(), t0 + k * BIN_S)
    values, _ = _pull(inlet, 4, timeout=30)
    del outlet  # the input disappears; the output stays up
    time.sleep(1.0)
    assert inlet.samples_available() == 0 and thread.is_alive()
    outlet = _outlet(source, N_CHANNELS, 1 / BIN_S)  # ... and comes back
    assert outlet.wait_for_consumers(30)
    for row, k in ((good[4], 12), (good[5], 13)):
        outlet.push_sample(row.tolist(), t0 + k * BIN_S)
    more, _ = _pull(inlet, 2, timeout=30)
    del outlet
    thread.join(timeout=60)
    assert not thread.is_alive() and "error" not in result, result
    c = result["counters"]
    assert (c.received, c.decoded, c.refused_nan, c.refused_negative) == (9, 6, 1, 1)
    assert (c.out_of_order, c.gaps, c.missing_bins, c.lost) == (1, 1, 5, 2)
    # the refused and dropped samples left the decoder's state alone
    kept = np.stack([good[0], good[1], good[2], good[3], good[4], good[5]])
    expected = decode_continuous(model, kept, day=DAY)
    np.testing.assert_allclose(np.concatenate([values, more]), expected, atol=1e-5)


def test_stream_spike_events(env, causal):
    """Spike events (channel, time) binned on the stream's clock equal counting them."""
    model, _ = causal
    source, output = unique("events"), unique("out")
    thread, result = _run_loop(CausalStreamingDecoder(model, day=DAY), StreamOptions(
        input_name=source, output_name=output, resolve_timeout_s=30, reconnect_timeout_s=0.5,
        progress_s=0,
    ))  # fmt: skip
    outlet = pylsl.StreamOutlet(pylsl.StreamInfo(source, "SpikeEvents", 1, 0.0, "int32", source))
    inlet = pylsl.StreamInlet(_resolve(output), processing_flags=pylsl.proc_clocksync)
    inlet.open_stream(timeout=10)
    assert outlet.wait_for_consumers(30)
    counts = recording(40, seed=7)
    # stamps a minute ahead: bins close on later spikes only, never on the idle timer
    origin = (np.floor(pylsl.local_clock() / BIN_S) + 3000) * BIN_S
    for k, row in enumerate(counts):
        for ch in np.repeat(np.arange(N_CHANNELS), row.astype(int)):
            outlet.push_sample([int(ch)], origin + (k + 0.5) * BIN_S)
    outlet.push_sample([N_CHANNELS + 4], origin + 40.5 * BIN_S)  # no such channel
    outlet.push_sample([0], origin + 41.5 * BIN_S)  # closes bin 40 (empty) and bin 39
    values, stamps = _pull(inlet, 41, timeout=30)
    del outlet
    thread.join(timeout=30)
    assert "error" not in result, result
    expected = decode_continuous(model, np.vstack([counts, np.zeros((1, N_CHANNELS))]), day=DAY)
    np.testing.assert_allclose(values, expected, atol=1e-5)
    np.testing.assert_allclose(stamps - origin, (np.arange(41) + 1) * BIN_S, atol=1e-3)
    assert result["counters"].bad_channel == 1


def test_stream_ctrl_c_stops_cleanly(env, causal):
    """Ctrl-C (SIGINT) while `alignnet stream` waits for its input: a clean stop, exit 0."""
    import signal

    _, ckpt = causal
    output = unique("out")
    proc = subprocess.Popen(
        _alignnet("stream", str(ckpt), "--input-name", unique("never"), "--output-name", output,
                  "--day", str(DAY), "--resolve-timeout", "120"),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _resolve(output, timeout=60)  # its outlet is up: it is looking for the input
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped (Ctrl-C)" in err and "done: received=0" in err


def test_stream_align_first(env, causal, tmp_path):
    """--align-first: the first seconds of the input align a new day, then it is decoded."""
    _, ckpt = causal
    # 30 s at real time: alignment (a few seconds) finishes while the replay still runs
    data = save_session(counts_session(recording(1500, seed=9), day=7), tmp_path / "new.npz")
    source, output = unique("new-day"), unique("out")
    procs = []
    try:
        procs.append(subprocess.Popen(
            _alignnet("stream", str(ckpt), "--input-name", source, "--output-name", output,
                      "--align-first", "0.64", "--reconnect-timeout", "1", "--progress", "0",
                      "--resolve-timeout", "60"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
        procs.append(subprocess.Popen(
            _alignnet("stream-replay", str(data), "--name", source, "--wait-consumer", "60",
                      "--progress", "0"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
        procs[1].communicate(timeout=120)
        err = procs[0].communicate(timeout=60)[1]
    finally:
        for proc in procs:
            proc.kill()
    assert procs[0].returncode == 0, err
    # 0.64 s = 32 bins = 2 windows of 16; the model knew days 0 and 1, so the new one is day 2
    assert "align: 2 windows of 8 channels -> day 2" in err, err
    decoded = int(err.split("done: received=")[1].split("decoded=")[1].split(",")[0])
    assert decoded > 0, err
