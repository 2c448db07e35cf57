import numpy as np
import pytest
import torch

from alignnet.api import AlignNet
from alignnet.engine.checkpoint import load_checkpoint, save_checkpoint
from alignnet.errors import CheckpointError, DataError
from alignnet.evaluation.metrics import r2_score
from helpers_alignnet import TINY_ALIGNNET as TINY
from helpers_alignnet import make_windows

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return make_windows(n_days=3, trials_per_day=32, n_channels=8, length=16)


@pytest.fixture(scope="module")
def trained(data):
    """Pretrained on days 0-1, fine-tuned for decode and simulate (ReLU net, for speed).

    The acausal window model: this toy decodes position from 16-bin windows, which the tiny
    causal default does not learn in 8 epochs (R² 0.03 on day 2; causal position decoding
    is being reworked separately). The causal model is tested in test_causal_streaming.py.
    """
    model = AlignNet(neuron="relu", epochs=8, causal=False, **TINY, **{"finetune.lr": 3e-3})
    train = data.select_days([0, 1])
    pre = model.pretrain(train, progress=False)
    dec = model.finetune(train, task="decode", progress=False)
    model.finetune(train, task="simulate", epochs=3, progress=False)
    return model, pre, dec


def test_training_lowers_loss_and_decoding_beats_mean_predictor(trained, data):
    model, pre, dec = trained
    assert pre.train_loss[-1] < pre.train_loss[0]
    assert dec.train_loss[-1] < 0.7 * dec.train_loss[0]
    test = data.select_days([2])  # zero-shot: a day never used for training
    pred = model.decode(test)
    assert pred.shape == test.behavior.shape and pred.dtype == np.float32
    mean_pred = np.broadcast_to(
        data.select_days([0, 1]).behavior.mean(axis=(0, 2))[None, :, None], test.behavior.shape
    )
    assert r2_score(test.behavior, pred) > r2_score(test.behavior, mean_pred) + 0.2


def test_simulate_rates_and_seeded_samples(trained, data):
    model, _, _ = trained
    test = data.select_days([2])
    rates = model.simulate(test)
    assert rates.shape == test.spikes.shape and (rates >= 0).all()
    a = model.simulate(test.behavior, sample=True, seed=5)
    b = model.simulate(test.behavior, sample=True, seed=5)
    assert np.array_equal(a, b) and np.array_equal(a, np.round(a))
    # rates track the true mean count better than a flat rate
    assert abs(rates.mean() - test.spikes.mean()) < 0.5 * test.spikes.mean()


def test_embed_is_l2_normalised(trained, data):
    model, _, _ = trained
    z = model.embed(spikes=data.select_days([0]))
    assert z.shape == (32, 8)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)
    zb = model.embed(behavior=data.select_days([0]).behavior)
    assert zb.shape == z.shape
    with pytest.raises(ValueError):
        model.embed()


def test_save_load_round_trip(trained, data, tmp_path):
    model, _, _ = trained
    path = tmp_path / "m.ckpt"
    model.save(path)
    loaded = AlignNet.load(path)
    np.testing.assert_array_equal(loaded.decode(data), model.decode(data))
    np.testing.assert_array_equal(loaded.simulate(data), model.simulate(data))
    assert loaded.tasks == model.tasks
    # Checkpoints written before NormStats replaced the estimator's own Normalizer still load.
    norm, payload = model.normalizer, load_checkpoint(path)
    days = sorted(norm.day_spike_mean)
    payload["normalizer"] = {
        "per_day": True,
        "days": days,
        "spike_mean": [norm.day_spike_mean[d].tolist() for d in days],
        "spike_std": [norm.day_spike_std[d].tolist() for d in days],
        "behavior_mean": norm.behavior_mean.tolist(),
        "behavior_std": norm.behavior_std.tolist(),
        "count_mean": norm.count_mean.tolist(),
        "count_std": norm.count_std.tolist(),
    }
    save_checkpoint(tmp_path / "legacy.ckpt", payload)
    legacy = AlignNet.load(tmp_path / "legacy.ckpt")
    np.testing.assert_array_equal(legacy.decode(data), model.decode(data))
    np.testing.assert_array_equal(legacy.decode(data.spikes), model.decode(data.spikes))


def test_input_errors(trained, data, tmp_path):
    model, _, _ = trained
    with pytest.raises(DataError, match="4 channels, but this model was built for 8"):
        model.decode(np.zeros((2, 4, 16), np.float32))
    with pytest.raises(DataError, match="window length 20"):
        model.decode(np.zeros((2, 8, 20), np.float32))
    bad = np.zeros((2, 8, 16), np.float32)
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        model.decode(bad)
    with pytest.raises(DataError, match="empty"):
        AlignNet(**TINY).pretrain(data[np.array([], dtype=int)], progress=False)


def test_checkpoint_errors(trained, tmp_path):
    model, _, _ = trained
    path = tmp_path / "m.ckpt"
    model.save(path)
    payload = load_checkpoint(path)
    payload["format_version"] = 0
    torch.save(payload, tmp_path / "old.ckpt")
    with pytest.raises(CheckpointError, match="format version 0"):
        AlignNet.load(tmp_path / "old.ckpt")
    (tmp_path / "cut.ckpt").write_bytes(path.read_bytes()[:-200])
    with pytest.raises(CheckpointError):
        AlignNet.load(tmp_path / "cut.ckpt")
    payload = load_checkpoint(path)
    payload["config"]["model"]["n_channels"] = 9
    save_checkpoint(tmp_path / "wrong.ckpt", payload)
    with pytest.raises(CheckpointError, match="do not fit"):
        AlignNet.load(tmp_path / "wrong.ckpt")


def test_decode_before_finetuning_is_a_clear_error(data):
    with pytest.raises(CheckpointError, match="not been fine-tuned"):
        AlignNet(**TINY).decode(data)


def test_lif_model_same_seed_same_numbers_and_few_shot(data):
    def run():
        m = AlignNet(epochs=1, **TINY)
        m.pretrain(data.select_days([0]), progress=False, seed=1)
        h = m.finetune(
            data.select_days([1]), task="decode", n_trials=4, freeze_encoder=True, progress=False
        )
        return m, h

    (a, ha), (b, hb) = run(), run()
    assert ha.train_loss == hb.train_loss
    np.testing.assert_array_equal(a.decode(data), b.decode(data))


def test_per_day_readin_new_day_gets_fresh_readin(data):
    m = AlignNet(neuron="relu", epochs=1, per_day_readin=True, **TINY)
    m.pretrain(data.select_days([0, 1]), progress=False)
    assert sorted(m.network.adapters.inputs) == [0, 1]
    m.finetune(data.select_days([2]), task="decode", progress=False)
    assert sorted(m.network.adapters.inputs) == [0, 1, 2]
    assert m.decode(data).shape == data.behavior.shape
