"""Output files of a benchmark run: ``results.csv`` and ``results.json``, and the check that a
run never replaces such files it did not write (``table1.md`` and the figures are written by
`alignnet.evaluation.tables` and `alignnet.evaluation.figures`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from alignnet.evaluation.presets import ModelSpec
from alignnet.utils.atomic import write_json_atomic, write_text_atomic


def causal_flags(cells: Sequence[dict[str, Any]]) -> dict[str, bool]:
    return {c["model"]: bool(c.get("causal", False)) for c in cells}


#: Key in ``results.json`` that marks an output folder as written by `run_benchmark`.
OUTPUT_MARKER = "alignnet_benchmark"
_OUTPUT_FILES = (
    "results.csv", "results.json", "table1.md",
    "fig5.png", "fig6.png", "fig7.png", "fewshot.png", "days_apart.png",
)  # fmt: skip


def check_outputs(out: Path, *, overwrite: bool = False) -> None:
    """Refuse to replace ``results.csv`` / ``results.json`` / ``table1.md`` / the figures in
    ``out`` that a benchmark run did not write (the user's own files), unless ``overwrite``.

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


def earlier_cell_keys(out: Path) -> list[tuple[str, str, int]]:
    """(model, protocol, seed) of the cells in ``out``'s ``results.json`` (an earlier run into
    the same folder); none if it is missing, unreadable or not the benchmark's own."""
    path = Path(out) / "results.json"
    if not _written_by_benchmark(path):
        return []
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        keys = [(str(c["model"]), str(c["protocol"]), int(c["seed"])) for c in cells]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []
    return list(dict.fromkeys(keys))


def write_outputs(
    config: Any,
    info: dict[str, Any],
    protocols: list[str],
    specs: Sequence[ModelSpec],
    skipped: dict[str, str],
    cells: list[dict[str, Any]],
    records: list[dict[str, Any]],
    *,
    expect: Any = None,
) -> dict[str, Path]:
    """Write ``results.json`` (first) and ``results.csv``; ``expect``: the state
    ``results.json`` must still be in (`alignnet.utils.atomic.FileState`: the file the
    merge of earlier cells read), else `OutputError`."""
    import csv
    import io
    import platform

    import torch

    columns = [
        "model", "protocol", "seed", "fold", "task", "test", "test_day", "days_apart", "shots",
        "n_train_windows", "n_test_windows", "r2", "pcc", "bits_per_spike", "fr_error",
        "bits_per_spike_vs_train_mean", "psth_r2", "ceiling_pcc", "ceiling_bits_per_spike",
        "pcc_of_ceiling", "bits_of_ceiling", "decodability", "note",
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
            "models": {
                s.name: {"tasks": sorted(s.proto.tasks), "causal": bool(s.proto.causal)}
                for s in specs
            },
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
        expect=expect,
    )
    write_text_atomic(csv_path, buf.getvalue())
    return {"results.csv": csv_path, "results.json": json_path}
