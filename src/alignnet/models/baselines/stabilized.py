"""Stabilised linear decoders: a fixed Wiener filter on latents aligned across days.

Two methods the field sets against learned alignment; both decode a new day without any of
its behaviour, by mapping that day's latents into the latent space of the training days
and applying a Wiener filter (`alignnet.models.baselines.wiener`) fitted there once:

- `FAProcrustes` (Degenhart et al. 2020, *Nature Biomedical Engineering* 4, "Stabilization
  of a brain-computer interface via the alignment of low-dimensional spaces of neural
  activity"): factor analysis of the training days' square-root spike counts gives the
  reference loadings; a new day gets its own factor analysis, whose loadings are rotated
  onto the reference ones by orthogonal Procrustes over *stable* channels, chosen by
  iterating "align, keep the channels whose aligned loadings differ least, re-align". The
  new day's latents (posterior means under its own model, aligned) feed the fixed filter.
  Needs the same channel list every day (electrode policy).
- `CCAAlign` (`alignnet.models.baselines.cca_align`; Gallego et al. 2020, *Nature Neuroscience* 23, "Long-term stability of
  cortical population dynamics underlying consistent behavior"): each day has its own PCA
  latent space; a day's latents are mapped onto the reference day's by canonical
  correlation analysis of condition-matched data, the trial-averaged latent trajectory of
  every target condition, time-aligned and concatenated, as Gallego et al. do. This uses the
  new day's *target labels* (which reach was cued), not its behaviour. Days may have
  different channel counts (``unit`` policy).

Shapes: spikes ``[N, C, L]`` (counts per bin), behaviour ``[N, D, L]``, latents ``[N, k, L]``.
Both decoders are causal (bin ``t`` of the output uses bins ``t - n_lags .. t`` of the same
window); the per-day alignment is fitted once per day from that day's unlabelled spikes
(all of its windows), as AlignNet's zero-shot alignment is.

``predict(spikes, day=d)``: training days use the transforms fitted in `fit`; any other
day is aligned on the given spikes themselves and the alignment is cached for that day
(and refitted if the same day comes back with other spikes). ``align_new_days=False`` gives the
same decoder without alignment (the reference transform applied to every day), for
comparisons.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.errors import DataError
from alignnet.models.baselines.base import DECODE, check_task
from alignnet.models.baselines.wiener import DEFAULT_ALPHAS, RidgePath, _design, _targets
from alignnet.models.contract import Estimator

_MIN_VAR = 1e-8


# ---------------------------------------------------------------------- shared helpers
def _rows(spikes: np.ndarray) -> np.ndarray:
    """``[N, C, L]`` counts -> ``[N * L, C]`` float64 square-root counts, (window, bin) order."""
    x = np.sqrt(np.maximum(np.asarray(spikes, dtype=np.float64), 0.0))
    return x.transpose(0, 2, 1).reshape(-1, x.shape[1])


def _windows_of(rows: np.ndarray, n: int, length: int) -> np.ndarray:
    """``[N * L, k]`` -> ``[N, k, L]`` float32."""
    return rows.reshape(n, length, -1).transpose(0, 2, 1).astype(np.float32)


def _check_spikes(spikes: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(spikes, dtype=np.float32)
    if x.ndim != 3 or x.shape[0] == 0:
        raise DataError(f"expected [N, C, L] with N > 0, got {x.shape}", field=name, source="input")
    if not np.isfinite(x).all():
        raise DataError("NaN or inf values", field=name, source="input")
    return x


def _fingerprint(spikes: np.ndarray, target: np.ndarray | None = None) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(spikes.shape).encode())
    h.update(np.ascontiguousarray(spikes, dtype=np.float32).tobytes())
    if target is not None:
        h.update(np.ascontiguousarray(target, dtype=np.int64).tobytes())
    return h.hexdigest()


class _LatentWiener:
    """Wiener filter from latents ``[N, k, L]`` to behaviour ``[N, D, L]``.

    Ridge penalty chosen on validation latents, then refitted on train + validation (as
    `WienerFilter` does).
    """

    def __init__(self, n_lags: int, alphas: tuple[float, ...]) -> None:
        self.lags = list(range(n_lags + 1))
        self.alphas = alphas
        self.alpha: float | None = None
        self.path: RidgePath | None = None

    def fit(self, z_tr: np.ndarray, y_tr: np.ndarray, z_va: np.ndarray, y_va: np.ndarray) -> None:
        path = RidgePath(_design(z_tr, self.lags), _targets(y_tr))
        xv, yv = _design(z_va, self.lags), _targets(y_va)
        errors = [
            (((path.predict(xv, a) - yv) ** 2).mean(0) / np.maximum(yv.var(0), 1e-12)).mean()
            for a in self.alphas
        ]
        self.alpha = float(self.alphas[int(np.argmin(errors))])
        both_z, both_y = np.concatenate([z_tr, z_va]), np.concatenate([y_tr, y_va])
        self.path = RidgePath(_design(both_z, self.lags), _targets(both_y))

    def predict(self, z: np.ndarray) -> np.ndarray:
        assert self.path is not None and self.alpha is not None
        out = self.path.predict(_design(z, self.lags), self.alpha)
        return out.reshape(z.shape[0], z.shape[2], -1).transpose(0, 2, 1).astype(np.float32)


class _AlignedDecoder(Estimator):
    """What both stabilised decoders share: contract flags, fit checks, per-day cache.

    Fitted attributes: ``train_days``, ``window_len``, ``alignment_info`` (day -> what the
    alignment of that day found), the latent Wiener filter and the per-day cache.
    """

    name = "stabilized"
    tasks = frozenset({DECODE})
    causal = True
    uses_day = True  # predict() takes the day: each day gets its own alignment

    @property
    def aligns_new_days(self) -> bool:
        """predict() aligns a new day from its own unlabelled spikes (unless align_new_days=False)."""
        return self.align_new_days

    def __init__(self, *, n_lags: int, alphas: tuple[float, ...], align_new_days: bool) -> None:
        if n_lags < 0:
            raise ValueError(f"n_lags must be >= 0, got {n_lags}")
        self.n_lags, self.alphas = n_lags, tuple(alphas)
        self.align_new_days = bool(align_new_days)
        self.seed = 0
        self.train_days: list[int] = []
        self.window_len = 0
        self.alignment_info: dict[int, dict[str, Any]] = {}
        self._cache: dict[int, tuple[str, Any]] = {}
        self._decoder: _LatentWiener | None = None

    def _check_fit(self, train: Windows, val: Windows, task: str) -> None:
        check_task(self, task)
        if len(train) == 0 or len(val) == 0:
            raise DataError("no training or validation windows", source=self.name)
        if train.window_len != val.window_len:
            raise DataError(
                f"train windows have {train.window_len} bins, validation {val.window_len}",
                field="window_len",
                source=self.name,
            )
        self.window_len = train.window_len
        self._cache.clear()
        self.alignment_info.clear()

    def _fitted(self) -> _LatentWiener:
        if self._decoder is None:
            raise RuntimeError(f"{self.name}: call fit(..., task='decode') first")
        return self._decoder

    def _cached(self, day: int | None, key: str) -> Any | None:
        if day is None or day not in self._cache or self._cache[day][0] != key:
            return None
        return self._cache[day][1]


# ---------------------------------------------------------------------- FA + Procrustes
@dataclass
class _FAModel:
    """Factor analysis ``x = mean + loadings @ z + e``, ``z ~ N(0, I)``, ``e ~ N(0, psi)``.

    Attributes: ``mean``, ``psi``, ``active`` ``[C]``; ``loadings`` ``[C, k]`` (rows of
    inactive, zero-variance channels are 0 and those channels are ignored).
    """

    mean: np.ndarray
    loadings: np.ndarray
    psi: np.ndarray
    active: np.ndarray

    def latents(self, rows: np.ndarray, rotation: np.ndarray | None = None) -> np.ndarray:
        """Posterior means ``[T, k]`` of ``rows`` ``[T, C]``; ``rotation`` ``O`` ``[k, k]``
        gives the latents of the rotated model (loadings ``L O``): ``O^T z``."""
        a = self.active
        lam = self.loadings[a]
        lam_psi = lam.T / self.psi[a]  # [k, C_a]
        cov = np.eye(lam.shape[1]) + lam_psi @ lam
        z = np.linalg.solve(cov, lam_psi @ (rows[:, a] - self.mean[a]).T).T
        return z if rotation is None else z @ rotation


def fit_factor_analysis(rows: np.ndarray, n_factors: int, *, seed: int, where: str) -> _FAModel:
    """Factor analysis (sklearn, exact SVD) of ``rows`` ``[T, C]`` over its active channels.

    Raises:
        DataError: fewer active (non-constant) channels than factors.
    """
    from sklearn.decomposition import FactorAnalysis

    active = rows.var(0) > _MIN_VAR
    if int(active.sum()) <= n_factors:
        raise DataError(
            f"{int(active.sum())} channels with any activity; factor analysis with "
            f"{n_factors} factors needs more",
            field="spikes",
            source=where,
        )
    fa = FactorAnalysis(
        n_components=n_factors, svd_method="lapack", tol=1e-3, max_iter=500, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a baseline keeps its best fit
        fa.fit(rows[:, active])
    n = rows.shape[1]
    mean, psi = rows.mean(0), np.ones(n)
    loadings = np.zeros((n, n_factors))
    loadings[active] = fa.components_.T
    psi[active] = np.maximum(fa.noise_variance_, 1e-6)
    mean[active] = fa.mean_
    return _FAModel(mean=mean, loadings=loadings, psi=psi, active=active)


def orthogonal_procrustes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Orthogonal ``O`` ``[k, k]`` minimising ``||a @ O - b||_F`` for ``a``, ``b`` ``[n, k]``."""
    u, _, vt = np.linalg.svd(a.T @ b)
    return u @ vt


