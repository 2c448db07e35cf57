"""Real-style multi-day recordings: channel policies, calendar days, days with different units
(ragged windows), per-day read-ins, aligning a new day without labels, and clear errors."""

from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
import pytest
import torch

from alignnet.api import AlignNet
from alignnet.data.io import load_sessions, load_windows, save_windows
from alignnet.data.io.nwb import read_nwb
from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows
from alignnet.data.windows import Windows
from alignnet.errors import CheckpointError, DataError
from helpers_alignnet import TINY_ALIGNNET, make_windows
from helpers_nwb_units import write_units_nwb


# ---------------------------------------------------------------------- channel policies
def test_electrode_policy_sums_units_and_flags_empty_and_bad(tmp_path):
    path = write_units_nwb(
        tmp_path / "d.nwb", day=0, n_electrodes=6, unit_electrodes=[0, 0, 2, 3, 3, 3], bad=[3]
    )
    units = read_nwb(path, channels="unit")
    elec = read_nwb(path, channels="electrode")
    assert units.meta.channel_policy == "unit" and units.n_channels == 6
    assert elec.meta.channel_policy == "electrode" and elec.n_channels == 6
    sizes = [t.size for t in units.spike_times]
    assert elec.spike_times[0].size == sizes[0] + sizes[1]  # two units on electrode 0
    assert elec.spike_times[2].size == sizes[2]
    assert elec.spike_times[3].size == 0  # marked bad: zeroed, although it had units
    assert sorted(elec.meta.flagged_channels) == [1, 3, 4, 5]  # no unit: 1, 4, 5; bad: 3
    assert "bad" in elec.meta.extra["flag_reasons"][elec.meta.channel_ids[3]]
    assert read_nwb(path).meta.channel_policy == "electrode"  # auto: units are linked


def test_auto_policy_is_unit_without_electrode_links(tmp_path):
    path = write_units_nwb(tmp_path / "d.nwb", day=0, link_units=False)
    assert read_nwb(path).meta.channel_policy == "unit"
    with pytest.raises(DataError, match="needs units linked to the electrode table"):
        read_nwb(path, channels="electrode")


def test_calendar_days_from_session_start_time_and_ragged_unit_windows(tmp_path):
    for day, units in ((0, [0, 0, 1, 2, 3]), (7, [0, 1, 1, 2, 3, 4, 5]), (30, [1, 2, 5])):
        write_units_nwb(tmp_path / f"rec{day}.nwb", day=day, unit_electrodes=units, seed=day)
    by_unit = load_sessions(tmp_path, channels="unit")
    assert [s.meta.day for s in by_unit] == [0, 7, 30]
    windows = sessions_to_windows(by_unit, PreprocessConfig())
    assert windows.ragged and windows.channel_policy == "unit"
    assert windows.channel_counts() == {0: 5, 7: 7, 30: 3}
    one = windows.select_days([30])
    assert not one.ragged and one.spikes.shape[1] == 3  # one day: its own width, no padding
    np.testing.assert_array_equal(one.spikes, windows.day_spikes(30))
    by_electrode = sessions_to_windows(load_sessions(tmp_path), PreprocessConfig())
    assert not by_electrode.ragged and by_electrode.n_channels == 8
    # the windows file keeps the policy and each day's channel list
    back = load_windows(save_windows(windows, tmp_path / "w.npz"))
    assert back.channel_counts() == windows.channel_counts() and back.channel_policy == "unit"
    np.testing.assert_array_equal(back.spikes, windows.spikes)


def test_folder_errors_name_the_problem(tmp_path):
    write_units_nwb(tmp_path / "a.nwb", day=0)
    write_units_nwb(tmp_path / "b.nwb", day=3, subject="monkeyB")
    with pytest.raises(DataError, match="mixes subjects"):
        load_sessions(tmp_path)
    (tmp_path / "b.nwb").unlink()
    write_units_nwb(tmp_path / "b.nwb", day=3, n_electrodes=10)
    with pytest.raises(DataError, match="electrode tables differ"):
        load_sessions(tmp_path)
    (tmp_path / "b.nwb").unlink()
    write_units_nwb(tmp_path / "b.nwb", day=0, seed=3)
    with pytest.raises(DataError, match="two recordings on"):
        load_sessions(tmp_path)


def test_spikes_on_another_clock_are_refused_not_dropped(tmp_path):
    path = write_units_nwb(tmp_path / "d.nwb", day=0, spike_offset_s=1000.0)
    with pytest.raises(DataError, match="different clocks"):
        read_nwb(path)


def test_unit_linked_to_missing_electrode_row(tmp_path):
    from pynwb import NWBHDF5IO

    path = write_units_nwb(tmp_path / "d.nwb", day=0, n_electrodes=4)
    with NWBHDF5IO(str(path), "a") as io:
        nwb = io.read()
        nwb.units["electrodes"].target.data[0] = 9  # points past the 4-row table
    with pytest.raises(DataError, match="electrode table has 4 rows"):
        read_nwb(path)


def test_concatenating_different_channel_lists_needs_the_unit_policy():
    a = make_windows(n_days=1, n_channels=4)
    b = make_windows(n_days=1, n_channels=6)
    b = dataclasses.replace(b, day=np.ones(len(b), np.int64))
    with pytest.raises(DataError, match="different channel lists"):
        Windows.concatenate([a, b])
    a.channel_policy = b.channel_policy = "unit"
    both = Windows.concatenate([a, b])
    assert both.ragged and both.channel_counts() == {0: 4, 1: 6}
    assert not both.spikes[both.day == 0, 4:].any()


