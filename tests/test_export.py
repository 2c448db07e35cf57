"""Export of the decode / simulate paths: TorchScript and ONNX files match PyTorch outputs."""

import importlib.util

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from alignnet.cli.main import cli
from alignnet.errors import CheckpointError, DataError
from alignnet.models.neurons import MultiStepLIF
from alignnet.realtime.export import ExportedRunner, TracingLIF, check_export, export_model
from helpers_realtime import N_CHANNELS, WINDOW, recording, sliding_windows, train_tiny

torch.set_num_threads(1)
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None
HAS_ONNXSCRIPT = importlib.util.find_spec("onnxscript") is not None
needs_ort = pytest.mark.skipif(not HAS_ORT, reason="onnxruntime is not installed")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Decode + simulate fine-tuned, with per-day read-ins (so the day matters)."""
    path = tmp_path_factory.mktemp("export") / "model.pt"
    return train_tiny(path, tasks=("decode", "simulate"), per_day_readin=True), path


def _inputs(model):
    spikes = sliding_windows(recording(WINDOW + 4, seed=2))  # [5, C, L]
    rng = np.random.default_rng(0)
    norm = model.normalizer
    behavior = (
        rng.standard_normal((3, model.config.model.n_behavior, WINDOW)) * norm.behavior_std[:, None]
        + norm.behavior_mean[:, None]
    ).astype(np.float32)
    return spikes, behavior


@pytest.mark.parametrize("tau, v_threshold, v_reset", [(2.0, 0.3, 0.0), (3.0, 0.5, -0.1)])
def test_tracing_lif_gives_the_models_spikes(tau, v_threshold, v_reset):
    x = torch.randn(30, 4, 50) * 0.7 + 0.5 * v_threshold
    options = dict(tau=tau, v_threshold=v_threshold, v_reset=v_reset)
    tracing = TracingLIF.like(MultiStepLIF(**options))
    with torch.inference_mode():
        got = tracing(x)
        for backend in ("eager", "fused"):
            reference = MultiStepLIF(**options, backend=backend)(x)
            assert 0.05 < reference.mean() < 0.95
            torch.testing.assert_close(got, reference, rtol=0, atol=0)


@pytest.mark.parametrize(
    "fmt, exporter",
    [
        ("torchscript", "auto"),
        pytest.param("onnx", "torchscript", marks=needs_ort),
        pytest.param(
            "onnx",
            "dynamo",
            marks=[
                needs_ort,
                pytest.mark.skipif(not HAS_ONNXSCRIPT, reason="onnxscript is not installed"),
                pytest.mark.slow,
            ],
        ),
    ],
)
def test_exported_decode_matches_pytorch(trained, tmp_path, fmt, exporter):
    model, ckpt = trained
    out = tmp_path / f"decode.{fmt}"
    assert (
        export_model(ckpt, format=fmt, path=out, task="decode", day=1, onnx_exporter=exporter)
        == out
    )
    spikes, _ = _inputs(model)
    run = ExportedRunner(out, format=fmt)
    expected = model.decode(spikes, day=1)
    got = run(spikes)  # batch 5, exported with an example batch of 2: the batch axis is dynamic
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(run(spikes[:1]), expected[:1], rtol=0, atol=1e-5)
    # the day is folded in: day 0's statistics and read-in give a different answer
    assert not np.allclose(got, model.decode(spikes, day=0), atol=1e-3)


@pytest.mark.parametrize("fmt", ["torchscript", pytest.param("onnx", marks=needs_ort)])
def test_exported_simulate_matches_pytorch(trained, tmp_path, fmt):
    model, ckpt = trained
    out = tmp_path / f"simulate.{fmt}"
    export_model(model, format=fmt, path=out, task="simulate", onnx_exporter="torchscript")
    _, behavior = _inputs(model)
    got = ExportedRunner(out, format=fmt)(behavior)
    expected = model.simulate(behavior)
    assert got.shape == (3, N_CHANNELS, WINDOW) and (got >= 0).all()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert check_export(ckpt, out, format=fmt, task="simulate") < 1e-5


def test_never_overwrites_and_names_bad_requests(trained, tmp_path):
    model, ckpt = trained
    out = tmp_path / "keep.pt"
    out.write_bytes(b"user data")
    with pytest.raises(FileExistsError):
        export_model(ckpt, format="torchscript", path=out, day=0)
    assert out.read_bytes() == b"user data"
    with pytest.raises(DataError, match="name a day"):
        export_model(ckpt, format="torchscript", path=tmp_path / "x.pt")
    with pytest.raises(ValueError, match="format"):
        export_model(ckpt, format="tflite", path=tmp_path / "x.tfl", day=0)
    decode_only = train_tiny(tmp_path / "d.pt", tasks=("decode",))
    with pytest.raises(CheckpointError, match="simulate"):
        export_model(decode_only, format="torchscript", path=tmp_path / "s.pt", task="simulate")
    assert not (tmp_path / "x.pt").exists() and not (tmp_path / "s.pt").exists()


def test_cli_export_with_calibration_block(trained, tmp_path):
    model, ckpt = trained
    calibration = tmp_path / "newday.npy"
    np.save(calibration, recording(200, seed=11))
    out = tmp_path / "cli.pt"
    args = ["export", str(ckpt), "--format", "torchscript", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--calibration", str(calibration)])
    assert result.exit_code == 0, result.output
    assert "max |exported - pytorch|" in result.output and out.exists()
    diff = float(result.output.strip().rsplit(" ", 1)[-1])
    assert diff < 1e-5
    again = CliRunner().invoke(cli, [*args, "--day", "0"])
    assert again.exit_code != 0 and "--overwrite" in again.output
    assert CliRunner().invoke(cli, [*args, "--day", "0", "--overwrite"]).exit_code == 0


@pytest.mark.parametrize("neuron, layout", [("bitplane", "temporal"), ("lif", "2d")])
def test_other_spiking_variants_export(tmp_path, neuron, layout):
    model = train_tiny(
        tmp_path / "m.pt", tasks=("decode", "simulate"), neuron=neuron, snn_layout=layout
    )
    spikes, behavior = _inputs(model)
    formats = ["torchscript"] + (["onnx"] if HAS_ORT else [])
    for fmt in formats:
        dec = export_model(
            model, format=fmt, path=tmp_path / f"d.{fmt}", day=0, onnx_exporter="torchscript"
        )
        sim = export_model(
            model,
            format=fmt,
            path=tmp_path / f"s.{fmt}",
            task="simulate",
            onnx_exporter="torchscript",
        )
        np.testing.assert_allclose(
            ExportedRunner(dec, format=fmt)(spikes), model.decode(spikes, day=0), atol=1e-5, rtol=0
        )
        np.testing.assert_allclose(
            ExportedRunner(sim, format=fmt)(behavior), model.simulate(behavior), atol=1e-5, rtol=0
        )
