"""Blackrock ``.nev`` spike events (+ ``.ns2`` behaviour) read through neo: threshold
crossings per electrode by default, sorted units on request; files written in the test
(`helpers_blackrock`, to the NEV/NSx specifications: neo cannot write Blackrock)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("neo")

from alignnet.cli.main import cli
from alignnet.data.io import load_session
from alignnet.data.io.raw.events import import_events
from alignnet.errors import DataError
from helpers_blackrock import write_nev, write_nsx

SECONDS = 30.0
CODES = (0, 0, 0, 1, 2, 255)  # mostly unsorted crossings, some sorted units, some noise


def _spikes(electrodes: list[int], *, seed: int = 0, silent: int | None = None):
    """Events driven by a slow 2-D signal: ``(time, electrode, code)`` and the signal."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, SECONDS, 0.001)
    signal = np.stack([np.sin(0.9 * t), np.cos(0.6 * t)], 1) * 1000.0  # mV
    out = []
    for e in electrodes:
        if e == silent:
            continue
        w = rng.normal(size=2) / 1000.0
        rate = 15.0 * np.exp(signal @ w)
        n = rng.poisson(rate * 0.001)
        times = np.repeat(t, n) + rng.uniform(0, 0.001, n.sum())
        codes = rng.choice(CODES, times.size)
        out += [(float(x), e, int(c)) for x, c in zip(times, codes, strict=True)]
    return out, t, signal


def _files(
    tmp: Path,
    *,
    spec: str = "2.3",
    electrodes=range(1, 9),
    ns2_start: float = 0.0,
    name: str = "session",
    seed: int = 0,
) -> tuple[Path, list]:
    electrodes = list(electrodes)
    spikes, t, signal = _spikes(electrodes, seed=seed, silent=electrodes[-1])
    nev = write_nev(tmp / f"{name}.nev", electrodes=electrodes, spikes=spikes, spec=spec)
    write_nsx(
        tmp / f"{name}.ns2", labels=["ainp1", "ainp2"], data=signal, spec=spec, t_start=ns2_start
    )
    return nev, spikes


@pytest.mark.parametrize("spec", ["2.2", "2.3", "3.0"])
def test_crossings_sorted_and_both(tmp_path: Path, spec: str):
    nev, spikes = _files(tmp_path, spec=spec)
    crossings = import_events(nev)
    assert crossings.meta.channel_policy == "electrode" and crossings.n_channels == 8
    assert crossings.meta.channel_ids == [f"elec{e}" for e in range(1, 9)]
    assert crossings.meta.flagged_channels == [7]  # electrode 8 declared, no events
    assert not crossings.has_behavior and crossings.meta.extra["extent_from"] == "spikes"
    for i, e in enumerate(range(1, 9)):
        want = sorted(t for t, el, c in spikes if el == e and c != 255)
        np.testing.assert_allclose(crossings.spike_times[i], want, atol=1 / 30000)
    assert crossings.meta.extra["noise_events_dropped"] == sum(c == 255 for *_, c in spikes)
    sorted_units = import_events(nev, units="sorted")
    keys = sorted({(el, c) for _, el, c in spikes if 0 < c < 255})
    assert sorted_units.meta.channel_ids == [f"elec{e}#{c}" for e, c in keys]
    assert sorted_units.meta.channel_policy == "unit"
    both = import_events(nev, units="both")
    assert both.n_channels == 8 + len(keys)


def test_behaviour_from_an_ns2_channel_and_its_errors(tmp_path: Path):
    nev, _ = _files(tmp_path)
    session = import_events(nev, behavior_channel="ainp1,ainp2")
    assert session.meta.behavior_names == ["ainp1", "ainp2"] and session.meta.behavior_unit == "mV"
    t = np.arange(0.0, SECONDS, 0.001)
    np.testing.assert_allclose(session.behavior_times, t, atol=1e-9)
    np.testing.assert_allclose(
        session.behavior[:, 0], 1000 * np.sin(0.9 * t), atol=0.25
    )  # int16 at 0.25 mV/bit
    assert (session.t_start, session.t_stop) == (0.0, pytest.approx(SECONDS - 0.001))
    with pytest.raises(DataError, match=r"no analog channel \['joystick'\].*\['ainp1', 'ainp2'\]"):
        import_events(nev, behavior_channel="joystick")
    other = tmp_path / "late"
    other.mkdir()
    late, _ = _files(other, ns2_start=500.0)
    with pytest.raises(DataError, match="the behaviour is on another clock"):
        import_events(late, behavior_channel="ainp1")
    # the readers take .nev like any session file; --behavior names the analog channels
    read = load_session(nev, behavior="ainp1,ainp2:velocity")
    assert read.meta.behavior_names == ["vainp1", "vainp2"]


