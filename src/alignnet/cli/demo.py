"""`alignnet demo`: the whole pipeline on synthetic data, in about a minute on a laptop CPU.

synthetic sessions -> preprocess -> pretrain ONE model (causal by default) on every day but the
last -> fine-tune decode and simulate on the two days before it -> evaluate zero-shot on the
held-out last day, on trial windows and as a closed loop (lag 0) -> ``report.md`` + figures in
the output folder. ``model.ckpt`` is what `alignnet stream` and `alignnet falcon-eval` take.
"""

from __future__ import annotations

from pathlib import Path

import click

from alignnet.cli.options import (
    DEVICE,
    EPOCHS,
    SEED,
    choice_option,
    overwrite_option,
    refuse_existing,
    value_option,
)
from alignnet.names import NEURONS


@click.command("demo")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@value_option("--seed", type=SEED, default=0, help="Seeds data and training.")
@choice_option(
    "--preset",
    choices=["tiny", "demo", "paper"],
    default="demo",
    help="Synthetic data preset.",
)
@value_option(
    "--epochs",
    type=EPOCHS,
    default=None,
    help="Maximum epochs of pretraining and of each fine-tuning (default: 12, tiny: 3; "
    "fine-tuning on small data runs at least 300 optimiser steps, which may take more).",
)
@choice_option("--neuron", choices=NEURONS, default="lif")
@value_option("--device", type=DEVICE, default="auto")
@overwrite_option(help="Write into a non-empty OUT, replacing files.")
@click.option(
    "--causal/--acausal",
    default=None,
    help="Train the causal model (default: output bin t reads bins <= t; streams bin by bin) "
    "or the paper's acausal window model (default with --arch paper).",
)
@value_option(
    "--arch",
    type=click.Choice(["default", "paper"]),
    default="default",
    help="Recipe: default (causal) or paper (the paper's acausal window model).",
)
@click.option(
    "--gru",
    is_flag=True,
    help="Also train a GRU baseline and report its window and lag-0 R² (longer run).",
)
def demo(out, seed, preset, epochs, neuron, device, overwrite, causal, arch, gru) -> None:
    """Run AlignNet end to end on synthetic data and write report.md + figures to OUT."""
    import time

    import numpy as np

    from alignnet.api import AlignNet
    from alignnet.data.preprocess import PreprocessConfig, sessions_to_windows
    from alignnet.data.synthetic import generate_sessions, make_config
    from alignnet.evaluation.metrics import pearson_r, r2_score
    from alignnet.utils.atomic import write_text_atomic

    t0 = time.perf_counter()
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise click.ClickException(
            f"{out} is not empty; choose another --out or pass --overwrite to replace its files"
        )
    refuse_existing(out, overwrite, folder=True)  # writable, not a file
    out.mkdir(parents=True, exist_ok=True)
    epochs = epochs or (3 if preset == "tiny" else 12)
    click.echo(f"[1/5] generating synthetic '{preset}' sessions (seed {seed})")
    sessions = generate_sessions(make_config(preset), seed=seed, progress=True)
    click.echo("[2/5] binning and windowing")
    windows = sessions_to_windows(sessions, PreprocessConfig(), progress=True)
    days = windows.days.tolist()
    if len(days) < 2:
        raise click.ClickException(f"the '{preset}' preset has {len(days)} day(s); need >= 2")
    held_out = days[-1]
    pre_days = days[:-1]
    fine_days = pre_days[-2:]
    pre_w, fine_w, test_w = (
        windows.select_days(pre_days),
        windows.select_days(fine_days),
        windows.select_days([held_out]),
    )
    click.echo(
        f"      {len(windows)} windows of {windows.n_channels} channels x {windows.window_len} "
        f"bins; pretrain days {pre_days}, fine-tune days {fine_days}, held-out day {held_out}"
    )
    small = preset == "tiny"
    overrides = {"arch": arch, "neuron": neuron, "device": device, "seed": seed, "epochs": epochs}
    if causal is not None:
        overrides["causal"] = causal
    if small:
        overrides.update({"model.widths": (16, 24), "model.latent_width": 16, "batch_size": 16})
    model = AlignNet(**overrides)
    kind = "causal" if model.config.model.causal else "acausal window"
    click.echo(f"[3/5] pretraining the {kind} model ({epochs} epochs max): {model}")
    pre = model.pretrain(pre_w, log_csv=out / "pretrain_log.csv")
    click.echo("[4/5] fine-tuning decode and simulate")
    model.finetune(fine_w, task="decode", log_csv=out / "finetune_decode_log.csv")
    model.finetune(fine_w, task="simulate", log_csv=out / "finetune_simulate_log.csv")
    model.save(out / "model.ckpt")

    click.echo(f"[5/5] evaluating on held-out day {held_out} (zero-shot: no labels of that day)")
    decoded = model.decode(test_w)
    rates = model.simulate(test_w)
    mean_beh = np.broadcast_to(fine_w.behavior.mean(axis=(0, 2))[None, :, None], decoded.shape)
    mean_rate = np.broadcast_to(fine_w.spikes.mean(axis=(0, 2))[None, :, None], rates.shape)
    smooth_true = _smooth(test_w.spikes)
    rows = {
        f"decode: AlignNet, {kind} (trial windows)": (
            r2_score(test_w.behavior, decoded),
            pearson_r(test_w.behavior, decoded),
        ),
        "decode: mean predictor": (r2_score(test_w.behavior, mean_beh), None),
        "simulate: AlignNet (vs counts)": (
            r2_score(test_w.spikes, rates),
            pearson_r(test_w.spikes, rates),
        ),
        "simulate: AlignNet (vs smoothed counts)": (
            r2_score(smooth_true, rates),
            pearson_r(smooth_true, rates),
        ),
        "simulate: mean-rate predictor (vs counts)": (r2_score(test_w.spikes, mean_rate), None),
    }
    from alignnet.cli import demo_closed_loop as closed

    counts_day, behavior_day = closed.held_out_stream(sessions, held_out)
    baseline = None
    if gru:
        click.echo("      GRU baseline (fine-tune days)")
        baseline = closed.train_gru(fine_w, seed=seed, epochs=epochs, device=device)
    rows.update(
        closed.closed_loop_rows(model, counts_day, behavior_day, gru=baseline, test_w=test_w)
    )
    lag0 = rows[closed.lag0_row_name(model)][0]
    window_r2 = rows[f"decode: AlignNet, {kind} (trial windows)"][0]
    from alignnet.cli.infer import simulation_report

    sim_line = simulation_report(test_w, rates)
    figures = _figures(out, test_w, decoded, rates)
    minutes = (time.perf_counter() - t0) / 60
    table = "\n".join(
        f"| {name} | {r2:.3f} | {'-' if r is None else f'{r:.3f}'} |"
        for name, (r2, r) in rows.items()
    )
    report = f"""# AlignNet demo

Synthetic preset `{preset}`, seed {seed}; {len(windows)} windows ({windows.n_channels} channels
x {windows.window_len} bins of {windows.bin_s * 1000:.0f} ms). Pretraining on days {pre_days}
({len(pre_w)} windows, {len(pre.rows)} epochs, best {pre.best_epoch}); fine-tuning (decode,
simulate) on days {fine_days}; evaluation on the held-out day {held_out} ({len(test_w)} windows),
zero-shot: only that day's unlabelled spikes were used (for its normalisation statistics).
`model.ckpt` holds the model (decode and simulate).
Neuron `{neuron}`, layout `{model.config.model.snn_layout}`, {kind} model (recipe `{arch}`).
Total time {minutes:.1f} min. Closed loop: lag-0 R^2 {lag0:.3f} = {lag0 / window_r2:.2f} x the
trial-window R^2 {window_r2:.3f}.

| model | R^2 | Pearson r |
|---|---|---|
{table}

R^2 and Pearson r are computed over all test bins per dimension (behaviour x/y, or spike
channel) and averaged over dimensions (`alignnet.evaluation.metrics`). "trial windows": each
2 s window decoded as a whole (an acausal model sees the window's later bins; a causal one
only the earlier bins of the same window). Mean predictors use the fine-tuning days' means.
"decode lag 0" rows score the closed-loop estimate: day {held_out} binned as one continuous
stream ({len(counts_day)} bins), the estimate for bin t (from bins <= t only: a causal model's
incremental stream, an acausal model's window ending at bin t) against the behaviour at bin t,
over bins t >= {windows.window_len - 1}, spikes normalised with the day's own statistics
(`alignnet.realtime.lag0`).

Simulation of the held-out day, against the generator's true rates given the behaviour (the
best any simulator can do on these spikes; docs/metrics.md): {sim_line}.

Figures: {", ".join(f"`{f}`" for f in figures)}
"""
    write_text_atomic(out / "report.md", report)
    width = max(len(name) for name in rows)
    lines = [f"{'':{width}}  {'R^2':>7}  {'Pearson r':>9}"]
    for name, (r2, r) in rows.items():
        lines.append(f"{name:{width}}  {r2:7.3f}  {'-' if r is None else f'{r:.3f}':>9}")
    click.echo("\n" + "\n".join(lines))
    click.echo("\n" + sim_line)
    click.echo(
        f"\nlag-0 R^2 {lag0:.3f} = {lag0 / window_r2:.2f} x window R^2 {window_r2:.3f}"
        f"\ndone in {minutes:.1f} min -> {out / 'report.md'}"
    )


