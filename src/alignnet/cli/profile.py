"""`alignnet profile`: per-layer firing rates, synaptic operations and energy of a model."""

from __future__ import annotations

from pathlib import Path

import click

from alignnet.cli.options import (
    MAX_RATE_HZ,
    SEED,
    FiniteFloat,
    hidden_alias,
    refuse_existing,
    value_option,
)
from alignnet.utils.limits import MAX_CHANNELS, MAX_WINDOW_BINS


def load_profile_target(checkpoint: Path):
    """``(module, prepare)`` to profile a saved AlignNet.

    ``module`` maps network input ``[N, C, L]`` to an output: for an ``AlignNetModel`` (has
    ``encode_spikes`` / ``decode_spikes``) the spike autoencoder path, i.e. both spiking towers;
    otherwise ``model.network`` itself. ``prepare`` maps raw counts ``[N, C, L]`` (numpy) to
    that input: the checkpoint's spike normalisation when it has one (unseen day: the windows'
    own statistics), else a float32 tensor of the counts.
    """
    import numpy as np
    import torch

    from alignnet.api import AlignNet  # heavy: imported only when the command runs
    from alignnet.evaluation.accounting import SpikeAutoencoderPath

    model = AlignNet.load(checkpoint)
    network = model.network
    module = SpikeAutoencoderPath(network) if hasattr(network, "encode_spikes") else network
    normalizer = model.normalizer

    def prepare(counts: np.ndarray) -> torch.Tensor:
        if normalizer is not None:
            day = np.full(counts.shape[0], -1, dtype=np.int64)
            counts = normalizer.transform_spikes(counts, day=day)
        return torch.as_tensor(np.asarray(counts, dtype=np.float32))

    return module, prepare


def example_spikes(
    *, data: Path | None, n_windows: int, n_channels: int, n_bins: int, rate_hz: float, seed: int
):
    """Spike counts ``[N, C, L]`` per 20 ms bin (float32 numpy) to profile with.

    ``data``: an ``.npz`` file with a ``spikes`` array ``[N, C, L]`` (the first ``n_windows`` are
    used); without it, Poisson counts at ``rate_hz`` per channel drawn with ``seed``.
    """
    import numpy as np

    from alignnet.data.checks import check_npz_archive
    from alignnet.errors import DataError, FileFormatError, safe_reason

    if data is None:
        rng = np.random.default_rng(seed)
        counts = rng.poisson(rate_hz * 0.02, size=(n_windows, n_channels, n_bins))
        return counts.astype(np.float32)
    check_npz_archive(data)
    try:
        with np.load(data, allow_pickle=False) as archive:
            if "spikes" not in archive.files:
                raise DataError(
                    f"no 'spikes' array (found {sorted(archive.files)})",
                    field="spikes",
                    source=data,
                )
            spikes = np.asarray(archive["spikes"][:n_windows], dtype=np.float32)
    except Exception as exc:  # zipfile/zlib/numpy errors of a damaged archive
        if isinstance(exc, DataError):
            raise
        raise FileFormatError(f"cannot read as .npz: {safe_reason(exc)}", source=data) from exc
    if spikes.ndim != 3 or spikes.shape[0] == 0:
        raise DataError(
            f"expected a non-empty [N, C, L] array, got shape {spikes.shape}",
            field="spikes",
            source=data,
        )
    if not np.all(np.isfinite(spikes)) or np.any(spikes < 0):
        raise DataError("spike counts must be finite and >= 0", field="spikes", source=data)
    return spikes


def check_profile_shape(counts, config, *, source) -> None:
    """Spikes ``[N, C, L]`` must have the model's C and an L its U-Net can halve (DataError)."""
    from alignnet.errors import DataError

    n_channels = getattr(config, "n_channels", None)
    if n_channels is not None and counts.shape[1] != n_channels:
        raise DataError(
            f"{counts.shape[1]} channels, but the model was built for {n_channels}",
            field="spikes",
            source=str(source),
        )
    levels = len(getattr(config, "widths", ()))
    if levels and counts.shape[2] % 2**levels:
        raise DataError(
            f"{counts.shape[2]} bins per window: the model's {levels} U-Net levels need a "
            f"multiple of {2**levels}",
            field="spikes",
            source=str(source),
        )


@click.command("profile")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@value_option(
    "--n-windows",
    type=click.IntRange(1, 100_000),
    default=64,
    help="Windows to run through the network (1..100000).",
)
@value_option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An .npz with a 'spikes' array [N, C, L]; default: Poisson spikes.",
)
@value_option(
    "--n-channels",
    type=click.IntRange(1, MAX_CHANNELS),
    help="Channel count of the synthetic spikes (without --data); default: the model's.",
)
@hidden_alias(
    "--channels", "old_n_channels", of="--n-channels", type=click.IntRange(1, MAX_CHANNELS)
)
@value_option(
    "--bins",
    type=click.IntRange(1, MAX_WINDOW_BINS),
    help="20 ms bins per synthetic window (without --data); default: the model's.",
)
@value_option(
    "--rate-hz",
    type=FiniteFloat(minimum=0.0, maximum=MAX_RATE_HZ),
    default=10.0,
    help=f"Firing rate of the synthetic spikes (without --data; 0..{MAX_RATE_HZ:g} Hz).",
)
@value_option("--seed", type=SEED, default=0, help="Seed of the synthetic spikes.")
@value_option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as JSON here (atomically; refuses to overwrite).",
)
def profile(
    checkpoint: Path,
    n_windows: int,
    data: Path | None,
    n_channels: int | None,
    old_n_channels: int | None,
    bins: int | None,
    rate_hz: float,
    seed: int,
    json_out: Path | None,
) -> None:
    """Print per-layer firing rate, time steps, MACs vs synaptic operations and the 45 nm
    energy estimate (0.9 pJ/accumulate, 4.6 pJ/multiply-accumulate) of CHECKPOINT's spiking
    towers (spike encoder -> spike decoder), run on N windows of spikes [N, C, L], normalised
    as the checkpoint normalises them."""
    from alignnet.evaluation.accounting import profile_model
    from alignnet.utils.atomic import atomic_path

    if json_out is not None and json_out.exists():  # before the work, not after it
        raise click.BadParameter(f"{json_out} exists; choose another file", param_hint="--json")
    refuse_existing(json_out, False, option="--json", inputs=(checkpoint, data))
    module, prepare = load_profile_target(checkpoint)
    config = getattr(getattr(module, "network", module), "config", None)
    n_channels = n_channels or old_n_channels or int(getattr(config, "n_channels", 64))
    bins = bins or int(getattr(config, "window_len", 100))
    counts = example_spikes(
        data=data,
        n_windows=n_windows,
        n_channels=n_channels,
        n_bins=bins,
        rate_hz=rate_hz,
        seed=seed,
    )
    check_profile_shape(counts, config, source=data or "--n-channels/--bins")
    try:
        report = profile_model(module, prepare(counts))
    except RuntimeError as exc:  # a shape the network's layers cannot take
        from alignnet.errors import DataError

        raise DataError(
            f"the network cannot run on spikes of shape {tuple(counts.shape)}: {exc}",
            field="spikes",
            source=str(data or "--n-channels/--bins"),
        ) from exc
    click.echo(report.to_table())
    if json_out is not None:
        import json

        with atomic_path(json_out, overwrite=False) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}")