def test_cli_import_writes_npz_and_nwb(tmp_path: Path):
    nev, _ = _files(tmp_path)
    out, nwb = tmp_path / "day.npz", tmp_path / "day.nwb"
    res = CliRunner().invoke(
        cli,
        [
            "data",
            "import",
            str(nev),
            "--out",
            str(out),
            "--nwb",
            str(nwb),
            "--behavior-channel",
            "ainp1,ainp2",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "8 channels (electrode)" in res.output and "behaviour ainp1, ainp2" in res.output
    a, b = load_session(out), load_session(nwb)
    assert a.meta.channel_ids == b.meta.channel_ids and a.meta.channel_policy == "electrode"
    for x, y in zip(a.spike_times, b.spike_times, strict=True):
        np.testing.assert_array_equal(x, y)
    res = CliRunner().invoke(
        cli, ["data", "import", str(nev), "--out", str(tmp_path / "u.npz"), "--units", "sorted"]
    )
    assert res.exit_code == 0 and "(unit)" in res.output
    for start, ok in ((0.0, True), (900.0, False)):  # behaviour from a file, on / off the clock
        csv = tmp_path / f"joystick{start:g}.csv"
        t = start + np.arange(0, SECONDS, 0.01)
        csv.write_text("time,x\n" + "".join(f"{a:.3f},{np.sin(a):.4f}\n" for a in t))
        out = tmp_path / f"csv{start:g}.npz"
        res = CliRunner().invoke(
            cli, ["data", "import", str(nev), "--out", str(out), "--behavior", str(csv)]
        )
        if ok:
            assert res.exit_code == 0 and "behaviour x" in res.output, res.output
        else:
            assert "the behaviour is on another clock" in str(res.exception)


def test_nev_with_another_electrode_count_than_the_checkpoint(tmp_path: Path):
    import torch

    from alignnet.api import AlignNet
    from alignnet.data.preprocess import preprocess_config_for, sessions_to_windows
    from helpers_alignnet import TINY_ALIGNNET

    nev, _ = _files(tmp_path)
    session = load_session(nev, behavior="ainp1,ainp2")
    windows = sessions_to_windows([session], preprocess_config_for([session]))
    torch.manual_seed(0)
    model = AlignNet(neuron="relu", epochs=1, seed=0, align_epochs=1, **TINY_ALIGNNET)
    model.pretrain(windows, progress=False)
    model.finetune(windows, task="decode", progress=False)
    ckpt = tmp_path / "m.pt"
    model.save(ckpt)
    other = tmp_path / "small"
    other.mkdir()
    small, _ = _files(other, electrodes=range(1, 7), seed=1)
    res = CliRunner().invoke(
        cli, ["align", str(ckpt), str(small), "--out", str(tmp_path / "a.pt"), "--day", "3"]
    )
    assert res.exit_code != 0
    assert "6 electrodes, but the checkpoint was trained on 8 electrodes" in str(res.exception)
    res = CliRunner().invoke(
        cli, ["decode", str(ckpt), str(small), "--out", str(tmp_path / "p.npz")]
    )
    assert "6 electrodes, but the checkpoint was trained on 8" in str(res.exception)
    same, _ = _files(other, name="same", seed=2)  # same array, another day: aligns
    res = CliRunner().invoke(
        cli, ["align", str(ckpt), str(same), "--out", str(tmp_path / "b.pt"), "--day", "3"]
    )
    assert res.exit_code == 0, res.output
