"""One cell (model, protocol, seed): running it, its files in ``OUT/cells`` (the cache a
rerun reuses), and the worker that runs cells in this process or in a process pool.

A worker's state is one `CellWorker` object: built by the runner and used directly when
cells run in this process; with ``jobs > 1`` each worker process receives it once (pickled)
at start-up and keeps it as that process's `_INSTALLED` worker.
"""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.evaluation import metrics
from alignnet.evaluation.presets import BenchmarkPreset, ModelSpec, fold_options
from alignnet.evaluation.protocols import make_folds
from alignnet.evaluation.sample_scoring import (
    align_for_simulation,
    reference_decoder,
    sample_scores,
)
from alignnet.evaluation.scoring import channel_problem, predict_windows, score, unseen_channels
from alignnet.evaluation.tuning import tune
from alignnet.models.contract import Estimator, clone
from alignnet.names import DECODE, SIMULATE
from alignnet.utils.atomic import atomic_path, write_json_atomic

N_EXAMPLES = 3


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
        why = channel_problem(spec, fold, windows)
        if why:
            skipped.append({"fold": fold.label, "why": why})
            continue
        proto = None
        if spec.proto.pretrains:
            key = np.asarray(fold.pretrain, dtype=np.int64).tobytes()
            proto = pretrained.get(key)
            if proto is None:
                proto = clone(spec.proto).set_params(**spec.grid[0])
                proto = proto.pretrain(windows[fold.pretrain], seed=seed)
                pretrained[key] = proto
        train = windows[fold.train]
        seen = windows[
            np.union1d(fold.train, fold.pretrain if spec.proto.pretrains else fold.train)
        ]
        train_mean = train.spikes.mean(axis=(0, 2))
        decoder = None
        if SIMULATE in spec.proto.tasks:
            decoder = reference_decoder(train, windows[fold.val], seed=seed)
        for task in sorted(spec.proto.tasks):
            model, setting, tried = tune(spec, proto, fold, windows, task, seed, n_configs)
            chosen.append({"fold": fold.label, "task": task, "chosen": setting, "tried": tried})
            for test_set in fold.tests:
                test = windows[test_set.index]
                why, aligned_on = None, None
                if task == SIMULATE and spec.proto.aligns_new_days:
                    # the test spikes are the target: align on the day's first half of test
                    # trials (unlabelled), score the second half
                    test, aligned_on = align_for_simulation(model, test)
                elif task == SIMULATE:  # the test spikes are the target: never aligned on
                    why = unseen_channels(train, test, "no read-out to simulate them")
                elif not spec.proto.aligns_new_days:
                    why = unseen_channels(seen, test, "this model has no read-in for them")
                if why:
                    skipped.append(
                        {"fold": fold.label, "task": task, "test": test_set.label, "why": why}
                    )
                    continue
                pred = predict_windows(model, task, test)
                extra = {}
                if task == SIMULATE:
                    extra = sample_scores(model, test, pred, decoder=decoder, seed=seed)
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
                        **extra,
                        **({} if aligned_on is None else {"aligned_on_windows": aligned_on}),
                    }
                )
                if f_i == 0 and test_set is fold.tests[0]:
                    kind = "decode" if task == DECODE else "simulate"
                    true = test.behavior if task == DECODE else test.spikes
                    examples[f"{kind}_true"] = true[:N_EXAMPLES]
                    examples[f"{kind}_pred"] = pred[:N_EXAMPLES]
                    if task == SIMULATE:
                        examples["fr_true"] = metrics.firing_rate(test.spikes)
                        examples["fr_pred"] = metrics.expected_firing_rate(pred)
    cell = {
        "model": spec.name,
        "protocol": protocol,
        "seed": seed,
        "causal": bool(spec.proto.causal),
        "records": records,
        "hyperparameters": chosen,
        "folds": [{"label": f.label, **f.info} for f in folds],
        "skipped": skipped,
        "wall_s": time.perf_counter() - start,
    }
    return cell, examples


def cell_stem(model: str, protocol: str, seed: int) -> str:
    """File name (without suffix) of a cell's ``.json`` and ``.npz`` in ``OUT/cells``."""
    safe = model.replace("+", "plus").replace("/", "_")
    return f"{safe}__{protocol}__seed{seed}"


def load_cell(stem: Path, settings: str) -> dict[str, Any] | None:
    """A finished cell of these settings, or None (missing, other settings, or damaged: a
    cell whose JSON or example ``.npz`` does not read back, or whose example arrays do not fit
    together (`examples_consistent`), is run again)."""
    path, examples = stem.with_suffix(".json"), stem.with_suffix(".npz")
    if not path.is_file() or not examples.is_file():
        return None
    try:
        cell = json.loads(path.read_text(encoding="utf-8"))
        with np.load(examples, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}  # reads + CRC-checks
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None  # JSONDecodeError and UnicodeDecodeError are ValueErrors
    if not isinstance(cell, dict) or not isinstance(cell.get("records"), list):
        return None
    if not all(isinstance(r, dict) for r in cell["records"]) or not examples_consistent(arrays):
        return None
    return cell if cell.get("settings_hash") == settings else None


def examples_consistent(arrays: dict[str, np.ndarray]) -> bool:
    """Example arrays of a cell: ``decode_*`` / ``simulate_*`` [n, D or C, L] in true/pred
    pairs of one shape, ``fr_*`` [C] pairs of one shape, all numeric."""
    ndim = {"decode": 3, "simulate": 3, "fr": 1}
    for prefix, dims in ndim.items():
        true, pred = arrays.get(f"{prefix}_true"), arrays.get(f"{prefix}_pred")
        if true is None and pred is None:
            continue
        if true is None or pred is None or true.shape != pred.shape or true.ndim != dims:
            return False
        if true.dtype.kind not in "biuf" or pred.dtype.kind not in "biuf":
            return False
    return True


@dataclass
class CellWorker:
    """What a process needs to run cells: the windows, the specs by row, the preset and
    the output folder; `run_and_save` runs one cell and writes its files."""

    out: Path
    windows: Windows
    preset: BenchmarkPreset
    settings: str
    specs: dict[str, ModelSpec] = field(default_factory=dict)
    threads: int = 1

    def run_and_save(self, model: str, protocol: str, seed: int) -> dict[str, Any]:
        """Run one cell in this process and write its files (the JSON last: it marks it
        done)."""
        cell, examples = run_cell(
            self.specs[model],
            protocol,
            seed,
            self.windows,
            n_configs=self.preset.n_configs,
            fold_options=fold_options(protocol, self.preset, self.windows),
        )
        cell["settings_hash"] = self.settings
        stem = Path(self.out) / "cells" / cell_stem(model, protocol, seed)
        with atomic_path(stem.with_suffix(".npz")) as tmp:
            arrays: dict[str, Any] = dict(examples)
            np.savez_compressed(tmp, **arrays)
        write_json_atomic(stem.with_suffix(".json"), cell)
        return cell


#: The worker of a pool process (set once by `install_worker`; unused in the main process).
_INSTALLED: list[CellWorker] = []


def install_worker(worker: CellWorker) -> None:
    """Process-pool initializer: keep ``worker`` as this process's worker."""
    import torch

    torch.set_num_threads(worker.threads)
    _INSTALLED[:] = [worker]


def run_installed(model: str, protocol: str, seed: int) -> dict[str, Any]:
    """Run one cell with this process's installed worker (what a pool process is sent)."""
    return _INSTALLED[0].run_and_save(model, protocol, seed)
