"""Which behaviour an NWB file gives: a named series, its velocity, a discrete variable, none.

A file may hold several behaviour series (hand position, hand velocity, cursor, joystick,
EMG, an animal's position, a maze arm). The reader takes a *behaviour spec*:

- ``None``: the first ``SpatialSeries`` under ``processing["behavior"]`` (in the file's
  order, which HDF5 keeps alphabetical), else its first ``TimeSeries``; a file without that
  module is an unlabelled day (no behaviour; spikes only);
- ``"none"``: read no behaviour at all (what `alignnet align` does: it uses no labels);
- ``"NAME"``: the series called ``NAME`` anywhere under ``processing`` or ``acquisition``
  (or a path such as ``"behavior/Position/cursor"``); a name that does not exist raises
  `DataError` listing the names that do;
- ``"NAME:velocity"``: the time derivative of that series (central differences on its own
  time stamps, `numpy.gradient`), in ``unit/s``, dimensions named ``v<name>``;
- ``"NAME:discrete"``: a discrete variable (target id, maze arm): one 0/1 dimension per
  value seen (``NAME=value``), so it bins, smooths and decodes like any other behaviour and
  the decoded class is the largest dimension.

Values are ``data * conversion + offset`` at ``get_timestamps()`` (series with a ``rate``
work). Missing samples (NaN, or ``missing_value`` on every dimension) are filled over short
gaps and otherwise kept as NaN (`alignnet.data.behavior_gaps`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.behavior_gaps import DEFAULT_MAX_GAP_S, fill_short_gaps, mark_missing
from alignnet.errors import DataError

TRANSFORMS = ("velocity", "discrete")
NO_BEHAVIOR = "none"


@dataclass
class BehaviorSpec:
    """A parsed ``--behavior`` value (see the module docstring)."""

    name: str | None = None
    transform: str | None = None
    skip: bool = False

    @classmethod
    def parse(cls, text: str | None) -> BehaviorSpec:
        if text is None or not str(text).strip():
            return cls()
        text = str(text).strip()
        if text.lower() == NO_BEHAVIOR:
            return cls(skip=True)
        name, _, transform = text.partition(":")
        if transform and transform not in TRANSFORMS:
            raise DataError(
                f"{text!r}: unknown transform {transform!r} (use NAME, NAME:velocity or "
                "NAME:discrete)",
                field="behavior",
            )
        return cls(name=name or None, transform=transform or None)


@dataclass
class BehaviorRead:
    """The behaviour a file gave: ``values`` ``[n, D]`` float64 (NaN = missing) at ``times``
    ``[n]`` s, dimension ``names``, ``unit``, the series' ``source`` path and gap counts."""

    values: np.ndarray
    times: np.ndarray
    names: list[str]
    unit: str
    source: str
    gaps: dict[str, int] = field(default_factory=dict)


def behavior_series(nwbfile: Any) -> dict[str, Any]:
    """Every ``TimeSeries`` a behaviour spec can name: ``"module/interface/series"`` path
    (``"acquisition/name"`` for acquired ones) -> series. Electrical series are left out."""
    from pynwb import TimeSeries
    from pynwb.ecephys import ElectricalSeries

    found: dict[str, Any] = {}
    for module_name, module in nwbfile.processing.items():
        if module_name == "ecephys":
            continue
        for iname, interface in module.data_interfaces.items():
            if isinstance(interface, TimeSeries):
                found[f"{module_name}/{iname}"] = interface
                continue
            for attr in ("spatial_series", "time_series"):
                for sname, series in (getattr(interface, attr, None) or {}).items():
                    found[f"{module_name}/{iname}/{sname}"] = series
    for name, series in nwbfile.acquisition.items():
        if isinstance(series, TimeSeries) and not isinstance(series, ElectricalSeries):
            found[f"acquisition/{name}"] = series
    return found