def _smooth(spikes):
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(spikes.astype("float64"), sigma=2.0, axis=2)


def _figures(out: Path, test_w, decoded, rates) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from alignnet.utils.atomic import atomic_path

    names = []
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for i in range(min(8, len(test_w))):
        color = f"C{i}"
        axes[0].plot(test_w.behavior[i, 0], test_w.behavior[i, 1], color=color, lw=1.5)
        axes[0].plot(decoded[i, 0], decoded[i, 1], color=color, lw=1, ls="--")
    axes[0].set_title("trajectories: true (solid) vs decoded (dashed)")
    axes[0].set_aspect("equal", adjustable="datalim")
    t = np.arange(test_w.window_len) * test_w.bin_s
    axes[1].plot(t, test_w.behavior[0, 0], label="true x")
    axes[1].plot(t, decoded[0, 0], "--", label="decoded x")
    axes[1].plot(t, test_w.behavior[0, 1], label="true y")
    axes[1].plot(t, decoded[0, 1], "--", label="decoded y")
    axes[1].set_xlabel("time in window (s)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out / "decoded_trajectories.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    names.append("decoded_trajectories.png")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    vmax = float(np.percentile(test_w.spikes[0], 99)) or 1.0
    for ax, data, title in (
        (axes[0], test_w.spikes[0], "recorded counts"),
        (axes[1], rates[0], "simulated rates"),
    ):
        im = ax.imshow(
            data,
            aspect="auto",
            origin="lower",
            vmin=0,
            vmax=vmax,
            cmap="viridis",
            extent=(0, test_w.window_len * test_w.bin_s, 0, data.shape[0]),
        )
        ax.set_title(title)
        ax.set_xlabel("time in window (s)")
    axes[0].set_ylabel("channel")
    fig.colorbar(im, ax=axes, label="counts per bin")
    with atomic_path(out / "simulated_spikes.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    names.append("simulated_spikes.png")
    return names
