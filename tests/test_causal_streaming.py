"""CausalStreamingDecoder: incremental bin-by-bin decoding equals the causal batch decode."""

import numpy as np
import pytest
import torch

from alignnet.errors import CheckpointError, DataError
from alignnet.realtime import CausalStreamingDecoder, decode_continuous
from helpers_realtime import N_CHANNELS, recording, train_tiny

torch.set_num_threads(1)


@pytest.fixture(scope="module", params=["lif", "relu"])
def causal_model(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("causal") / "model.pt"
    neuron_kw = {"v_threshold": 0.2} if request.param == "lif" else {}
    model = train_tiny(
        path,
        neuron=request.param,
        causal=True,
        per_day_readin=True,
        **{"model.neuron_kw": neuron_kw},
    )
    return model, path


def _batch_layer_outputs(model, counts, day):
    """Outputs of every activation of the spike encoder / behaviour decoder blocks."""
    net, captured, hooks = model.network, {}, []
    for name, blocks in (
        ("encoder", list(net.spike_encoder.blocks)),
        ("decoder", list(reversed(list(net.behavior_decoder.blocks)))),
    ):
        for level, block in enumerate(blocks):
            for i, index in enumerate((2, 5)):

                def hook(_m, _inp, out, key=(f"{name}{level}", i)):
                    captured[key] = out[0].detach().numpy().T  # [L_level, W]

                hooks.append(block[index].register_forward_hook(hook))
    try:
        batch = decode_continuous(model, counts, day=day)
    finally:
        for h in hooks:
            h.remove()
    return batch, captured


@pytest.mark.parametrize("n_bins", [61, 64])
def test_stream_equals_causal_batch_decode(causal_model, n_bins):
    model, _ = causal_model
    counts = recording(n_bins, seed=2)
    batch, layers = _batch_layer_outputs(model, counts, day=1)
    assert batch.shape == (n_bins, model.config.model.n_behavior)
    assert batch.std(axis=0).min() > 1e-3  # the estimate moves: a real comparison
    decoder = CausalStreamingDecoder(model, day=1, trace=True)
    out = decoder.run(counts)
    assert out.dtype == np.float32 and decoder.bins_seen == n_bins
    np.testing.assert_allclose(out, batch, rtol=0, atol=1e-5)
    for (name, i), expected in layers.items():
        streamed = np.stack(decoder.traces[name][i])
        if model.config.model.neuron == "lif" and name.startswith("encoder"):
            assert 0 < expected.mean() < 1  # spikes, some of them
            np.testing.assert_array_equal(streamed, expected)  # spikes identical
        else:
            np.testing.assert_allclose(streamed, expected, rtol=0, atol=1e-5)


def test_reset_and_new_day_statistics(causal_model):
    model, path = causal_model
    counts = recording(40, seed=3)
    mean, std = counts.mean(axis=0), counts.std(axis=0) + 0.5
    batch = decode_continuous(model, counts, spike_mean=mean, spike_std=std)
    decoder = CausalStreamingDecoder.from_checkpoint(path, spike_mean=mean, spike_std=std)
    decoder.run(recording(13, seed=9))  # an unrelated earlier stream ...
    decoder.reset()  # ... is forgotten
    np.testing.assert_allclose(decoder.run(counts), batch, rtol=0, atol=1e-5)


def test_bad_input_and_wrong_models(causal_model, tmp_path):
    model, _ = causal_model
    decoder = CausalStreamingDecoder(model, day=0)
    with pytest.raises(DataError, match="spike_counts"):
        decoder.step(np.zeros(N_CHANNELS + 1))
    with pytest.raises(DataError, match="NaN"):
        decoder.step(np.full(N_CHANNELS, np.nan))
    with pytest.raises(DataError, match="day 7 is not in the checkpoint"):
        CausalStreamingDecoder(model, day=7)
    if model.config.model.neuron == "relu":
        return  # the model-kind checks below need to train once only
    acausal = train_tiny(tmp_path / "acausal.pt", causal=False)
    with pytest.raises(CheckpointError, match="causal model"):
        CausalStreamingDecoder(acausal, day=0)
    simulate_only = train_tiny(tmp_path / "sim.pt", tasks=("simulate",), causal=True)
    with pytest.raises(CheckpointError, match="fine-tuned for decoding"):
        CausalStreamingDecoder(simulate_only, day=0)


def test_lag0_estimates_of_both_models(causal_model, tmp_path):
    from alignnet.realtime import StreamingDecoder, spike_statistics
    from alignnet.realtime.lag0 import lag0_estimates, lag0_score

    model, _ = causal_model
    counts = recording(50, seed=5)
    mean, std = spike_statistics(counts)
    stats = {"spike_mean": mean, "spike_std": std}
    np.testing.assert_array_equal(
        lag0_estimates(model, counts, **stats),
        CausalStreamingDecoder(model, **stats).run(counts),
    )
    behavior = decode_continuous(model, counts, **stats) + 0.1 * recording(50, seed=6)[:, :2]
    score, est = lag0_score(model, counts, behavior)  # default: the day's own statistics
    assert score.first_bin == model.config.model.window_len - 1
    assert score.n_bins == 50 - score.first_bin and np.isfinite(score.r2)
    if model.config.model.neuron == "relu":
        return
    window_model = train_tiny(
        tmp_path / "window.pt", causal=False
    )  # acausal: the window ending at bin t
    window = lag0_estimates(window_model, counts, **stats)
    streamed = StreamingDecoder(window_model, **stats).run(counts)
    assert np.isnan(window[: score.first_bin]).all()
    np.testing.assert_allclose(window, streamed, rtol=0, atol=1e-5)