def _pick(nwbfile: Any, spec: BehaviorSpec, path: Path) -> tuple[str, Any] | None:
    series = behavior_series(nwbfile)
    if spec.name is None:  # the first SpatialSeries (position) if any, else the first series
        from pynwb.behavior import SpatialSeries

        first = [k for k in series if k.startswith("behavior/")]
        spatial = [k for k in first if isinstance(series[k], SpatialSeries)]
        chosen = (spatial or first)[:1]
        return (chosen[0], series[chosen[0]]) if chosen else None
    wanted = spec.name.strip("/")
    matches = [k for k in series if k == wanted or k.rsplit("/", 1)[-1] == wanted]
    if len(matches) == 1:
        return matches[0], series[matches[0]]
    names = sorted(k.rsplit("/", 1)[-1] for k in series)
    if not matches:
        raise DataError(
            f"no behaviour series named {spec.name!r}; the file has "
            f"{names or 'none'} ({', '.join(sorted(series)) or 'no series'})",
            field="behavior",
            source=path,
        )
    raise DataError(
        f"{spec.name!r} names {len(matches)} series ({matches}); pass the full path",
        field="behavior",
        source=path,
    )


def series_values(series: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(values [n, D] float64 in the series' unit, timestamps [n] s)``."""
    data = np.asarray(series.data[:], dtype=np.float64)
    conversion = float(getattr(series, "conversion", 1.0) or 1.0)
    offset = float(getattr(series, "offset", 0.0) or 0.0)
    if conversion != 1.0 or offset != 0.0:
        data = data * conversion + offset
    if data.ndim == 1:
        data = data[:, None]
    times = np.asarray(series.get_timestamps(), dtype=np.float64)
    return data, times


def default_names(n_dims: int) -> list[str]:
    """``x, y, z`` for up to three dimensions, else ``dim0 .. dim<D-1>``."""
    return ["x", "y", "z"][:n_dims] if n_dims <= 3 else [f"dim{i}" for i in range(n_dims)]


def velocity(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``[n, D]`` time derivative (central differences on the sample times, unit/s)."""
    if times.size < 2:
        raise DataError("a velocity needs at least two samples", field="behavior")
    return np.gradient(values, times, axis=0)


def one_hot(values: np.ndarray, name: str) -> tuple[np.ndarray, list[str]]:
    """A discrete ``[n, 1]`` variable as ``[n, K]`` 0/1 columns (NaN stays missing)."""
    if values.shape[1] != 1:
        raise DataError(
            f"a discrete variable has one dimension, {name!r} has {values.shape[1]}",
            field="behavior",
        )
    col = values[:, 0]
    levels = np.unique(col[np.isfinite(col)])
    if levels.size > 64:
        raise DataError(
            f"{name!r} takes {levels.size} values: not a discrete variable", field="behavior"
        )
    out = (col[:, None] == levels[None, :]).astype(np.float64)
    out[~np.isfinite(col)] = np.nan
    labels = [f"{name}={int(v) if float(v).is_integer() else v:g}" for v in levels]
    return out, labels


def read_behavior(
    nwbfile: Any,
    spec: BehaviorSpec,
    path: Path,
    *,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    missing_value: float | None = None,
) -> BehaviorRead | None:
    """The behaviour ``spec`` asks for, or None (no behaviour: skipped or absent).

    Raises:
        DataError: a name that does not exist (the message lists those that do), a series
            with inf values, a velocity of fewer than two samples.
    """
    if spec.skip:
        return None
    picked = _pick(nwbfile, spec, path)
    if picked is None:
        return None
    where, series = picked
    values, times = series_values(series)
    if np.isinf(values).any():
        raise DataError(f"{where}: inf values", field="behavior", source=path)
    values, gaps = fill_short_gaps(times, mark_missing(values, missing_value), max_gap_s=max_gap_s)
    unit = str(getattr(series, "unit", "a.u.") or "a.u.")
    names = default_names(values.shape[1])
    stored = str(getattr(series, "description", "") or "").split(",")
    if len(stored) == values.shape[1] and all(n and " " not in n for n in stored):
        names = [n.strip() for n in stored]
    short = where.rsplit("/", 1)[-1]
    if spec.transform == "velocity":
        values = velocity(times, values)
        names, unit = [f"v{n}" for n in names], f"{unit}/s"
    elif spec.transform == "discrete":
        values, names = one_hot(values, short)
        unit = "one-hot"
    return BehaviorRead(values, times, names, unit, where, gaps)
