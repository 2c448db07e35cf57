"""StreamingDecoder: bin-by-bin outputs equal batch decoding of the windows ending at each bin."""

import importlib.util

import numpy as np
import pytest
import torch

from alignnet.errors import CheckpointError, DataError
from alignnet.realtime import StreamingDecoder, spike_statistics
from helpers_realtime import N_CHANNELS, WINDOW, recording, sliding_windows, train_tiny

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("stream") / "model.pt"
    return train_tiny(path), path


def test_stream_equals_batch_decode_of_each_window(trained):
    model, path = trained
    counts = recording(90)
    batch = model.decode(sliding_windows(counts), day=1)  # [T - L + 1, D, L]
    assert batch[:, :, -1].std(axis=0).min() > 1e-3  # the estimate moves: a real comparison
    decoder = StreamingDecoder.from_checkpoint(path, day=1)
    assert decoder.window_bins == WINDOW and not decoder.ready
    out = decoder.run(counts)
    assert out.shape == (90, model.config.model.n_behavior) and out.dtype == np.float32
    assert np.isnan(out[: WINDOW - 1]).all()  # non-causal mode: no estimate while warming up
    assert decoder.ready
    np.testing.assert_allclose(out[WINDOW - 1 :], batch[:, :, -1], rtol=0, atol=1e-5)


def test_lag_and_reset(trained):
    model, _ = trained
    counts = recording(40, seed=3)
    batch = model.decode(sliding_windows(counts), day=0)
    decoder = StreamingDecoder(model, day=0, lag_bins=3)
    decoder.run(recording(25, seed=9))  # an unrelated earlier stream ...
    decoder.reset()  # ... is forgotten
    out = decoder.run(counts)
    np.testing.assert_allclose(out[WINDOW - 1 :], batch[:, :, -4], rtol=0, atol=1e-5)


def test_causal_mode_emits_from_first_bin_and_uses_only_the_past(trained):
    model, _ = trained
    counts = recording(40, seed=4)
    causal = StreamingDecoder(model, day=1, causal=True).run(counts)
    assert np.isfinite(causal).all()
    changed = counts.copy()
    changed[10:] = changed[10:] * 3 + 1  # change the future of bin 9
    causal_changed = StreamingDecoder(model, day=1, causal=True).run(changed)
    np.testing.assert_array_equal(causal[:10], causal_changed[:10])
    assert not np.allclose(causal[10:], causal_changed[10:])
    exact = StreamingDecoder(model, day=1).run(counts)
    np.testing.assert_array_equal(causal[WINDOW - 1 :], exact[WINDOW - 1 :])


def test_explicit_statistics_match_the_stored_day(trained):
    model, _ = trained
    counts = recording(30, seed=5)
    mean, std = model.normalizer.day_spike_mean[1], model.normalizer.day_spike_std[1]
    by_stats = StreamingDecoder(model, spike_mean=mean, spike_std=std).run(counts)
    by_day = StreamingDecoder(model, day=1).run(counts)
    np.testing.assert_array_equal(by_stats, by_day)
    m, s = spike_statistics(counts)
    np.testing.assert_allclose(m, counts.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(s, counts.std(axis=0), rtol=1e-5)


def test_bad_input_is_named(trained, tmp_path):
    model, _ = trained
    decoder = StreamingDecoder(model, day=0)
    with pytest.raises(DataError, match="spike_counts"):
        decoder.step(np.zeros(N_CHANNELS + 1))
    with pytest.raises(DataError, match="NaN"):
        decoder.step(np.full(N_CHANNELS, np.nan))
    with pytest.raises(DataError, match="day 7 is not in the checkpoint"):
        StreamingDecoder(model, day=7)
    with pytest.raises(DataError, match="name a day"):
        StreamingDecoder(model)
    with pytest.raises(DataError, match="spike_std"):
        StreamingDecoder(model, spike_mean=np.zeros(N_CHANNELS), spike_std=np.zeros(N_CHANNELS))
    pretrained_only = train_tiny(tmp_path / "pre.pt", tasks=())
    with pytest.raises(CheckpointError, match="fine-tuned for decoding"):
        StreamingDecoder(pretrained_only, day=0)


@pytest.mark.parametrize(
    "backend",
    [
        "torchscript",
        pytest.param(
            "onnx",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("onnxruntime") is None, reason="needs onnxruntime"
            ),
        ),
    ],
)
def test_exported_backends_stream_like_batch_decode(trained, backend):
    model, _ = trained
    counts = recording(40, seed=6)
    batch = model.decode(sliding_windows(counts), day=1)
    out = StreamingDecoder(model, day=1, backend=backend).run(counts)
    np.testing.assert_allclose(out[WINDOW - 1 :], batch[:, :, -1], rtol=0, atol=1e-5)


@pytest.mark.slow
def test_compiled_backend_streams_like_batch_decode(trained):
    model, _ = trained
    counts = recording(24, seed=7)
    batch = model.decode(sliding_windows(counts), day=1)
    out = StreamingDecoder(model, day=1, backend="compile").run(counts)
    np.testing.assert_allclose(out[WINDOW - 1 :], batch[:, :, -1], rtol=0, atol=1e-5)