def align_stable_channels(
    loadings: np.ndarray,
    reference: np.ndarray,
    candidates: np.ndarray,
    *,
    n_stable: int,
    n_iter: int = 20,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Procrustes alignment of ``loadings`` to ``reference`` over stable channels.

    Degenhart et al.'s iteration: align on the current channel set, rank the candidate
    channels by the distance between their aligned loadings and the reference's, keep the
    ``n_stable`` closest, repeat until the set stops changing.

    Args:
        loadings, reference: ``[C, k]`` loading matrices of the new and the reference model.
        candidates: ``[C]`` bool, channels active in both.
        n_stable: size of the stable set.
        n_iter: most iterations.

    Returns:
        ``(O [k, k], stable [C] bool, iterations)``.
    """
    stable = candidates.copy()
    cand = np.flatnonzero(candidates)
    rotation = np.eye(loadings.shape[1])
    for it in range(1, n_iter + 1):
        rotation = orthogonal_procrustes(loadings[stable], reference[stable])
        dist = np.linalg.norm(loadings[cand] @ rotation - reference[cand], axis=1)
        keep = cand[np.argsort(dist, kind="stable")[:n_stable]]
        new = np.zeros_like(stable)
        new[keep] = True
        if np.array_equal(new, stable):
            return rotation, stable, it
        stable = new
    rotation = orthogonal_procrustes(loadings[stable], reference[stable])
    return rotation, stable, n_iter


class FAProcrustes(_AlignedDecoder):
    """Factor analysis + Procrustes alignment over stable channels + Wiener filter.

    Degenhart et al. 2020 (see the module docstring). Fit: factor analysis (``n_factors``
    latents) of the pooled training days' square-root counts is the reference; a Wiener
    filter maps its latents to behaviour. Predict on a new day: factor analysis of that
    day's spikes, Procrustes rotation of its loadings onto the reference over the
    ``stable_fraction`` of channels that agree best, its latents through the fixed filter.

    Args:
        n_factors: FA latent dimensionality ``k``.
        n_lags: past bins the Wiener filter sees besides the current one.
        stable_fraction: share of the channels active on both days kept as stable.
        n_iter: most Procrustes / channel-selection iterations.
        alphas: candidate ridge penalties (chosen on the validation windows).
        align_new_days: False decodes every day with the reference FA model (no alignment).
    """

    name = "FA+Procrustes"
    per_day_channels = False  # compares each channel's loadings across days
    param_grid = (
        {"n_factors": 10},
        {"n_factors": 6},
        {"n_factors": 16},
        {"n_factors": 10, "n_lags": 9},
    )

    def __init__(
        self,
        *,
        n_factors: int = 10,
        n_lags: int = 4,
        stable_fraction: float = 0.5,
        n_iter: int = 20,
        alphas: tuple[float, ...] = DEFAULT_ALPHAS,
        align_new_days: bool = True,
    ) -> None:
        super().__init__(n_lags=n_lags, alphas=alphas, align_new_days=align_new_days)
        if n_factors < 1:
            raise ValueError(f"n_factors must be >= 1, got {n_factors}")
        if not 0.0 < stable_fraction <= 1.0:
            raise ValueError(f"stable_fraction must be in (0, 1], got {stable_fraction}")
        self.n_factors, self.stable_fraction, self.n_iter = n_factors, stable_fraction, n_iter
        self.n_channels = 0
        self._reference: _FAModel | None = None

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "n_factors": self.n_factors,
            "n_factors_used": getattr(self, "n_factors_used", None),
            "n_lags": self.n_lags,
            "stable_fraction": self.stable_fraction,
            "n_iter": self.n_iter,
            "align_new_days": self.align_new_days,
            "alpha": None if self._decoder is None else self._decoder.alpha,
            "method": "Degenhart et al. 2020 (FA + Procrustes on stable channels)",
        }

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> _AlignedDecoder:
        """Fit the reference FA model and the Wiener filter (``task="decode"`` only).

        Raises:
            DataError: days with different channel lists (FA + Procrustes compares each
                channel's loadings across days, so it needs the ``electrode`` policy).
        """
        self._check_fit(train, val, task)
        for part, windows in (("train", train), ("validation", val)):
            if windows.ragged:
                raise DataError(
                    f"{part} days have different channel lists "
                    f"({windows.channel_counts()}); FA+Procrustes needs the same channels "
                    "every day (load with --channels electrode)",
                    field="channels",
                    source=self.name,
                )
        if train.channel_ids and val.channel_ids and train.channel_ids != val.channel_ids:
            raise DataError(
                "train and validation windows have different channel lists",
                field="channels",
                source=self.name,
            )
        self.seed = int(seed)
        self.n_channels = train.n_channels
        self.train_days = [int(d) for d in train.days]
        rows = _rows(train.spikes)
        # Small arrays (few active channels) get fewer factors than asked, never an error:
        # at most half the active channels, the same count on every later day.
        n_active = int((rows.var(0) > _MIN_VAR).sum())
        self.n_factors_used = max(1, min(self.n_factors, n_active // 2))
        self._reference = fit_factor_analysis(
            rows, self.n_factors_used, seed=self.seed, where=f"{self.name} training"
        )
        z_tr, z_va = self._latents(train.spikes, None), self._latents(val.spikes, None)
        self._decoder = _LatentWiener(self.n_lags, self.alphas)
        self._decoder.fit(z_tr, train.behavior, z_va, val.behavior)
        return self

    def _latents(
        self, spikes: np.ndarray, rotation: tuple[_FAModel, np.ndarray] | None
    ) -> np.ndarray:
        assert self._reference is not None
        model, o = (self._reference, None) if rotation is None else rotation
        z = model.latents(_rows(spikes), o)
        return _windows_of(z, spikes.shape[0], spikes.shape[2])

    def _alignment(self, spikes: np.ndarray, day: int | None) -> tuple[_FAModel, np.ndarray]:
        """The new day's FA model and its rotation onto the reference (cached per day)."""
        key = _fingerprint(spikes)
        hit = self._cached(day, key)
        if hit is not None:
            return hit
        assert self._reference is not None
        where = f"{self.name} day {day}"
        model = fit_factor_analysis(_rows(spikes), self.n_factors_used, seed=self.seed, where=where)
        candidates = model.active & self._reference.active
        n_stable = max(self.n_factors, int(round(self.stable_fraction * candidates.sum())))
        n_stable = min(n_stable, int(candidates.sum()))
        rotation, stable, iters = align_stable_channels(
            model.loadings,
            self._reference.loadings,
            candidates,
            n_stable=n_stable,
            n_iter=self.n_iter,
        )
        if day is not None:
            self._cache[day] = (key, (model, rotation))
            self.alignment_info[day] = {
                "stable_channels": np.flatnonzero(stable).tolist(),
                "active_channels": int(model.active.sum()),
                "iterations": iters,
            }
        return model, rotation

    def predict(self, spikes: np.ndarray, *, day: int | None = None) -> np.ndarray:
        """Decode ``[N, C, L]`` counts of one day -> ``[N, D, L]`` behaviour.

        ``day``: a training day (or ``align_new_days=False``) uses the reference FA model; any other
        day (or ``None``) is aligned on ``spikes`` themselves (no labels).
        """
        decoder = self._fitted()
        x = _check_spikes(spikes, "spikes")
        if x.shape[1] != self.n_channels:
            raise DataError(
                f"{x.shape[1]} channels, but the model was fitted on {self.n_channels}; "
                "FA+Procrustes needs the same channel list every day (electrode policy)",
                field="spikes",
                source=self.name,
            )
        if not self.align_new_days or (day is not None and int(day) in self.train_days):
            return decoder.predict(self._latents(x, None))
        aligned = self._alignment(x, None if day is None else int(day))
        return decoder.predict(self._latents(x, aligned))
