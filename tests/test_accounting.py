"""Spike/energy accounting and `alignnet profile`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from alignnet.evaluation.accounting import E_AC_PJ, E_MAC_PJ, input_kind, profile_model
from alignnet.models.activations import make_activation


def _conv_lif_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv1d(4, 6, 3, padding=1),
        make_activation("lif"),
        nn.Conv1d(6, 2, 1),
    )


def test_counts_by_hand():
    net = _conv_lif_net()
    spikes = (torch.rand(3, 4, 10, generator=torch.Generator().manual_seed(1)) < 0.2).float()
    report = profile_model(net, spikes)
    conv1, lif, conv2 = report.layers
    # conv1: per window 6 out ch x 10 bins x (4 in ch x 3 taps) = 720 MACs
    assert conv1.macs == 720
    assert conv1.input_kind == "spikes"
    assert conv1.input_rate == pytest.approx(float(spikes.mean()))
    assert conv1.synops == pytest.approx(720 * float(spikes.mean()))
    assert conv1.energy_ann_nj == pytest.approx(720 * E_MAC_PJ / 1e3)
    assert conv1.energy_snn_nj == pytest.approx(conv1.synops * E_AC_PJ / 1e3)
    # the LIF runs one step per bin
    with torch.no_grad():
        lif_out = net[1](net[0](spikes))
    assert lif.time_steps == 10
    assert lif.firing_rate == pytest.approx(float(lif_out.mean()))
    # conv2 sees the LIF spikes: 2 x 10 x 6 = 120 MACs, SynOps = 120 x rate
    assert conv2.macs == 120
    assert conv2.input_rate == pytest.approx(lif.firing_rate)
    assert conv2.synops == pytest.approx(120 * lif.firing_rate)
    assert report.total_macs == 840
    assert report.energy_ann_nj > report.energy_snn_nj
    table = report.to_table()
    assert "0.9 pJ per accumulate" in table and "MultiStepLIF" in table
    assert not net[1].lif.record  # flags restored


def test_real_input_is_charged_full_macs_and_counts_weight_accumulates():
    assert input_kind(torch.tensor([0.0, 1.0, 1.0, 0.0]))[0] == "spikes"
    assert input_kind(torch.tensor([0.0, 2.0, 1.0, 3.0])) == ("counts", 1.5)
    assert input_kind(torch.tensor([0.5, -1.0]))[0] == "real"
    lin = nn.Linear(5, 3)
    report = profile_model(lin, torch.randn(2, 5))
    (row,) = report.layers
    assert row.macs == 15 and row.synops == 15
    assert row.energy_snn_nj == pytest.approx(row.energy_ann_nj)


def test_transposed_conv_macs():
    net = nn.ConvTranspose1d(3, 2, kernel_size=2, stride=2)
    report = profile_model(net, torch.ones(1, 3, 5))
    # each of the 3 x 5 inputs is multiplied into 2 out channels x 2 taps
    assert report.layers[0].macs == 60


def test_cli_profile_prints_table_and_writes_json(tmp_path, monkeypatch):
    import alignnet.cli.profile as profile_cli
    from alignnet.cli.main import cli

    net = _conv_lif_net()
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"stand-in")
    monkeypatch.setattr(
        profile_cli, "load_profile_target", lambda path: (net, lambda c: torch.from_numpy(c))
    )
    data = tmp_path / "spikes.npz"
    np.savez(data, spikes=np.random.default_rng(0).poisson(0.3, size=(5, 4, 10)))
    out = tmp_path / "report.json"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["profile", str(checkpoint), "--data", str(data), "--n-windows", "3", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "MultiStepLIF" in result.output and "ANN / SNN" in result.output
    report = json.loads(out.read_text())
    assert report["n_windows"] == 3 and len(report["layers"]) == 3
    # refuses to overwrite the JSON
    again = runner.invoke(
        cli, ["profile", str(checkpoint), "--data", str(data), "--json", str(out)]
    )
    assert again.exit_code != 0
    # synthetic spikes are seeded
    a = runner.invoke(cli, ["profile", str(checkpoint), "--n-channels", "4", "--bins", "10"])
    b = runner.invoke(cli, ["profile", str(checkpoint), "--n-channels", "4", "--bins", "10"])
    assert a.exit_code == 0 and a.output == b.output
    # --channels, the old (hidden) name of --n-channels, gives the same run
    old = runner.invoke(cli, ["profile", str(checkpoint), "--channels", "4", "--bins", "10"])
    assert old.exit_code == 0 and old.output == a.output


def test_cli_profile_bad_data_names_file_and_field(tmp_path, monkeypatch):
    import alignnet.cli.profile as profile_cli
    from alignnet.errors import DataError

    bad = tmp_path / "bad.npz"
    np.savez(bad, rates=np.zeros((2, 4, 10)))
    with pytest.raises(DataError, match="bad.npz.*'spikes'"):
        profile_cli.example_spikes(
            data=bad, n_windows=2, n_channels=4, n_bins=10, rate_hz=10.0, seed=0
        )
    neg = tmp_path / "neg.npz"
    np.savez(neg, spikes=-np.ones((2, 4, 10)))
    with pytest.raises(DataError, match="neg.npz"):
        profile_cli.example_spikes(
            data=neg, n_windows=2, n_channels=4, n_bins=10, rate_hz=10.0, seed=0
        )


def test_cli_module_does_not_import_torch_at_import_time():
    import subprocess
    import sys

    code = "import sys, alignnet.cli.profile; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("neuron", ["lif", "bitplane"])
def test_cli_profile_on_a_saved_alignnet(tmp_path, neuron):
    api = pytest.importorskip("alignnet.api")
    from alignnet.cli.main import cli

    model = api.AlignNet(n_channels=8, window_len=20, widths=(8, 8), latent_width=8, neuron=neuron)
    checkpoint = tmp_path / "model.pt"
    model.save(checkpoint)
    result = CliRunner().invoke(cli, ["profile", str(checkpoint), "--n-windows", "2"])
    assert result.exit_code == 0, result.output
    assert "spike_encoder" in result.output and "spike_decoder" in result.output
    expected = "MultiStepLIF" if neuron == "lif" else "BitplaneBlock"
    assert expected in result.output
