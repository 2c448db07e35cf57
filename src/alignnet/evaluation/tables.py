"""Markdown tables of benchmark records: the paper's Table 1 layout and companion tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.utils.atomic import write_text_atomic

# The paper's Table 1 (its private 22-day macaque data; not reproducible here).
PAPER_TABLE1: dict[str, tuple[float, float, float, float]] = {
    # model: (single-day R^2, single-day PCC, cross-day R^2, cross-day PCC)
    "Wiener": (0.354, 0.442, 0.08, 0.409),
    "GRU": (0.250, 0.194, 0.09, 0.204),
    "MLP": (0.723, 0.492, 0.366, 0.349),
    "ResNet": (0.413, 0.323, 0.327, 0.201),
    "ResNet+UNet": (0.327, 0.227, 0.390, 0.112),
    "AlignNet-LIF": (0.880, 0.539, 0.581, 0.440),  # "Ours"
}

# Reference figures (anchors): R^2 of hand velocity, first 80 % train / last 20 % test,
# contiguous.
ANCHORS: dict[str, dict[str, float]] = {
    "m1_stevenson_2011": {
        "ridge, 5 causal bins": 0.757,
        "ridge, 10 causal bins": 0.784,
        "ridge, bins t-5..t+4 (acausal)": 0.791,
        "CEBRA-Behavior causal, kNN": 0.672,
        "CEBRA-Behavior offset10 (acausal), kNN, seed 0": 0.709,
    },
    "s1_data": {
        "ridge, 5 causal bins": 0.677,
        "ridge, 10 causal bins": 0.702,
        "ridge, bins t-5..t+4 (acausal)": 0.733,
        "CEBRA-Behavior causal, kNN": 0.764,
        "CEBRA-Behavior offset10 (acausal), kNN, seed 0": 0.804,
    },
}

ROW_ORDER = (
    "Wiener", "GRU", "MLP", "ResNet", "ResNet+UNet",
    "AlignNet-LIF", "AlignNet-bitplane", "AlignNet-ANN",
    "PoissonGLM", "BehaviorMLP", "CEBRA",
)  # fmt: skip


def summarize(
    records: Sequence[dict[str, Any]], *, metric: str, **match: Any
) -> dict[str, tuple[float, float, int]]:
    """``{model: (mean, std, n)}`` of ``metric`` over records matching ``match`` (all folds,
    test sets and seeds pooled; std is the population std, 0 for one value)."""
    out: dict[str, list[float]] = {}
    for r in records:
        if all(r.get(k) == v for k, v in match.items()):
            value = r.get(metric)
            if value is not None and np.isfinite(value):
                out.setdefault(r["model"], []).append(float(value))
    return {m: (float(np.mean(v)), float(np.std(v)), len(v)) for m, v in out.items()}


def _fmt(stat: tuple[float, float, int] | None) -> str:
    if stat is None:
        return "-"
    mean, std, n = stat
    if n == 1:  # one test set: no spread to report
        return f"{mean:.3f} (n=1)"
    return f"{mean:.3f} ± {std:.3f} (n={n})"


def _models(records: Sequence[dict[str, Any]]) -> list[str]:
    present = {r["model"] for r in records}
    return [m for m in ROW_ORDER if m in present] + sorted(present - set(ROW_ORDER))


def table1_markdown(
    records: Sequence[dict[str, Any]], *, causal: dict[str, bool] | None = None
) -> str:
    """The paper's Table 1 layout (single-/cross-day, decode R^2 and simulate PCC) with the
    paper's own figures beside ours."""
    causal = causal or {}
    cols = [
        ("single-day", "decode", "r2"),
        ("single-day", "simulate", "pcc"),
        ("cross-day", "decode", "r2"),
        ("cross-day", "simulate", "pcc"),
    ]
    stats = [summarize(records, metric=m, protocol=p, task=t) for p, t, m in cols]
    lines = [
        "| model | causal | single-day spike→behaviour R² | paper | single-day behaviour→spike PCC "
        "| paper | cross-day spike→behaviour R² | paper | cross-day behaviour→spike PCC | paper |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model in _models(records):
        paper = PAPER_TABLE1.get(model)
        cells = []
        for i, s in enumerate(stats):
            cells += [_fmt(s.get(model)), "-" if paper is None else f"{paper[i]:.3f}"]
        mark = "yes" if causal.get(model) else "no"
        lines.append(f"| {model} | {mark} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


TRUE_RATES_ROW = "true rates given behaviour (ceiling)"
LATENT_ROW = "latent rates (oracle: + trial-to-trial fluctuations)"
GLM_ROW = "PoissonGLM"
INDEPENDENT = " (independent Poisson)"

#: Simulation columns: (record key, header).
SIMULATION_COLUMNS = (
    ("pcc", "PCC"),
    ("pcc_of_ceiling", "PCC / ceiling"),
    ("bits_per_spike", "bits/spike (vs test-day mean rates)"),
    ("bits_of_ceiling", "bits/spike / ceiling"),
    ("bits_over_glm", "bits/spike over the GLM"),
    ("psth_r2", "PSTH R²"),
    ("r2", "R²"),
    ("fr_error", "firing-rate error (eq. 20)"),
    ("bits_per_spike_vs_train_mean", "bits/spike vs training mean rates (counts day changes)"),
)

#: Spike-statistics columns: (key after ``stats_``, header).
STATS_COLUMNS = (
    ("rate_rmse_hz", "rate RMSE, Hz"),
    ("fano_100ms", "Fano 100 ms"),
    ("fano_100ms_error", "abs Fano error 100 ms"),
    ("fano_500ms_error", "abs Fano error 500 ms"),
    ("autocorr_rmse", "autocorr. RMSE (lags 1-5)"),
    ("corr_r", "corr. matrix r ↑"),
    ("corr_rmse", "corr. matrix RMSE"),
    ("popcount_w1", "pop. count W1"),
    ("popcount_fano", "pop. count Fano"),
)


def _sim_key(r: dict[str, Any]) -> tuple:
    return (r["protocol"], r["seed"], r["fold"], r["test"])


def simulation_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Simulation records with the derived rows and columns: ``bits_over_glm`` (a model's
    bits/spike minus the Poisson GLM's on the same test set and seed), the true-rate row
    (one record per test set, from the ``ceiling_*`` fields) and, for a model with its own
    sampler, an ``(independent Poisson)`` row of its rates' Poisson samples."""
    sim = [dict(r) for r in records if r["task"] == "simulate"]
    glm = {_sim_key(r): r.get("bits_per_spike") for r in sim if r["model"] == GLM_ROW}
    extra, seen = [], set()
    for r in sim:
        base = glm.get(_sim_key(r))
        if base is not None and r.get("bits_per_spike") is not None:
            r["bits_over_glm"] = r["bits_per_spike"] - base
        if "poisson_stats_rate_rmse_hz" in r:
            row = {k: v for k, v in r.items() if not k.startswith(("stats_", "poisson_"))}
            row["model"] = f"{r['model']}{INDEPENDENT}"
            row.update({k[len("poisson_") :]: v for k, v in r.items() if k.startswith("poisson_")})
            extra.append(row)
        key = (r["protocol"], r["fold"], r["test"])
        if "ceiling_pcc" in r and key not in seen:
            seen.add(key)
            truth: dict[str, Any] = {
                k: r[k] for k in ("protocol", "seed", "fold", "task", "test") if k in r
            }
            truth.update(
                model=TRUE_RATES_ROW,
                pcc=r["ceiling_pcc"],
                bits_per_spike=r.get("ceiling_bits_per_spike"),
                psth_r2=r.get("ceiling_psth_r2"),
                pcc_of_ceiling=1.0,
                bits_of_ceiling=1.0,
            )
            extra.append(truth)
            if "latent_pcc" in r or any(k.startswith("truth_") for k in r):
                oracle = {k: truth[k] for k in ("protocol", "seed", "fold", "task", "test")}
                oracle.update(
                    model=LATENT_ROW,
                    pcc=r.get("latent_pcc"),
                    bits_per_spike=r.get("latent_bits_per_spike"),
                )
                oracle.update(
                    {k[len("truth_") :]: v for k, v in r.items() if k.startswith("truth_")}
                )
                extra.append(oracle)
    for t in [e for e in extra if e["model"] in (TRUE_RATES_ROW, LATENT_ROW)]:
        base = next((v for k, v in glm.items() if k[0] == t["protocol"] and k[2:] ==
                     (t["fold"], t["test"])), None)  # fmt: skip
        if base is not None and t.get("bits_per_spike") is not None:
            t["bits_over_glm"] = t["bits_per_spike"] - base
    return sim + extra


def _sim_models(records: Sequence[dict[str, Any]]) -> list[str]:
    models = _models(records)
    first = [m for m in (LATENT_ROW, TRUE_RATES_ROW) if m in models]
    return first + [m for m in models if m not in first]


def simulation_markdown(records: Sequence[dict[str, Any]]) -> str:
    """Simulation metrics per protocol (`SIMULATION_COLUMNS`), with the true-rate ceiling
    row on synthetic data; see docs/metrics.md."""
    sim = [r for r in simulation_records(records) if not r["model"].endswith(INDEPENDENT)]
    keys = [k for k, _ in SIMULATION_COLUMNS]
    present = [k for k in keys if any(r.get(k) is not None for r in sim)]
    heads = [h for k, h in SIMULATION_COLUMNS if k in present]
    lines = [
        "| model | protocol | " + " | ".join(heads) + " |",
        "|---|---|" + "---|" * len(heads),
    ]
    for protocol in sorted({r["protocol"] for r in sim}):
        s = {m: summarize(sim, metric=m, protocol=protocol) for m in present}
        for model in _sim_models(sim):
            if model in s["pcc"]:
                row = " | ".join(_fmt(s[m].get(model)) for m in present)
                lines.append(f"| {model} | {protocol} | {row} |")
    return "\n".join(lines)


def spike_stats_markdown(records: Sequence[dict[str, Any]]) -> str:
    """Spike statistics of each model's samples against held-out spikes (`STATS_COLUMNS`,
    decodability), and the held-out spikes' own Fano factors; "" without them."""
    sim = simulation_records(records)
    if not any("stats_rate_rmse_hz" in r or "rate_rmse_hz" in r for r in sim):
        return ""
    for r in sim:  # model samples are stored as stats_*; derived rows already unprefixed
        r.update({k[len("stats_") :]: v for k, v in r.items() if k.startswith("stats_")})
    cols = [*STATS_COLUMNS, ("decodability", "decodability (R² sample / R² real)")]
    lines = [
        "| model | protocol | " + " | ".join(h for _, h in cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for protocol in sorted({r["protocol"] for r in sim}):
        s = {k: summarize(sim, metric=k, protocol=protocol) for k, _ in cols}
        for model in _sim_models(sim):
            if model in s["rate_rmse_hz"]:
                row = " | ".join(_fmt(s[k].get(model)) for k, _ in cols)
                lines.append(f"| {model} | {protocol} | {row} |")
        real = summarize(sim, metric="held_out_fano_100ms", protocol=protocol)
        if real:
            value = next(iter(real.values()))
            lines.append(
                f"| held-out spikes | {protocol} | - | {_fmt(value)} |" + " - |" * (len(cols) - 2)
            )
    return "\n".join(lines)


def curve_markdown(records: Sequence[dict[str, Any]], *, protocol: str, key: str) -> str:
    """Decode R^2 against ``key`` (``"shots"`` or ``"days_apart"``), one row per model."""
    rows = [r for r in records if r["protocol"] == protocol and r["task"] == "decode"]
    xs = sorted({r[key] for r in rows})
    if not xs:
        return ""
    lines = [
        "| model | " + " | ".join(f"{key}={x}" for x in xs) + " |",
        "|---" * (len(xs) + 1) + "|",
    ]
    for model in _models(rows):
        cells = []
        for x in xs:
            st = summarize(rows, metric="r2", model=model, **{key: x}).get(model)
            cells.append("-" if st is None else _fmt(st))
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def contiguous_markdown(
    records: Sequence[dict[str, Any]], *, source: str, causal: dict[str, bool]
) -> str:
    """Single-recording decode R^2 (first 80 % / last 20 %) beside the anchors' figures."""
    stats = summarize(records, metric="r2", protocol="contiguous", task="decode")
    if not stats:
        return ""
    pcc = summarize(records, metric="pcc", protocol="contiguous", task="decode")
    lines = ["| model | causal | decode R² (ours) | decode Pearson r |", "|---|---|---|---|"]
    for model in _models([r for r in records if r["protocol"] == "contiguous"]):
        if model in stats:
            mark = "yes" if causal.get(model) else "no"
            lines.append(f"| {model} | {mark} | {_fmt(stats[model])} | {_fmt(pcc.get(model))} |")
    anchor = next((v for k, v in ANCHORS.items() if k in Path(source).stem), None)
    if anchor:
        lines += ["", "Anchors (reference figures: same split, per-bin lagged features):", ""]
        lines += ["| anchor | R² |", "|---|---|"]
        lines += [f"| {k} | {v:.3f} |" for k, v in anchor.items()]
    return "\n".join(lines)


#: Where the rows that are not the paper's come from (named under the tables).
ROW_REFERENCES: dict[str, str] = {
    "AlignNet-aligned": "AlignNet-LIF with per-day read-ins; each day it was not trained on is "
    "aligned from its own unlabelled spikes before decoding (objective after NoMAD, Karpowicz "
    "et al. 2025)",
    "FA+Procrustes": "factor analysis + Procrustes alignment on stable channels, Wiener filter "
    "(Degenhart et al. 2020, Nat Biomed Eng 4:672)",
    "CCA-align": "CCA alignment of latent dynamics using the new day's target labels, Wiener "
    "filter (Gallego et al. 2020, Nat Neurosci 23:260)",
}


def skipped_markdown(
    cells: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]] = ()
) -> str:
    """The folds and test sets a model could not be scored on, with the reason (e.g. days whose
    sorted units differ, for a model that needs the same channels every day), and the scored
    test sets whose metric is undefined (a record's ``note``, e.g. test behaviour with no
    variance: R² NaN)."""
    lines = []
    for cell in cells:
        reasons: dict[str, int] = {}
        for item in cell.get("skipped", []):
            reasons[item["why"]] = reasons.get(item["why"], 0) + 1
        for why, n in reasons.items():
            lines.append(f"| {cell['model']} | {cell['protocol']} | {n} | {why} |")
    noted: dict[tuple[str, str, str], int] = {}
    for r in records:
        if r.get("note"):
            key = (r["model"], r["protocol"], f"{r['task']}: {r['note']}")
            noted[key] = noted.get(key, 0) + 1
    lines += [f"| {m} | {p} | {n} | {why} |" for (m, p, why), n in noted.items()]
    if not lines:
        return ""
    header = "| model | protocol | test sets | why not scored, or why the score is undefined |"
    return "\n".join([header, "|---|---|---|---|", *lines])


def write_table1(
    path: Path,
    records: Sequence[dict[str, Any]],
    *,
    info: dict[str, Any],
    causal: dict[str, bool],
    cells: Sequence[dict[str, Any]] = (),
) -> dict[str, Path]:
    """Write ``table1.md`` with Table 1 and the companion tables; return ``{name: path}``."""
    parts = [
        "# Benchmark results",
        "",
        f"Data: {info.get('source', '?')}; {info.get('n_days', '?')} day(s), "
        f"{info['shape']['channels']} channels, {info['shape']['window_bins']}-bin windows of "
        f"{info['shape']['bin_s'] * 1e3:g} ms. Values are mean ± std over days/folds and seeds "
        "(n = number of scored test sets).",
        "",
        "**The 'paper' columns are the AlignNet paper's own Table 1 figures, measured on its "
        "private 22-day macaque data; they are shown for orientation only and are not "
        "comparable measurements.** The paper's 'Ours' row is placed beside AlignNet-LIF.",
        "",
        "## Table 1 layout",
        "",
        table1_markdown(records, causal=causal)
        if any(r["protocol"] in ("single-day", "cross-day") for r in records)
        else "(no single-day or cross-day runs: one continuous recording, see below)",
        "",
        "## Simulation metrics",
        "",
        "Simulated rates against the held-out counts. On synthetic data the *true rates* "
        "that generated the spikes are scored the same way: the ceiling no simulator can "
        "beat; '/ ceiling' divides by it (docs/metrics.md).",
        "",
        simulation_markdown(records),
    ]
    table = spike_stats_markdown(records)
    if table:
        parts += [
            "",
            "## Spike statistics of samples",
            "",
            "Samples drawn for the held-out windows' behaviour against the held-out spikes "
            "(lower is closer unless marked ↑); the true-rate row samples Poisson counts of "
            "the true rates.",
            "",
            table,
        ]
    for protocol, key, title in (
        ("few-shot", "shots", "Few-shot: decode R² vs labelled trials of the new day"),
        ("days-apart", "days_apart", "Decode R² vs days between training and test day"),
    ):
        table = curve_markdown(records, protocol=protocol, key=key)
        if table:
            parts += ["", f"## {title}", "", table]
    table = contiguous_markdown(records, source=str(info.get("source", "")), causal=causal)
    if table:
        parts += [
            "",
            "## Single continuous recording (first 80 % train, last 20 % test)",
            "",
            table,
        ]
    table = skipped_markdown(cells, records)
    if table:
        parts += ["", "## Not scored or undefined", "", table]
    named = [m for m in ROW_REFERENCES if any(r["model"] == m for r in records)]
    if named:
        parts += ["", "## Rows not in the paper", ""]
        parts += [f"- **{m}**: {ROW_REFERENCES[m]}." for m in named]
    write_text_atomic(path, "\n".join(parts) + "\n")
    return {"table1.md": path}
