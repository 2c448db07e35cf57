"""The benchmark runner: every model x protocol x seed, one cached JSON per finished cell.

A *cell* is one (model, protocol, seed). For each of the protocol's folds and each task the
model can do, the model is tuned on the fold's validation split (the first ``n_configs``
settings of its declared grid, the same budget for every model), and the chosen fit is scored
on the fold's test sets. Finished cells are written to ``OUT/cells/*.json`` (with example
predictions in ``*.npz`` for the figures); a rerun with the same settings skips them.

Outputs in ``OUT``: ``results.csv``, ``results.json`` (settings, data description, chosen
hyper-parameters, every record), ``table1.md`` and the PNG figures (see `figures`).

This module is the runner's entry point; the parts live by job: `presets` (sizes and the
registry of model rows), `tuning`, `cells` (one cell, its cache files, the worker),
`scoring` and `outputs`. Each model is reached only through the estimator contract
(`alignnet.models.contract`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.evaluation.cells import (
    CellWorker,
    cell_stem,
    install_worker,
    load_cell,
    run_installed,
)
from alignnet.evaluation.outputs import (
    causal_flags,
    check_outputs,
    earlier_cell_keys,
    write_outputs,
)
from alignnet.evaluation.presets import (
    PRESETS,
    BenchmarkPreset,
    ModelSpec,
    build_specs,
    default_rows,
)
from alignnet.names import ALL_MODELS, CONTIGUOUS, SINGLE_DAY, SYNTHETIC_PROTOCOLS, ChannelPolicy
from alignnet.utils.atomic import file_state
from alignnet.utils.outputs import folder_lock


@dataclass
class BenchmarkConfig:
    """One benchmark run.

    Attributes:
        out: output folder (created; finished cells there are reused).
        preset: a name in `PRESETS` (``"tiny"``, ``"demo"``, ``"standard"``, ``"paper"``).
        data: ``"synthetic"`` or a path to recordings.
        seeds: model seeds (the synthetic data use ``data_seed``).
        models: rows to run (default: every available one).
        protocols: protocols to run (default: all that fit the data).
        epochs_scale: multiplies every epoch count (at least 1 epoch).
        data_seed: seed of the synthetic generator.
        threads: torch CPU threads per process (1 is fastest on a shared 2-core machine).
        jobs: cells run at once, each in its own worker process with ``threads`` threads
            (``jobs * threads`` should not exceed the cores). Cells are seeded on their own,
            so the numbers do not depend on ``jobs``.
        preset_overrides: fields of the `BenchmarkPreset` to change for this run (e.g.
            ``{"cross_day_folds": 1, "n_configs": 1}`` for a shorter `paper` run); they are
            part of the settings hash, so cached cells of other settings are not reused.
        overwrite: replace ``results.csv`` / ``results.json`` / ``table1.md`` in ``out`` that
            were not written by a benchmark run (without it they are refused before any work;
            a benchmark's own outputs are always updated, see `check_outputs`).
        channels: channel policy for sorted units in NWB recordings (``"auto"``,
            ``"electrode"``, ``"unit"``); see `alignnet.data.io.nwb_channels`.
        read_options: the other reading options of a recording (``behavior``,
            ``max_gap_s``, ``missing_value``; `alignnet.data.io.load_sessions`); part of the
            settings hash when given.
    """

    out: Path
    preset: str = "demo"
    data: str = "synthetic"
    seeds: tuple[int, ...] = (0, 1, 2)
    models: tuple[str, ...] | None = None
    protocols: tuple[str, ...] | None = None
    epochs_scale: float = 1.0
    data_seed: int = 0
    threads: int = 1
    jobs: int = 1
    preset_overrides: dict[str, Any] = field(default_factory=dict)
    overwrite: bool = False
    channels: ChannelPolicy = "auto"
    read_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose from {sorted(PRESETS)}")
        known = {f.name for f in fields(BenchmarkPreset)}
        bad = set(self.preset_overrides) - known
        if bad:
            raise ValueError(f"unknown preset fields {sorted(bad)}; known: {sorted(known)}")
        if self.jobs < 1 or self.threads < 1:
            raise ValueError(f"jobs and threads must be >= 1, got {self.jobs}, {self.threads}")
        if not (self.epochs_scale > 0 and np.isfinite(self.epochs_scale)):
            raise ValueError(f"epochs_scale must be finite and > 0, got {self.epochs_scale}")
        if self.data_seed < 0 or any(s < 0 for s in self.seeds):
            raise ValueError(f"seeds must be >= 0, got {self.seeds} and data_seed {self.data_seed}")
        for key in ("cross_day_folds", "single_day_days", "n_configs"):
            value = self.preset_overrides.get(key)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"preset override {key} must be an integer >= 1, got {value!r}")
        unknown = set(self.models or ()) - set(ALL_MODELS)
        if unknown:
            raise ValueError(f"unknown models {sorted(unknown)}; known: {list(ALL_MODELS)}")

    def epochs(self, n: int) -> int:
        return max(1, int(round(n * self.epochs_scale)))

    def resolved_preset(self) -> BenchmarkPreset:
        """The preset of this run, with ``preset_overrides`` applied."""
        return replace(PRESETS[self.preset], **self.preset_overrides)


def model_specs(
    config: BenchmarkConfig, info: dict[str, Any] | None = None
) -> tuple[list[ModelSpec], dict[str, str]]:
    """Specs of the requested rows (without ``config.models``: every row that applies to the
    data described by ``info``, `default_rows`), and ``{row: reason}`` for rows that cannot
    run here."""
    models = config.models
    if models is None and info is not None:
        models = default_rows(n_days=int(info["n_days"]), continuous=bool(info["continuous"]))
    return build_specs(models, config.resolved_preset(), config.epochs)


def _settings_hash(config: BenchmarkConfig) -> str:
    """Hash of everything that changes a cell's numbers (not the list of rows or seeds)."""
    key = {
        "preset": asdict(config.resolved_preset()),
        "data": config.data,
        "epochs_scale": config.epochs_scale,
        "data_seed": config.data_seed,
        "channels": config.channels,
    }
    if config.read_options:  # only when given, so earlier runs keep their cache keys
        key["read_options"] = dict(config.read_options)
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _protocols_for(config: BenchmarkConfig, info: dict[str, Any]) -> list[str]:
    if config.protocols:
        return list(config.protocols)
    if info["continuous"]:
        return [CONTIGUOUS]
    if info["n_days"] < 3:
        return [SINGLE_DAY]
    return list(SYNTHETIC_PROTOCOLS)


@dataclass
class BenchmarkResult:
    """What `run_benchmark` produced: every record, the per-cell data and the output paths."""

    records: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    skipped: dict[str, str]
    files: dict[str, Path]
    ran: int
    reused: int


def _earlier_cells(
    out: Path, settings: str, current: set[tuple[str, str, int]], log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Finished cells of earlier runs into ``out`` (listed in its ``results.json``) that this
    run did not cover, e.g. other seeds: kept in the outputs, so two runs into one folder
    merge instead of the later one dropping the other's rows. Cells of other settings (or
    damaged ones) cannot be merged and are named in the log."""
    kept: list[dict[str, Any]] = []
    dropped: list[tuple[str, str, int]] = []
    for key in earlier_cell_keys(out):
        if key in current:
            continue
        cell = load_cell(out / "cells" / cell_stem(*key), settings)
        if cell is None:
            dropped.append(key)
        else:
            kept.append(cell)
    if kept:
        log(f"kept {len(kept)} finished cell(s) of an earlier run into {out} in the results")
    if dropped:
        log(f"results of an earlier run with other settings are replaced: {dropped[:5]}")
    return kept


def run_benchmark(
    config: BenchmarkConfig, *, progress: bool = True, log: Callable[[str], None] = print
) -> BenchmarkResult:
    """Run (or resume) the benchmark described by ``config`` and write every output file."""
    import torch
    from tqdm.auto import tqdm

    from alignnet.evaluation.data_source import load_benchmark_windows
    from alignnet.evaluation.figures import write_figures
    from alignnet.evaluation.tables import write_table1

    torch.set_num_threads(config.threads)
    preset = config.resolved_preset()
    check_outputs(config.out, overwrite=config.overwrite)  # before any work
    windows, info = load_benchmark_windows(
        config.data,
        preset=preset.data_preset,
        data_seed=config.data_seed,
        progress=progress,
        channels=config.channels,
        read_options=config.read_options,
    )
    protocols = _protocols_for(config, info)
    specs, skipped = model_specs(config, info)
    for name, why in skipped.items():
        log(f"skipping {name}: {why}")
    settings = _settings_hash(config)
    cells_dir = config.out / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(s, p, seed) for s in specs for p in protocols for seed in config.seeds]
    done: dict[tuple[str, str, int], dict[str, Any]] = {}
    todo = []
    for spec, protocol, seed in jobs:
        cached = load_cell(cells_dir / cell_stem(spec.name, protocol, seed), settings)
        if cached is not None:
            done[(spec.name, protocol, seed)] = cached
        else:
            todo.append((spec.name, protocol, seed))
    reused = len(done)
    bar = tqdm(total=len(jobs), initial=reused, desc="benchmark", unit="cell", disable=not progress)
    worker = CellWorker(
        out=config.out,
        windows=windows,
        preset=preset,
        settings=settings,
        specs={s.name: s for s in specs},
        threads=config.threads,
    )
    if config.jobs == 1 or len(todo) <= 1:
        for key in todo:
            bar.set_postfix_str(" ".join(map(str, key)))
            done[key] = worker.run_and_save(*key)
            bar.update()
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(
            max_workers=min(config.jobs, len(todo)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=install_worker,
            initargs=(worker,),
        ) as pool:
            futures = {pool.submit(run_installed, *key): key for key in todo}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                bar.set_postfix_str(" ".join(map(str, futures[future])))
                bar.update()
    bar.close()
    ran = len(todo)
    with folder_lock(config.out):  # runs into one folder write their outputs one at a time
        seen = file_state(config.out / "results.json")
        cells = [done[(s.name, p, seed)] for s, p, seed in jobs]  # job order
        cells += _earlier_cells(config.out, settings, set(done), log)
        records = [r for c in cells for r in c["records"]]
        files = write_outputs(config, info, protocols, specs, skipped, cells, records, expect=seen)
        files.update(
            write_table1(
                config.out / "table1.md",
                records,
                info=info,
                causal=causal_flags(cells),
                cells=cells,
            )
        )
        files.update(write_figures(config.out, cells, windows_info=info))
    log(f"{ran} cell(s) run, {reused} reused; results in {config.out}")
    return BenchmarkResult(records, cells, skipped, files, ran, reused)
