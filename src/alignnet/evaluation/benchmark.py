"""The benchmark runner: every model x protocol x seed, one cached JSON per finished cell.

A *cell* is one (model, protocol, seed). For each of the protocol's folds and each task the
model can do, the model is tuned on the fold's validation split (the first ``n_configs``
settings of its declared grid, the same budget for every model), and the chosen fit is scored
on the fold's test sets. Finished cells are written to ``OUT/cells/*.json`` (with example
predictions in ``*.npz`` for the figures); a rerun with the same settings skips them.

Outputs in ``OUT``: ``results.csv``, ``results.json`` (settings, data description, chosen
hyper-parameters, every record), ``table1.md`` and the PNG figures (see `figures`).
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.evaluation import metrics
from alignnet.evaluation.protocols import DEFAULT_SHOTS, Fold, make_folds
from alignnet.models.baselines import BASELINES, NEURAL
from alignnet.models.contract import Estimator, clone
from alignnet.names import (  # noqa: F401 - some re-exported: the row and protocol names
    ALIGNED_ROW,
    ALIGNMENT_ROWS,
    ALIGNNET_ROWS,
    ALL_MODELS,
    BASELINE_ROWS,
    CAUSAL_ROW,
    CAUSAL_ROWS,
    DECODE,
    DEFAULT_MODELS,
    LIF,
    NEURONS,
    OPTIONAL_ROWS,
    ROW_OF_NEURON,
    SIMULATE,
    SYNTHETIC_PROTOCOLS,
)
from alignnet.utils.atomic import atomic_path, write_json_atomic, write_text_atomic

N_EXAMPLES = 3


@dataclass(frozen=True)
class BenchmarkPreset:
    """Sizes of one benchmark preset.

    Attributes:
        data_preset: synthetic data preset used with ``--data synthetic`` (it sets the data
            size; recordings on disk ignore it).
        epochs: max epochs of the neural baselines (early stopping on validation).
        batch_size: neural baselines' batch size.
        n_configs: hyper-parameter settings tried per model, fold and task.
        pretrain_epochs, finetune_epochs: AlignNet's training lengths.
        alignnet_overrides: AlignNet configuration overrides (smaller networks for tiny).
        shots: few-shot points (labelled trials of the new day).
        cross_day_folds: cross-day folds (test days counted from the last).
        single_day_days: single-day folds on only the last this many days (None: every day);
            on ``paper`` these are the cross-day test days, so both protocols score the same days.
    """

    data_preset: str
    epochs: int
    batch_size: int
    n_configs: int
    pretrain_epochs: int
    finetune_epochs: int
    alignnet_overrides: dict[str, Any] = field(default_factory=dict)
    shots: tuple[int, ...] = DEFAULT_SHOTS
    cross_day_folds: int = 1
    single_day_days: int | None = None


#: ``tiny``: unit tests (seconds). ``demo``: every row and protocol on the demo data in CI-sized
#: time (one tuning setting, short training, one cross-day fold, three few-shot points).
#: ``standard``: the same data with longer training, two tuning settings, five few-shot points
#: and two cross-day folds; also the preset for recordings on disk. ``reach``: ``standard``'s
#: sizes on a different data regime (one day of centre-out hand reaching, 100 sorted units, hand
#: velocity; `alignnet.data.synthetic.reach`). ``paper``: the paper-sized synthetic data (22
#: days), four tuning settings, three cross-day folds.
PRESETS: dict[str, BenchmarkPreset] = {
    "tiny": BenchmarkPreset(
        data_preset="tiny",
        epochs=2,
        batch_size=16,
        n_configs=1,
        pretrain_epochs=1,
        finetune_epochs=1,
        alignnet_overrides={"widths": (16, 16), "latent_width": 16, "batch_size": 16},
        shots=(0, 5),
    ),
    "demo": BenchmarkPreset(
        data_preset="demo",
        epochs=15,
        batch_size=32,
        n_configs=1,
        pretrain_epochs=5,
        finetune_epochs=8,
        shots=(0, 25, 100),
        cross_day_folds=1,
        single_day_days=2,
    ),
    "standard": BenchmarkPreset(
        data_preset="demo",
        epochs=40,
        batch_size=32,
        n_configs=2,
        pretrain_epochs=15,
        finetune_epochs=20,
        shots=(0, 10, 25, 50, 100),
        cross_day_folds=2,
    ),
    "reach": BenchmarkPreset(
        data_preset="reach",
        epochs=40,
        batch_size=32,
        n_configs=2,
        pretrain_epochs=15,
        finetune_epochs=20,
        shots=(0, 10, 25, 50, 100),
        cross_day_folds=2,
    ),
    "paper": BenchmarkPreset(
        data_preset="paper",
        epochs=100,
        batch_size=64,
        n_configs=4,
        pretrain_epochs=30,
        finetune_epochs=30,
        cross_day_folds=3,
        single_day_days=3,
    ),
}


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
    channels: str = "auto"

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


# ---------------------------------------------------------------------- model specs
_ALIGNNET = "alignnet.estimator:AlignNetEstimator"


@dataclass(frozen=True)
class RowEntry:
    """How a benchmark row is built: the estimator class, its fixed parameters, which of
    the preset's training budgets it takes, and an optional dependency it needs.

    Attributes:
        target: ``"module:Class"`` of an `Estimator` (imported on use).
        params: the row's own parameters (e.g. ``{"neuron": "relu"}``).
        budget: ``"alignnet"`` (pretrain/fine-tune epochs and the preset's AlignNet
            overrides), ``"neural"`` (epochs and batch size) or None.
        requires: a module that must import (optional dependencies), or None.
    """

    target: str
    params: dict[str, Any] = field(default_factory=dict)
    budget: str | None = None
    requires: str | None = None


#: Every row of the benchmark: the one registry of models (names from `alignnet.names`).
MODEL_ROWS: dict[str, RowEntry] = {
    **{ROW_OF_NEURON[n]: RowEntry(_ALIGNNET, {"neuron": n}, "alignnet") for n in NEURONS},
    ALIGNED_ROW: RowEntry(_ALIGNNET, {"neuron": LIF, "align": True}, "alignnet"),
    CAUSAL_ROW: RowEntry(_ALIGNNET, {"neuron": LIF, "causal": True}, "alignnet"),
    **{
        name: RowEntry(
            target,
            budget="neural" if name in NEURAL else None,
            requires="cebra" if name in OPTIONAL_ROWS else None,
        )
        for name, target in BASELINES.items()
    },
}


def estimator_class(row: str) -> type[Estimator]:
    """The estimator class of ``row`` (imports it)."""
    module_name, cls_name = MODEL_ROWS[row].target.split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def make_estimator(row: str, **params: Any) -> Estimator:
    """A new, unfitted estimator of ``row`` (its fixed parameters, then ``params``)."""
    return estimator_class(row)(**{**MODEL_ROWS[row].params, **params})


@dataclass
class ModelSpec:
    """A row as the runner sees it: an unfitted prototype and the settings to try.

    ``proto`` carries the row's parameters and the preset's training budget; every fit
    starts from ``clone(proto).set_params(**setting)`` (or from a copy of the pretrained
    prototype, for an estimator that ``pretrains``). The flags are the prototype's.
    """

    name: str
    proto: Estimator
    grid: list[dict[str, Any]]

    @property
    def tasks(self) -> frozenset[str]:
        return frozenset(self.proto.tasks)

    @property
    def pretrains(self) -> bool:
        return bool(self.proto.pretrains)

    @property
    def causal(self) -> bool:
        return bool(self.proto.causal)

    @property
    def per_day_channels(self) -> bool:
        return bool(self.proto.per_day_channels)

    @property
    def aligns_new_days(self) -> bool:
        return bool(self.proto.aligns_new_days)


def _budget(entry: RowEntry, config: BenchmarkConfig) -> dict[str, Any]:
    preset = config.resolved_preset()
    if entry.budget == "alignnet":
        return {
            "pretrain_epochs": config.epochs(preset.pretrain_epochs),
            "finetune_epochs": config.epochs(preset.finetune_epochs),
            "overrides": dict(preset.alignnet_overrides),
        }
    if entry.budget == "neural":
        return {"epochs": config.epochs(preset.epochs), "batch_size": preset.batch_size}
    return {}


def model_specs(config: BenchmarkConfig) -> tuple[list[ModelSpec], dict[str, str]]:
    """Specs of the requested rows, and ``{row: reason}`` for rows that cannot run here
    (an optional dependency that does not import; any other error is raised)."""
    specs, skipped = [], {}
    for name in config.models or DEFAULT_MODELS:
        entry = MODEL_ROWS[name]
        try:
            if entry.requires:
                importlib.import_module(entry.requires)
            cls = estimator_class(name)
        except ImportError as exc:
            skipped[name] = (
                f"{entry.requires} is not installed (optional: pip install {entry.requires})"
                if entry.requires
                else f"{entry.target.split(':')[0]} not importable ({type(exc).__name__}: {exc})"
            )
            continue
        proto = cls(**{**entry.params, **_budget(entry, config)})
        specs.append(ModelSpec(name, proto, [dict(g) for g in cls.param_grid]))
    return specs, skipped


# ---------------------------------------------------------------------- scoring
def _predict(model: Estimator, task: str, windows: Windows) -> np.ndarray:
    """Predictions for ``windows``; a model that uses the day gets one day at a time, with
    that day's own channels (and the windows' targets, if it uses them)."""
    by_day = model.uses_day
    if task == SIMULATE:
        if not by_day:
            return model.simulate(windows.behavior)
        rates = np.zeros_like(windows.spikes)  # days of other widths: zero past their channels
        for d in windows.days.tolist():
            sel = windows.day == d
            pred = model.simulate(windows.behavior[sel], day=int(d))
            rates[sel, : pred.shape[1]] = pred
        return rates
    if by_day:
        out = np.empty_like(windows.behavior)
        for d in windows.days.tolist():
            sel = windows.day == d
            # Gallego et al.'s CCA alignment matches trials by target (never by behaviour).
            extra = {"target": windows.target[sel]} if model.uses_target else {}
            out[sel] = model.predict(windows.day_spikes(d), day=int(d), **extra)
        return out
    return model.predict(windows.spikes)


def _channel_problem(spec: ModelSpec, fold: Fold, windows: Windows) -> str | None:
    """Why ``spec`` cannot run ``fold`` (days with different channel lists), or None."""
    index = np.concatenate([fold.train, fold.val, *[t.index for t in fold.tests]])
    if not windows[index].ragged or spec.per_day_channels:
        return None
    return (
        "its days have different channel lists (unit policy) and this model needs the same "
        "channels every day; read the recordings with --channels electrode"
    )


def _unseen_channels(seen: Windows, test: Windows, what: str) -> str | None:
    """Why ``what`` is undefined on the test day: its channel list (sorted units) appears on
    no day the model was trained on and the model cannot align a new day; else None."""
    day = int(test.days[0])
    if any(seen.channel_ids_of(int(d)) == test.channel_ids_of(day) for d in seen.days):
        return None
    return f"day {day}'s channels (sorted units) appear on no training day: {what}"


def score(task: str, test: Windows, pred: np.ndarray, train_mean_counts: np.ndarray) -> dict:
    """Metrics of one prediction: decode R^2 / Pearson r; simulate PCC, R^2, bits/spike, FR error.

    A prediction that is constant in every dimension has no Pearson r (NaN, shown as "-").
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of all-NaN -> NaN
        return _score(task, test, pred, train_mean_counts)


