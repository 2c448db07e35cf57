"""Scores of a simulator's *samples* (not its rates): spike statistics against the held-out
spikes and decodability (a decoder trained on real spikes decodes the samples).

A model that declares a sampler (``sample_spikes(behavior, *, day, seed)``, e.g. AlignNet
with shared latent variability) is sampled through it; every other model's samples are
independent Poisson counts of its rates. For comparison each record also carries the
statistics of independent Poisson samples of the same rates (``poisson_*``) and, on
synthetic data, of the true rates (``truth_*``).
"""

from __future__ import annotations

import warnings
from typing import Any, Protocol, runtime_checkable

import numpy as np

from alignnet.data.windows import Windows
from alignnet.evaluation import metrics
from alignnet.evaluation.spike_stats import spike_statistics
from alignnet.models.contract import Estimator
from alignnet.names import DECODE


@runtime_checkable
class NewDaySimulator(Protocol):
    """A model that can align a new day's read-out on its unlabelled spikes."""

    def knows_simulation_day(self, day: int) -> bool: ...

    def align_for_simulation(self, windows: Windows) -> None: ...


SAMPLE_SEED_OFFSET = 7919


def poisson_samples(rates: np.ndarray, *, seed: int) -> np.ndarray:
    """Independent Poisson counts of ``rates`` ``[N, C, L]`` (float32)."""
    rng = np.random.default_rng(seed)
    return rng.poisson(np.maximum(np.asarray(rates, np.float64), 0.0)).astype(np.float32)


def draw_samples(model: Estimator, test: Windows, rates: np.ndarray, *, seed: int) -> np.ndarray:
    """``[N, C, L]`` spike samples of ``model`` for ``test``'s behaviour (see the module)."""
    sampler = getattr(model, "sample_spikes", None)
    if sampler is None:
        return poisson_samples(rates, seed=seed)
    if not model.uses_day:
        return np.asarray(sampler(test.behavior, seed=seed), np.float32)
    out = np.zeros_like(test.spikes)
    for d in test.days.tolist():
        sel = test.day == d
        part = sampler(test.behavior[sel], day=int(d), seed=seed)
        out[sel, : part.shape[1]] = part
    return out


def align_for_simulation(model: Estimator, test: Windows) -> tuple[Windows, int | None]:
    """For a model that aligns new days: if it has no read-out for the test day, align it on
    the unlabelled spikes of the first half of the day's test trials and return the second
    half to score (and the number of windows aligned on); else ``(test, None)``."""
    if not isinstance(model, NewDaySimulator):
        raise TypeError(f"{type(model).__name__} cannot align a new day for simulation")
    day = int(test.days[0])
    if model.knows_simulation_day(day):
        return test, None
    trials = np.unique(test.trial)
    if trials.size < 2:
        return test, None
    first = np.isin(test.trial, trials[: trials.size // 2])
    model.align_for_simulation(test[np.flatnonzero(first)])
    return test[np.flatnonzero(~first)], int(first.sum())


def reference_decoder(train: Windows, val: Windows, *, seed: int) -> Estimator | None:
    """The decodability decoder: a Wiener filter (4 causal lags) fitted on real spikes of
    ``train`` (penalty chosen on ``val``); None when the windows mix channel lists."""
    from alignnet.models.baselines.wiener import WienerFilter

    if train.ragged or val.ragged or train.n_channels != val.n_channels:
        return None
    return WienerFilter(n_lags=4).fit(train, val, task=DECODE, seed=seed)


def decodability(decoder: Estimator | None, test: Windows, sample: np.ndarray) -> dict:
    """Decode R^2 of the real test spikes and of ``sample``, and their ratio."""
    nan = float("nan")
    n_in = getattr(decoder, "_n_in", {}).get(DECODE)
    if decoder is None or n_in != test.n_channels:
        return {"decode_r2_real": nan, "decode_r2_sample": nan, "decodability": nan}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        real = metrics.r2_score(test.behavior, decoder.predict(test.spikes))
        simulated = metrics.r2_score(test.behavior, decoder.predict(sample))
    frac = simulated / real if np.isfinite(real) and real > 0 else nan
    return {"decode_r2_real": real, "decode_r2_sample": simulated, "decodability": frac}


def sample_scores(
    model: Estimator,
    test: Windows,
    rates: np.ndarray,
    *,
    decoder: Estimator | None,
    seed: int,
) -> dict[str, float]:
    """Statistics (``stats_*``) and decodability of the model's samples on ``test``, plus
    ``poisson_stats_*`` (independent Poisson of ``rates``) when the model has its own
    sampler, and ``truth_stats_*`` / ``truth_decodability`` of Poisson samples of the rates
    that drew the spikes (``latent_rates``, else ``true_rates``) where they exist."""
    seed = int(seed) + SAMPLE_SEED_OFFSET
    kw: dict[str, Any] = {"bin_s": test.bin_s, "target": test.target}
    sample = draw_samples(model, test, rates, seed=seed)
    out = {f"stats_{k}": v for k, v in spike_statistics(test.spikes, sample, **kw).items()}
    out.update(decodability(decoder, test, sample))
    if getattr(model, "sample_spikes", None) is not None:
        indep = poisson_samples(rates, seed=seed)
        stats = spike_statistics(test.spikes, indep, **kw)
        out.update({f"poisson_stats_{k}": v for k, v in stats.items()})
        out["poisson_decodability"] = decodability(decoder, test, indep)["decodability"]
    source = test.latent_rates if test.latent_rates is not None else test.true_rates
    if source is not None:  # the generating process itself: Poisson of the latent rates
        truth = poisson_samples(source, seed=seed)
        stats = spike_statistics(test.spikes, truth, **kw)
        out.update({f"truth_stats_{k}": v for k, v in stats.items()})
        out["truth_decodability"] = decodability(decoder, test, truth)["decodability"]
    return out
