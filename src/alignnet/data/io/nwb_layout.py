"""``channels="auto"``: decide from what an NWB file says whether its units are summed per
electrode or kept apart.

On a single-electrode array (a Utah array: one wire per site, 400 µm apart) the units sorted
on one electrode are multi-unit activity of that site, and summing them gives the same
channels every day, as closed-loop BCIs decode. On tetrodes and silicon probes the units of a
tetrode or a probe site are distinct neurons with distinct tuning (place cells): summing them
throws most of the information away, so each unit stays its own channel (per-day read-ins
handle their change from day to day). The file says which, in this order:

1. units not linked to electrodes -> ``"unit"``;
2. most units linked to several electrodes (a tetrode export links each unit to its 4 wires,
   a probe export to the sites it was seen on) -> ``"unit"``;
3. a device or electrode group named/described as a tetrode, stereotrode, probe, shank or
   Neuropixels -> ``"unit"``;
4. several electrode groups of at most 8 electrodes each (tetrodes, stereotrodes) -> ``"unit"``;
5. probe geometry: sites closer than 100 µm (``rel_x``/``rel_y``, or ``x``/``y``, median
   nearest-neighbour distance; a Utah array's pitch is 400 µm) -> ``"unit"``;
6. more than 4 units per electrode that has units on average -> ``"unit"``;
7. otherwise (one electrode per unit, a large group, no dense geometry) -> ``"electrode"``.

`choose_policy` returns the policy and a sentence saying why; `alignnet data inspect
--channels` prints it and the `Session` keeps it (``meta.extra["channel_policy_reason"]``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

#: Sites closer than this (µm) are a probe, not a single-electrode array.
PROBE_PITCH_UM = 100.0
#: Electrode groups of at most this many electrodes are tetrodes / stereotrodes / shanks.
SMALL_GROUP = 8
#: More units than this per electrode (on average) are distinct neurons, not multi-unit hash.
MANY_UNITS_PER_ELECTRODE = 4.0
_PROBE_WORDS = re.compile(r"tetrode|stereotrode|probe|shank|neuropixel|silicon|polytrode", re.I)


def _groups(nwbfile: Any) -> list[str]:
    table = nwbfile.electrodes
    if table is None or "group" not in table.colnames:
        return []
    return [str(getattr(g, "name", g)) for g in table["group"].data[:]]


def _named_probe(nwbfile: Any) -> str | None:
    """The first device or electrode group whose name/description says tetrode/probe."""
    items = list(getattr(nwbfile, "devices", {}).values()) + list(
        getattr(nwbfile, "electrode_groups", {}).values()
    )
    for item in items:
        text = f"{getattr(item, 'name', '')} {getattr(item, 'description', '') or ''}"
        match = _PROBE_WORDS.search(text)
        if match:
            return f"{type(item).__name__} {item.name!r} says {match.group(0).lower()!r}"
    return None


def site_pitch_um(nwbfile: Any) -> float | None:
    """Median distance from each electrode to its nearest neighbour (``rel_x``/``rel_y``, or
    ``x``/``y``), in the table's units (µm by convention); None without positions."""
    table = nwbfile.electrodes
    if table is None or len(table) < 2:
        return None
    for xs, ys in (("rel_x", "rel_y"), ("x", "y")):
        if xs in table.colnames and ys in table.colnames:
            pos = np.stack(
                [np.asarray(table[xs].data[:], float), np.asarray(table[ys].data[:], float)], 1
            )
            if not np.isfinite(pos).all():
                continue
            d = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
            d[np.diag_indices_from(d)] = np.inf
            nearest = d.min(axis=1)
            nearest = nearest[np.isfinite(nearest) & (nearest > 0)]
            if nearest.size:
                return float(np.median(nearest))
    return None


def choose_policy(nwbfile: Any, links: list[np.ndarray] | None) -> tuple[str, str]:
    """``(policy, reason)`` for ``channels="auto"`` (rules in the module docstring).

    Args:
        nwbfile: the open pynwb ``NWBFile``.
        links: each unit's linked electrode rows (`alignnet.data.io.nwb_channels.unit_links`),
            or None when units are not linked to electrodes.
    """
    if links is None or not links:
        return "unit", "units are not linked to electrodes: one channel per unit"
    n_units = len(links)
    multi = sum(1 for r in links if np.unique(r).size > 1)
    if multi > n_units / 2:
        wires = int(np.median([np.unique(r).size for r in links]))
        return "unit", (
            f"{multi} of {n_units} units are each linked to several electrodes (median "
            f"{wires}): tetrodes/probes see one neuron on several wires, so units are kept "
            "apart (one channel per unit)"
        )
    named = _named_probe(nwbfile)
    if named:
        return "unit", f"{named}: units of a tetrode/probe are distinct neurons, kept apart"
    groups = _groups(nwbfile)
    sizes = {g: groups.count(g) for g in set(groups)}
    if len(sizes) >= 2 and max(sizes.values()) <= SMALL_GROUP:
        return "unit", (
            f"{len(sizes)} electrode groups of {min(sizes.values())}-{max(sizes.values())} "
            "electrodes (tetrodes/stereotrodes): units kept apart"
        )
    pitch = site_pitch_um(nwbfile)
    if pitch is not None and pitch < PROBE_PITCH_UM:
        return "unit", (
            f"sites {pitch:g} µm apart (< {PROBE_PITCH_UM:g} µm: a probe, neighbouring sites "
            "see the same neurons): units kept apart"
        )
    used = np.unique(np.concatenate([r[:1] for r in links]))
    per_electrode = n_units / max(used.size, 1)
    if per_electrode > MANY_UNITS_PER_ELECTRODE:
        return "unit", (
            f"{per_electrode:.1f} units per electrode (> {MANY_UNITS_PER_ELECTRODE:g}): distinct "
            "neurons, kept apart"
        )
    n_rows = len(nwbfile.electrodes)
    where = f"{pitch:g} µm pitch" if pitch is not None else "no site positions"
    return "electrode", (
        f"single-electrode array: each unit on one electrode, {n_rows} electrodes in "
        f"{max(len(sizes), 1)} group(s), {where}, {per_electrode:.1f} units per electrode: "
        "units summed per electrode (multi-unit activity, the same channels every day)"
    )