def _score(task: str, test: Windows, pred: np.ndarray, train_mean_counts: np.ndarray) -> dict:
    if task == DECODE:
        return {
            "r2": metrics.r2_score(test.behavior, pred),
            "pcc": metrics.pearson_r(test.behavior, pred),
        }
    out = {
        "r2": metrics.r2_score(test.spikes, pred),
        "pcc": metrics.pearson_r(test.spikes, pred),
        "fr_error": float(metrics.firing_rate_error(test.spikes, pred).mean()),
    }
    try:
        out["bits_per_spike"] = metrics.poisson_log_likelihood_bits_per_spike(
            test.spikes, pred, reference_rates=train_mean_counts
        )
    except Exception:  # no spikes in the test set
        out["bits_per_spike"] = float("nan")
    return out


def _val_score(task: str, val: Windows, pred: np.ndarray) -> float:
    """Higher is better: validation R^2 (decode) or PCC (simulate)."""
    target = val.behavior if task == DECODE else val.spikes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = (
            metrics.r2_score(target, pred) if task == DECODE else metrics.pearson_r(target, pred)
        )
    return value if np.isfinite(value) else -np.inf


def _tune(
    spec: ModelSpec,
    pretrained: Estimator | None,
    fold: Fold,
    windows: Windows,
    task: str,
    seed: int,
    n: int,
) -> tuple[Estimator, dict[str, Any], list[dict[str, Any]]]:
    """Fit the first ``n`` grid settings (from a copy of the ``pretrained`` estimator, if
    any, else from a clone of the prototype); keep the best on validation."""
    train, val = windows[fold.train], windows[fold.val]
    best, tried = None, []
    for cfg in spec.grid[:n]:
        start = copy.deepcopy(pretrained) if pretrained is not None else clone(spec.proto)
        model = start.set_params(**cfg).fit(train, val, task=task, seed=seed)
        value = _val_score(task, val, _predict(model, task, val))
        tried.append({"setting": cfg, "val_score": value})
        if best is None or value > best[0]:
            best = (value, model, cfg)
    assert best is not None
    return best[1], {"setting": best[2], **best[1].hyperparameters()}, tried


