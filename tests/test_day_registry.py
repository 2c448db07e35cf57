"""The day registry: what a model knows about its days, saved in checkpoints."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from alignnet.api import AlignNet
from alignnet.data.registry import UNKNOWN_DATE, DayRegistry, known_date
from alignnet.engine.checkpoint import load_checkpoint, save_checkpoint
from alignnet.errors import DataError
from helpers_alignnet import TINY_ALIGNNET as TINY
from helpers_alignnet import make_windows

torch.set_num_threads(1)


def _dated(windows, dates: dict[int, str], policy: str = "electrode"):
    sessions = [{"day": d, "date": dates[d], "array_layout": "A"} for d in windows.days.tolist()]
    return dataclasses.replace(windows, info={"sessions": sessions}, channel_policy=policy)


def test_dates_calendar_days_and_next_day() -> None:
    assert known_date(UNKNOWN_DATE) == "" and known_date("") == ""
    assert known_date("2024-03-05T10:00:00") == "2024-03-05"
    reg = DayRegistry()
    windows = _dated(make_windows(n_days=2, trials_per_day=4), {0: "2024-03-01", 1: "2024-03-04"})
    reg.check(windows, source="t")
    reg.note_windows(windows)
    assert (reg.channel_policy, reg.array_layout, reg.origin_date) == (
        "electrode",
        "A",
        "2024-03-01",
    )
    assert reg.days[1].date == "2024-03-04"
    assert reg.days[1].channel_ids == tuple(windows.channel_ids_of(1))
    assert reg.calendar_day("2024-03-11") == 10
    assert reg.calendar_day(UNKNOWN_DATE) is None
    assert not reg.knows(0)  # dates alone: no statistics, no read-in
    with pytest.raises(DataError, match="no date"):
        reg.next_day()
    reg.note_stats([0, 1])
    reg.note_adapter(3, 5)
    assert reg.knows(1) and reg.knows(3) and not reg.knows(2)
    assert reg.next_day() == 4 and reg.adapter_days() == {3: 5}
    assert reg.adapter_width(3, 8) == 5 and reg.adapter_width(0, 8) == 8
    assert DayRegistry.from_dict(reg.to_dict()) == reg


def test_other_policy_or_array_is_refused_and_days_follow_the_calendar() -> None:
    reg = DayRegistry()
    reg.check(_dated(make_windows(n_days=1, trials_per_day=4), {0: "2024-03-01"}), source="t")
    with pytest.raises(DataError, match="channel policy"):
        reg.check(_dated(make_windows(n_days=1, trials_per_day=4), {0: "x"}, "unit"), source="t")
    later = _dated(make_windows(n_days=1, trials_per_day=4), {0: "2024-03-08"})
    moved = reg.on_calendar(later)
    assert set(moved.day.tolist()) == {7}
    undated = _dated(make_windows(n_days=1, trials_per_day=4), {0: UNKNOWN_DATE})
    assert reg.on_calendar(undated) is undated


def test_model_registry_is_saved_and_old_checkpoints_rebuild_it(tmp_path) -> None:
    data = make_windows(n_days=3, trials_per_day=12, n_channels=8, length=16)
    model = AlignNet(neuron="relu", epochs=1, per_day_readin=True, **TINY)
    model.pretrain(data.select_days([0, 1]), progress=False)
    assert model.days.adapter_days() == {0: 8, 1: 8}
    assert model.knows_day(1) and not model.knows_day(2)
    model.align(data.select_days([2]), epochs=1, progress=False)
    assert model.knows_day(2) and model.days.has_adapter(2)
    path = tmp_path / "m.ckpt"
    model.save(path)
    loaded = AlignNet.load(path)
    assert loaded.days == model.days
    # A checkpoint written before the registry: rebuilt from data_layout and adapter_days.
    payload = load_checkpoint(path)
    del payload["days"]
    payload["data_layout"] = {"channel_policy": "channel", "array_layout": "", "origin_date": ""}
    save_checkpoint(tmp_path / "old.ckpt", payload)
    old = AlignNet.load(tmp_path / "old.ckpt")
    assert old.days.adapter_days() == {0: 8, 1: 8, 2: 8}
    assert old.days.channel_policy == model.days.channel_policy == "fixed"  # was "channel"
    assert [old.knows_day(d) for d in range(4)] == [True, True, True, False]
    z = model.embed(spikes=data.select_days([2]))
    np.testing.assert_array_equal(old.embed(spikes=data.select_days([2])), z)


def test_old_spelling_of_the_fixed_channel_policy_still_loads(tmp_path) -> None:
    """Files written when "fixed" (a source's own channels) was spelled "channel": a
    checkpoint's registry, a windows file and session metadata all read it as "fixed"."""
    from alignnet.data.io import load_windows, save_windows
    from alignnet.data.session import SessionMeta

    windows = make_windows(n_days=2, trials_per_day=4)
    assert windows.channel_policy == "fixed"
    assert SessionMeta(channel_policy="channel").channel_policy == "fixed"
    assert DayRegistry.from_dict({"channel_policy": "channel"}).channel_policy == "fixed"
    old = dataclasses.replace(windows, channel_policy="channel")
    assert old.channel_policy == "fixed"
    # a windows file whose header says "channel" (written before the rename)
    path = tmp_path / "w.npz"
    save_windows(windows, path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["header"]))
    assert header["channel_policy"] == "fixed"
    header["channel_policy"] = "channel"
    arrays["header"] = np.array(json.dumps(header))
    np.savez(tmp_path / "old.npz", **arrays)
    loaded = load_windows(tmp_path / "old.npz")
    assert loaded.channel_policy == "fixed"
    np.testing.assert_array_equal(loaded.spikes, load_windows(path).spikes)
    # a model trained on them accepts windows read today (and the reverse)
    reg = DayRegistry.from_dict({"channel_policy": "channel"})
    reg.check(windows, source="test")