# ---------------------------------------------------------------------- per-day read-ins, align
def _unit_days(seed: int = 0) -> Windows:
    """Three days of one population seen through different units: day d keeps a different
    subset of 10 latent-driven channels (like re-sorted units), so the channel lists differ."""
    base = make_windows(n_days=3, n_channels=10, seed=seed)
    keep = {0: np.arange(8), 1: np.arange(1, 10), 2: np.array([0, 2, 3, 4, 5, 6, 8])}
    parts = []
    for d, rows in keep.items():
        day = base.select_days([d])
        parts.append(
            dataclasses.replace(
                day,
                spikes=day.spikes[:, rows],
                channel_ids=[f"d{d}u{r}" for r in rows],
                channel_policy="unit",
            )
        )
    return Windows.concatenate(parts)


@pytest.fixture(scope="module")
def unit_model():
    torch.manual_seed(0)
    windows = _unit_days()
    model = AlignNet(neuron="relu", epochs=3, seed=0, align_epochs=3, **TINY_ALIGNNET)
    model.pretrain(windows.select_days([0, 1]), progress=False)
    model.finetune(windows.select_days([0, 1]), task="decode", progress=False)
    model.finetune(windows.select_days([0, 1]), task="simulate", progress=False)
    return model, windows


def test_days_with_different_unit_counts_train_in_one_model(unit_model):
    model, windows = unit_model
    assert model.config.model.per_day_readin  # turned on: the days' channel lists differ
    assert model.network.adapters.inputs == {0: 8, 1: 9} == model.days.adapter_days()
    assert model.decode(windows.select_days([1])).shape == (24, 2, 20)
    assert model.simulate(windows.select_days([0]).behavior, day=0).shape == (24, 8, 20)
    with pytest.raises(DataError, match="align the day first"):
        model.decode(windows.day_spikes(2), day=2)  # 7 units, no read-in yet


def test_align_fits_only_the_new_day(unit_model, tmp_path):
    model, windows = unit_model
    model = copy.deepcopy(model)
    shared = {k: v.clone() for k, v in model.network.state_dict().items()}
    report = model.align(windows.select_days([2]), progress=False)
    assert report.day == 2 and report.epochs == 3 and report.wall_s > 0
    assert all(np.isfinite(report.loss))
    state = model.network.state_dict()
    for key, value in shared.items():  # everything that existed before is untouched
        assert torch.equal(state[key], value), key
    assert model.network.adapters.inputs[2] == 7 == model.days.adapter_width(2, 0)
    assert model.decode(windows.select_days([2])).shape == (24, 2, 20)
    model.save(tmp_path / "aligned.pt")
    back = AlignNet.load(tmp_path / "aligned.pt")
    np.testing.assert_array_equal(
        back.decode(windows.day_spikes(2), day=2), model.decode(windows.day_spikes(2), day=2)
    )


def test_align_reduces_its_objective_and_is_seeded():
    windows = make_windows(n_days=3, n_channels=8, seed=1)
    model = AlignNet(neuron="relu", epochs=4, seed=0, **TINY_ALIGNNET)
    model.pretrain(windows.select_days([0, 1]), progress=False)
    rng = np.random.default_rng(0)
    day2 = windows.select_days([2])
    day2 = dataclasses.replace(day2, spikes=day2.spikes[:, rng.permutation(8)])  # re-wired
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    ra = a.align(day2, epochs=15, progress=False)
    rb = b.align(day2, epochs=15, progress=False)
    assert ra.loss == rb.loss  # same seed, same numbers
    assert ra.loss[-1] < ra.loss[0]


def test_align_refuses_bad_input(unit_model):
    model, windows = unit_model
    model = copy.deepcopy(model)
    silent = windows.select_days([2])
    silent = dataclasses.replace(silent, spikes=np.zeros_like(silent.spikes))
    with pytest.raises(DataError, match="zero spikes on every channel"):
        model.align(silent, progress=False)
    with pytest.raises(DataError, match="give the new day's index"):
        model.align(windows.day_spikes(2), progress=False)
    electrode = dataclasses.replace(windows.select_days([2]), channel_policy="electrode")
    with pytest.raises(DataError, match="channel policy"):
        model.align(electrode, progress=False)
    with pytest.raises(CheckpointError, match="no trained latent space"):
        AlignNet(**TINY_ALIGNNET).align(windows.day_spikes(2), day=2, progress=False)


def test_checkpoint_refuses_windows_of_another_array(tmp_path):
    paths = [write_units_nwb(tmp_path / "a.nwb", day=0, seconds=60.0)]
    model = AlignNet(neuron="relu", epochs=1, seed=0, **TINY_ALIGNNET)
    train = sessions_to_windows([read_nwb(paths[0])], PreprocessConfig(window_bins=20))
    model.pretrain(train, progress=False)
    other = write_units_nwb(tmp_path / "b.nwb", day=2, n_electrodes=8, seconds=60.0, seed=4)
    session = read_nwb(other)
    session.meta.array_layout = "another-array"
    new = sessions_to_windows([session], PreprocessConfig(window_bins=20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="array layout"):
            model.align(new, progress=False)