def run_cell(
    spec: ModelSpec,
    protocol: str,
    seed: int,
    windows: Windows,
    *,
    n_configs: int,
    fold_options: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Run one (model, protocol, seed): records, chosen settings and example predictions."""
    folds = make_folds(protocol, windows, **fold_options)
    records, chosen, examples = [], [], {}
    # Folds with the same pretraining windows (every few-shot point) share one pretrained
    # model: pretraining depends only on those windows and the seed (deterministic on CPU).
    pretrained: dict[bytes, Estimator] = {}
    start = time.perf_counter()
    skipped: list[dict[str, Any]] = []
    for f_i, fold in enumerate(folds):
        why = _channel_problem(spec, fold, windows)
        if why:
            skipped.append({"fold": fold.label, "why": why})
            continue
        proto = None
        if spec.pretrains:
            key = np.asarray(fold.pretrain, dtype=np.int64).tobytes()
            proto = pretrained.get(key)
            if proto is None:
                proto = clone(spec.proto).set_params(**spec.grid[0])
                proto = proto.pretrain(windows[fold.pretrain], seed=seed)
                pretrained[key] = proto
        train = windows[fold.train]
        seen = windows[np.union1d(fold.train, fold.pretrain if spec.pretrains else fold.train)]
        train_mean = train.spikes.mean(axis=(0, 2))
        for task in sorted(spec.tasks):
            model, setting, tried = _tune(spec, proto, fold, windows, task, seed, n_configs)
            chosen.append({"fold": fold.label, "task": task, "chosen": setting, "tried": tried})
            for test_set in fold.tests:
                test = windows[test_set.index]
                why = None
                if task == SIMULATE:  # the test spikes are the target: never aligned on
                    why = _unseen_channels(train, test, "no read-out to simulate them")
                elif not spec.aligns_new_days:
                    why = _unseen_channels(seen, test, "this model has no read-in for them")
                if why:
                    skipped.append({"fold": fold.label, "task": task, "test": test_set.label, "why": why})
                    continue
                pred = _predict(model, task, test)
                records.append(
                    {
                        "model": spec.name,
                        "protocol": protocol,
                        "seed": seed,
                        "fold": fold.label,
                        "task": task,
                        "test": test_set.label,
                        "test_day": test_set.day,
                        "days_apart": test_set.days_apart,
                        "shots": fold.info.get("shots", -1),
                        "n_train_windows": len(fold.train),
                        "n_test_windows": len(test),
                        **score(task, test, pred, train_mean[: test.n_channels]),
                    }
                )
                if f_i == 0 and test_set is fold.tests[0]:
                    key = "decode" if task == DECODE else "simulate"
                    true = test.behavior if task == DECODE else test.spikes
                    examples[f"{key}_true"] = true[:N_EXAMPLES]
                    examples[f"{key}_pred"] = pred[:N_EXAMPLES]
                    if task == SIMULATE:
                        examples["fr_true"] = metrics.firing_rate(test.spikes)
                        examples["fr_pred"] = metrics.expected_firing_rate(pred)
    cell = {
        "model": spec.name,
        "protocol": protocol,
        "seed": seed,
        "causal": spec.causal,
        "records": records,
        "hyperparameters": chosen,
        "folds": [{"label": f.label, **f.info} for f in folds],
        "skipped": skipped,
        "wall_s": time.perf_counter() - start,
    }
    return cell, examples


# ---------------------------------------------------------------------- runner
def _cell_stem(model: str, protocol: str, seed: int) -> str:
    safe = model.replace("+", "plus").replace("/", "_")
    return f"{safe}__{protocol}__seed{seed}"


def _settings_hash(config: BenchmarkConfig) -> str:
    """Hash of everything that changes a cell's numbers (not the list of rows or seeds)."""
    key = {
        "preset": asdict(config.resolved_preset()),
        "data": config.data,
        "epochs_scale": config.epochs_scale,
        "data_seed": config.data_seed,
        "channels": config.channels,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _protocols_for(config: BenchmarkConfig, info: dict[str, Any]) -> list[str]:
    if config.protocols:
        return list(config.protocols)
    if info["continuous"]:
        return ["contiguous"]
    if info["n_days"] < 3:
        return ["single-day"]
    return list(SYNTHETIC_PROTOCOLS)


def _fold_options(protocol: str, preset: BenchmarkPreset, windows: Windows) -> dict[str, Any]:
    if protocol == "single-day" and preset.single_day_days is not None:
        return {"days": [int(d) for d in windows.days[-preset.single_day_days :]]}
    if protocol == "few-shot":
        return {"shots": preset.shots}
    if protocol == "cross-day":
        return {"n_folds": preset.cross_day_folds}
    return {}


@dataclass
class BenchmarkResult:
    """What `run_benchmark` produced: every record, the per-cell data and the output paths."""

    records: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    skipped: dict[str, str]
    files: dict[str, Path]
    ran: int
    reused: int


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
    )
    protocols = _protocols_for(config, info)
    specs, skipped = model_specs(config)
    for name, why in skipped.items():
        log(f"skipping {name}: {why}")
    settings = _settings_hash(config)
    cells_dir = config.out / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(s, p, seed) for s in specs for p in protocols for seed in config.seeds]
    done: dict[tuple[str, str, int], dict[str, Any]] = {}
    todo = []
    for spec, protocol, seed in jobs:
        cached = _load_cell(cells_dir / _cell_stem(spec.name, protocol, seed), settings)
        if cached is not None:
            done[(spec.name, protocol, seed)] = cached
        else:
            todo.append((spec.name, protocol, seed))
    reused = len(done)
    bar = tqdm(total=len(jobs), initial=reused, desc="benchmark", unit="cell", disable=not progress)
    if config.jobs == 1 or len(todo) <= 1:
        _init_worker(config, windows, settings, specs)
        try:
            for key in todo:
                bar.set_postfix_str(" ".join(map(str, key)))
                done[key] = _run_and_save_cell(*key)
                bar.update()
        finally:
            _WORKER.clear()  # do not keep the windows alive after the run
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(
            max_workers=min(config.jobs, len(todo)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(config, windows, settings),
        ) as pool:
            futures = {pool.submit(_run_and_save_cell, *key): key for key in todo}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                bar.set_postfix_str(" ".join(map(str, futures[future])))
                bar.update()
    bar.close()
    cells = [done[(s.name, p, seed)] for s, p, seed in jobs]  # job order, whatever ran first
    ran = len(todo)
    records = [r for c in cells for r in c["records"]]
    files = _write_outputs(config, info, protocols, specs, skipped, cells, records)
    files.update(
        write_table1(
            config.out / "table1.md", records, info=info, causal=_causal(cells), cells=cells
        )
    )
    files.update(write_figures(config.out, cells, windows_info=info))
    log(f"{ran} cell(s) run, {reused} reused; results in {config.out}")
    return BenchmarkResult(records, cells, skipped, files, ran, reused)


_WORKER: dict[str, Any] = {}


def _init_worker(
    config: BenchmarkConfig,
    windows: Windows,
    settings: str,
    specs: list[ModelSpec] | None = None,
) -> None:
    """Set up a process that runs cells (the main one when ``jobs == 1``, which passes the
    ``specs`` it already built; a worker process builds its own: specs hold closures)."""
    import torch

    torch.set_num_threads(config.threads)
    if specs is None:
        specs, _ = model_specs(config)
    _WORKER.update(
        config=config, windows=windows, settings=settings, specs={s.name: s for s in specs}
    )


def _run_and_save_cell(model: str, protocol: str, seed: int) -> dict[str, Any]:
    """Run one cell in this process and write its files (the JSON last: it marks it done)."""
    config, windows = _WORKER["config"], _WORKER["windows"]
    preset = config.resolved_preset()
    cell, examples = run_cell(
        _WORKER["specs"][model],
        protocol,
        seed,
        windows,
        n_configs=preset.n_configs,
        fold_options=_fold_options(protocol, preset, windows),
    )
    cell["settings_hash"] = _WORKER["settings"]
    stem = config.out / "cells" / _cell_stem(model, protocol, seed)
    with atomic_path(stem.with_suffix(".npz")) as tmp:
        np.savez_compressed(tmp, **examples)
    write_json_atomic(stem.with_suffix(".json"), cell)
    return cell


def _causal(cells: Sequence[dict[str, Any]]) -> dict[str, bool]:
    return {c["model"]: bool(c.get("causal", False)) for c in cells}


def _load_cell(stem: Path, settings: str) -> dict[str, Any] | None:
    """A finished cell of these settings, or None (missing, other settings, or damaged: a
    cell whose JSON or example ``.npz`` does not read back is run again)."""
    path, examples = stem.with_suffix(".json"), stem.with_suffix(".npz")
    if not path.is_file() or not examples.is_file():
        return None
    try:
        cell = json.loads(path.read_text(encoding="utf-8"))
        with np.load(examples, allow_pickle=False) as archive:
            for name in archive.files:  # reads (and CRC-checks) every array
                archive[name]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None  # JSONDecodeError and UnicodeDecodeError are ValueErrors
    if not isinstance(cell, dict) or not isinstance(cell.get("records"), list):
        return None
    return cell if cell.get("settings_hash") == settings else None


#: Key in ``results.json`` that marks an output folder as written by `run_benchmark`.
OUTPUT_MARKER = "alignnet_benchmark"
_OUTPUT_FILES = ("results.csv", "results.json", "table1.md")


def check_outputs(out: Path, *, overwrite: bool = False) -> None:
    """Refuse to replace ``results.csv`` / ``results.json`` / ``table1.md`` in ``out`` that a
    benchmark run did not write (the user's own files), unless ``overwrite``.

    A folder is the benchmark's own when its ``results.json`` carries `OUTPUT_MARKER` (or,
    written before the marker existed, the runner's ``config``/``records``/``cells`` keys);
    reruns and resumes there go on without ``overwrite``.

    Raises:
        OutputError: naming the files and the ``--overwrite`` flag.
    """
    from alignnet.errors import OutputError

    present = [name for name in _OUTPUT_FILES if (Path(out) / name).exists()]
    if not present or overwrite or _written_by_benchmark(Path(out) / "results.json"):
        return
    raise OutputError(
        f"{out}: {present} exist and were not written by alignnet benchmark; choose another "
        "--out or pass --overwrite to replace them"
    )


def _written_by_benchmark(results_json: Path) -> bool:
    try:
        data = json.loads(results_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    return OUTPUT_MARKER in data or {"config", "records", "cells"} <= set(data)


def _write_outputs(
    config: BenchmarkConfig,
    info: dict[str, Any],
    protocols: list[str],
    specs: list[ModelSpec],
    skipped: dict[str, str],
    cells: list[dict[str, Any]],
    records: list[dict[str, Any]],
) -> dict[str, Path]:
    import csv
    import io
    import platform

    import torch

    columns = [
        "model", "protocol", "seed", "fold", "task", "test", "test_day", "days_apart", "shots",
        "n_train_windows", "n_test_windows", "r2", "pcc", "bits_per_spike", "fr_error",
    ]  # fmt: skip
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    csv_path, json_path = config.out / "results.csv", config.out / "results.json"
    write_json_atomic(  # first: its marker makes the folder the benchmark's own
        json_path,
        {
            OUTPUT_MARKER: 1,
            "config": {**asdict(config), "out": str(config.out)},
            "preset": asdict(config.resolved_preset()),
            "data": info,
            "protocols": protocols,
            "models": {s.name: {"tasks": sorted(s.tasks), "causal": s.causal} for s in specs},
            "skipped": skipped,
            "hardware": {
                "machine": platform.machine(),
                "processor": platform.processor(),
                "torch": torch.__version__,
                "threads": config.threads,
            },
            "cells": [{k: v for k, v in c.items() if k != "records"} for c in cells],
            "records": records,
        },
    )
    write_text_atomic(csv_path, buf.getvalue())
    return {"results.csv": csv_path, "results.json": json_path}
