"""`alignnet benchmark`: every model x protocol x seed, tables and figures (thin over
`alignnet.evaluation.benchmark`; heavy imports happen inside the command)."""

from __future__ import annotations

import click

from alignnet.cli.options import (
    MAX_SEED,
    POSITIVE_INT,
    SEED,
    FiniteFloat,
    channels_option,
    choice_option,
    overwrite_option,
    value_option,
)
from alignnet.names import ALL_MODELS as MODEL_NAMES
from alignnet.names import ARCH_NAMES, PRESET_NAMES
from alignnet.names import PROTOCOLS as PROTOCOL_NAMES


class _ManyValues(click.Option):
    """An option that takes every following value up to the next option:
    ``--seeds 0 1 2`` (commas work too: ``--seeds 0,1,2``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._previous_parser_process = None

    def add_to_parser(self, parser, ctx):  # click internals
        result = super().add_to_parser(parser, ctx)
        for name in self.opts:
            our = parser._long_opt.get(name) or parser._short_opt.get(name)
            if our is None:
                continue
            previous = our.process

            def process(value, state, previous=previous):
                values = [value]
                while state.rargs and not state.rargs[0].startswith("-"):
                    values.append(state.rargs.pop(0))
                previous(" ".join(values), state)

            our.process = process
        return result


def _split(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    return tuple(v for v in value.replace(",", " ").split() if v)


def _parse_shots(text: str | None) -> tuple[int, ...] | None:
    """``"0,10,25"`` -> ``(0, 10, 25)``; None -> None (the preset's)."""
    if text is None:
        return None
    try:
        values = tuple(int(v) for v in _split(text) or ())
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: whole numbers, e.g. 0,10,25", param_hint="--shots"
        ) from None
    if not values or any(v < 0 for v in values):
        raise click.BadParameter(f"{text!r}: numbers >= 0, e.g. 0,10,25", param_hint="--shots")
    return values


