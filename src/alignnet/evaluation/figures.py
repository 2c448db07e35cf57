"""PNG figures of a benchmark run (paper Figures 5-7, few-shot and days-apart curves).

Each figure shows one *featured* model (AlignNet-LIF when present, else the best single-day
decoder) from the example predictions the runner stored per cell (``cells/*.npz``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.evaluation.cells import cell_stem
from alignnet.evaluation.tables import _sim_models, simulation_records, summarize
from alignnet.names import CONTIGUOUS, CROSS_DAY, FEATURED_ORDER, SINGLE_DAY
from alignnet.utils.atomic import atomic_path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, *, title: str | None = None) -> Path:
    """Write ``fig`` (with its ``title`` above the panels) to ``path`` as PNG, atomically."""
    if title is not None:
        fig.suptitle(title, fontsize=9)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    _plt().close(fig)
    return path


def featured_model(cells: Sequence[dict[str, Any]]) -> str | None:
    """AlignNet-LIF (or another AlignNet row) if run, else the best mean decode R^2."""
    names = {c["model"] for c in cells}
    for name in FEATURED_ORDER:
        if name in names:
            return name
    records = [r for c in cells for r in c["records"]]
    for protocol in ("single-day", "contiguous", "cross-day"):
        stats = summarize(records, metric="r2", protocol=protocol, task="decode")
        if stats:
            return max(stats, key=lambda m: stats[m][0])
    return None


def _examples(out: Path, cells: Sequence[dict[str, Any]], model: str, protocol: str) -> dict | None:
    seeds = sorted(c["seed"] for c in cells if c["model"] == model and c["protocol"] == protocol)
    if not seeds:
        return None
    path = out / "cells" / (cell_stem(model, protocol, seeds[0]) + ".npz")
    if not path.is_file():
        return None
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def fig5_decoding(panels: list[tuple[str, dict]], model: str, path: Path, bin_s: float) -> Path:
    """Decoded (blue) vs true (red) x / y per example window: 2 rows x one column per window."""
    plt = _plt()
    cols = [(label, ex, i) for label, ex in panels for i in range(len(ex["decode_true"]))]
    fig, axes = plt.subplots(2, len(cols), figsize=(2.6 * len(cols), 3.6), squeeze=False)
    for j, (label, ex, i) in enumerate(cols):
        true, pred = ex["decode_true"][i], ex["decode_pred"][i]
        t = np.arange(true.shape[-1]) * bin_s
        for d, name in enumerate(("x", "y")[: true.shape[0]]):
            ax = axes[d, j]
            ax.plot(t, true[d], color="red", lw=1.2, label="true")
            ax.plot(t, pred[d], color="blue", lw=1.0, label="decoded")
            ax.set_ylabel(name, fontsize=7)
            if d == 0:
                ax.set_title(f"{label} #{i + 1}", fontsize=8)
            ax.tick_params(labelsize=6)
        axes[1, j].set_xlabel("time, s", fontsize=7)
    axes[0, 0].legend(fontsize=6)
    return _save(fig, path, title=f"Figure 5 analogue: {model}, spike → behaviour")


def fig6_simulation(
    panels: list[tuple[str, np.ndarray, np.ndarray]], model: str, path: Path
) -> Path:
    """True counts (top) vs simulated rates (bottom), bins x channels heat maps."""
    plt = _plt()
    fig, axes = plt.subplots(2, len(panels), figsize=(3.2 * len(panels), 4.6), squeeze=False)
    for j, (label, true, rates) in enumerate(panels):
        vmax = max(float(np.percentile(true, 99)), 1e-3)
        for i, (arr, what) in enumerate(((true, "true counts"), (rates, "simulated rates"))):
            ax = axes[i, j]
            im = ax.imshow(
                arr,
                aspect="auto",
                origin="lower",
                cmap="viridis",
                vmin=0,
                vmax=vmax,
                interpolation="nearest",
            )
            ax.set_title(f"{label}: {what}", fontsize=8)
            ax.set_ylabel("channel", fontsize=7)
            ax.tick_params(labelsize=6)
        axes[1, j].set_xlabel("bin", fontsize=7)
        fig.colorbar(im, ax=axes[:, j], shrink=0.6)
    return _save(fig, path, title=f"Figure 6 analogue: {model}, behaviour → spikes")


def fig7_firing_rates(
    panels: list[tuple[str, np.ndarray, np.ndarray]], model: str, path: Path
) -> Path:
    """Eq. 20 firing rate per channel, true vs simulated, in groups of 8 channels."""
    plt = _plt()
    n_ch = len(panels[0][1])
    groups = [np.arange(s, min(s + 8, n_ch)) for s in range(0, min(n_ch, 64), 8)]
    fig, axes = plt.subplots(
        len(panels), len(groups), figsize=(1.8 * len(groups), 2.2 * len(panels)), squeeze=False
    )
    for i, (label, fr_true, fr_pred) in enumerate(panels):
        for j, ch in enumerate(groups):
            ax = axes[i, j]
            y = np.arange(ch.size)
            ax.barh(y - 0.2, fr_true[ch], height=0.4, color="red", label="true")
            ax.barh(y + 0.2, fr_pred[ch], height=0.4, color="blue", label="simulated")
            ax.set_yticks(y, [str(c + 1) for c in ch], fontsize=5)
            ax.tick_params(labelsize=5)
            ax.set_title(f"{label} ch {ch[0] + 1}-{ch[-1] + 1}", fontsize=6)
    axes[0, 0].legend(fontsize=5)
    return _save(fig, path, title=f"Figure 7 analogue: {model}, firing rate per channel (eq. 20)")


#: Panels of `fig7_spike_statistics`: (record key, title).
STAT_PANELS = (
    ("stats_fano_100ms", "Fano factor, 100 ms"),
    ("stats_fano_500ms_error", "|Fano error|, 500 ms"),
    ("stats_corr_r", "corr. matrix r vs held-out"),
    ("stats_corr_rmse", "corr. matrix RMSE"),
    ("stats_popcount_w1", "pop. count W1, spikes/bin"),
    ("decodability", "decodability (R² sim / real)"),
)


def fig7_spike_statistics(records: Sequence[dict[str, Any]], path: Path) -> Path | None:
    """Figure 7, spike statistics: each simulating model's samples against the held-out
    spikes, one panel per statistic (mean ± std over test sets and seeds), first protocol."""
    sim = simulation_records(records)
    for r in sim:  # derived rows carry their statistics under the model's keys
        for key, _ in STAT_PANELS:
            short = key[len("stats_") :] if key.startswith("stats_") else None
            if short and key not in r and f"stats_{short}" not in r and short in r:
                r[key] = r[short]
    protocols = sorted({r["protocol"] for r in sim if "stats_corr_r" in r})
    if not protocols:
        return None
    protocol = protocols[0]
    models = [m for m in _sim_models(sim) if any(
        r["model"] == m and r["protocol"] == protocol and "stats_corr_r" in r for r in sim)]  # fmt: skip
    plt = _plt()
    fig, axes = plt.subplots(1, len(STAT_PANELS), figsize=(2.6 * len(STAT_PANELS), 0.3 * len(models) + 1.6), sharey=True)  # fmt: skip
    y = np.arange(len(models))
    for ax, (key, title) in zip(axes, STAT_PANELS, strict=True):
        stats = summarize(sim, metric=key, protocol=protocol)
        means = [stats.get(m, (np.nan, 0.0, 0))[0] for m in models]
        errs = [stats.get(m, (np.nan, 0.0, 0))[1] for m in models]
        ax.barh(y, means, xerr=errs, color=["grey" if "rates" in m else "C0" for m in models])
        if key == "stats_fano_100ms":
            held = summarize(sim, metric="stats_held_out_fano_100ms", protocol=protocol)
            if held:
                ax.axvline(np.mean([v[0] for v in held.values()]), color="red", lw=1,
                           label="held-out")  # fmt: skip
                ax.legend(fontsize=6)
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=6)
    axes[0].set_yticks(y, models, fontsize=6)
    axes[0].invert_yaxis()  # first row on top
    return _save(
        fig, path, title=f"Figure 7 (spike statistics): samples vs held-out spikes, {protocol}"
    )


def curve_figure(
    records: Sequence[dict[str, Any]], *, protocol: str, key: str, xlabel: str, path: Path
) -> Path | None:
    """Decode R^2 (mean ± std over seeds) against ``key``, one line per model."""
    rows = [r for r in records if r["protocol"] == protocol and r["task"] == "decode"]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for model in sorted({r["model"] for r in rows}):
        xs = sorted({r[key] for r in rows if r["model"] == model})
        stats = [summarize(rows, metric="r2", model=model, **{key: x})[model] for x in xs]
        ax.errorbar(xs, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o", ms=3,
                    capsize=2, label=model)  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel("decode R²")
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend(fontsize=7)
    return _save(fig, path)


def write_figures(
    out: Path, cells: Sequence[dict[str, Any]], *, windows_info: dict[str, Any]
) -> dict[str, Path]:
    """Write every figure the run's cells allow; return ``{name: path}``."""
    out = Path(out)
    files: dict[str, Path] = {}
    model = featured_model(cells)
    bin_s = float(windows_info["shape"]["bin_s"])
    if model is not None:
        found = {p: _examples(out, cells, model, p) for p in (SINGLE_DAY, CROSS_DAY, CONTIGUOUS)}
        exs = {p: e for p, e in found.items() if e is not None}
        dec = [(p, e) for p, e in exs.items() if "decode_true" in e]
        if dec:
            files["fig5.png"] = fig5_decoding(dec, model, out / "fig5.png", bin_s)
        sim = [(p, e) for p, e in exs.items() if "simulate_true" in e]
        if sim:
            heat = []
            for p, e in sim:
                n = 1 if p == SINGLE_DAY else 2
                for i in range(min(n, len(e["simulate_true"]))):
                    heat.append((f"{p} #{i + 1}", e["simulate_true"][i], e["simulate_pred"][i]))
            files["fig6.png"] = fig6_simulation(heat, model, out / "fig6.png")
            fr = [(p, e["fr_true"], e["fr_pred"]) for p, e in sim]
            files["fig7.png"] = fig7_firing_rates(fr, model, out / "fig7.png")
    records = [r for c in cells for r in c["records"]]
    path = fig7_spike_statistics(records, out / "fig7_spike_statistics.png")
    if path is not None:
        files["fig7_spike_statistics.png"] = path
    for protocol, key, xlabel, name in (
        ("few-shot", "shots", "labelled trials of the new day", "fewshot.png"),
        ("days-apart", "days_apart", "days between training and test day", "days_apart.png"),
    ):
        path = curve_figure(records, protocol=protocol, key=key, xlabel=xlabel, path=out / name)
        if path is not None:
            files[name] = path
    return files