@click.command("benchmark")
@choice_option(
    "--preset",
    choices=PRESET_NAMES,
    default="demo",
    help="Size of data (synthetic) and of training: tiny (tests), demo (every row and "
    "protocol in minutes), standard (demo data, longer training and tuning; also for "
    "recordings), reach (standard sizes on one day of synthetic centre-out hand reaching, "
    "a regime AlignNet was not tuned on; reach-position / reach-emg: the same with hand "
    "position / EMG-like envelopes as behaviour; reach-days / reach-position-days: demo sizes "
    "on three drifting days of it), paper (22-day data).",
)
@click.option(
    "--data",
    default="synthetic",
    show_default=True,
    help="'synthetic' or a path to recordings (NWB, .mat, native folder).",
)
@click.option(
    "--seeds",
    cls=_ManyValues,
    default="0 1 2",
    show_default=True,
    help="Model seeds, e.g. --seeds 0 1 2.",
)
@click.option(
    "--models",
    cls=_ManyValues,
    default=None,
    help=f"Rows to run (default: AlignNet rows + baselines). Known: {', '.join(MODEL_NAMES)}.",
)
@click.option(
    "--protocols",
    cls=_ManyValues,
    default=None,
    help=f"Protocols (default: all that fit the data). Known: {', '.join(PROTOCOL_NAMES)}.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="Output folder; finished cells found there are reused (resume).",
)
@value_option(
    "--epochs-scale",
    type=FiniteFloat(positive=True, maximum=1000.0),
    default=1.0,
    help="Multiply every epoch count (e.g. 0.5 for a quicker run).",
)
@value_option("--data-seed", type=SEED, default=0, help="Seed of the synthetic generator.")
@value_option(
    "--threads", type=click.IntRange(min=1), default=1, help="torch CPU threads per process."
)
@value_option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    help="Cells run at once, each in its own process (jobs x threads <= cores); "
    "the numbers do not depend on it.",
)
@value_option(
    "--cross-day-folds",
    type=POSITIVE_INT,
    default=None,
    help="Override the preset's cross-day folds.",
)
@value_option(
    "--single-day-days",
    type=POSITIVE_INT,
    default=None,
    help="Score single-day on only the last N days (default: the preset's choice).",
)
@click.option(
    "--shots",
    default=None,
    help="Override the few-shot points: labelled trials of the new day, e.g. 0,10,25,50.",
)
@value_option(
    "--tuning-budget",
    type=POSITIVE_INT,
    default=None,
    help="Override the hyper-parameter settings tried per model, fold and task.",
)
@choice_option(
    "--arch",
    choices=ARCH_NAMES,
    default="default",
    help="AlignNet recipe: default (this version's) or paper (the paper reading shipped "
    "before issue 14; fine-tuning batch 64). Each AlignNet row keeps its own form (AlignNet-* "
    "causal, AlignNet-window acausal). Baselines are not affected.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@overwrite_option(
    help="Replace results.csv / results.json / table1.md in OUT that this benchmark did not "
    "write (its own outputs are updated and its finished cells reused without it).",
)
@channels_option
def benchmark(
    preset,
    data,
    seeds,
    models,
    protocols,
    out,
    epochs_scale,
    data_seed,
    threads,
    jobs,
    cross_day_folds,
    single_day_days,
    tuning_budget,
    arch,
    quiet,
    overwrite,
    shots,
    channels,
    reading,
):
    """Benchmark AlignNet and the baselines (Wiener, GRU, MLP, ResNet, ResNet+UNet, GLM).

    Runs every model x protocol x seed, caches each finished cell in OUT/cells, and writes
    results.csv, results.json, table1.md and figures (fig5-7, few-shot, days-apart) to OUT.
    """
    from alignnet.evaluation.benchmark import PRESETS, BenchmarkConfig, run_benchmark

    try:
        seed_values = tuple(int(s) for s in _split(seeds) or ())
    except ValueError as exc:
        raise click.BadParameter(f"seeds must be integers ({exc})", param_hint="--seeds") from None
    if any(not 0 <= s <= MAX_SEED for s in seed_values):
        raise click.BadParameter(
            f"seeds must be 0..{MAX_SEED}, got {seed_values}", param_hint="--seeds"
        )
    if len(set(seed_values)) < len(seed_values):  # a repeated seed would count one run twice
        unique = tuple(dict.fromkeys(seed_values))
        click.echo(f"--seeds: repeated seeds dropped, running seeds {list(unique)}", err=True)
        seed_values = unique
    unknown = set(_split(models) or ()) - set(MODEL_NAMES)
    if unknown:
        raise click.BadParameter(f"unknown {sorted(unknown)}", param_hint="--models")
    unknown = set(_split(protocols) or ()) - set(PROTOCOL_NAMES)
    if unknown:
        raise click.BadParameter(f"unknown {sorted(unknown)}", param_hint="--protocols")
    config = BenchmarkConfig(
        channels=channels,
        read_options=reading.changed(),
        out=out,
        preset=preset,
        data=data,
        seeds=seed_values or (0,),
        models=_split(models),
        protocols=_split(protocols),
        epochs_scale=epochs_scale,
        data_seed=data_seed,
        threads=threads,
        jobs=jobs,
        overwrite=overwrite,
        preset_overrides={
            key: value
            for key, value in {
                "cross_day_folds": cross_day_folds,
                "single_day_days": single_day_days,
                "n_configs": tuning_budget,
                "shots": _parse_shots(shots),
                # the recipe is part of the cache key: cells of another recipe are not reused
                "alignnet_overrides": {**PRESETS[preset].alignnet_overrides, "arch": arch},
            }.items()
            if value is not None
        },
    )
    result = run_benchmark(config, progress=not quiet, log=lambda m: click.echo(m, err=True))
    for _name, path in sorted(result.files.items()):
        click.echo(f"wrote {path}")
