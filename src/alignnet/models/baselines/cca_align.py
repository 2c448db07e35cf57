"""`CCAAlign`: the stabilised linear decoder of Gallego et al. 2020 (see
`alignnet.models.baselines.stabilized`, which holds the shared aligned-decoder machinery).

Each day has its own PCA latent space; a day's latents are mapped onto the reference day's by
canonical correlation analysis of condition-matched data (trial-averaged latent trajectories
of every target condition). Shapes: spikes ``[N, C, L]``, behaviour ``[N, D, L]``, latents
``[N, k, L]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.errors import DataError
from alignnet.models.baselines.stabilized import (
    _AlignedDecoder,
    _check_spikes,
    _fingerprint,
    _LatentWiener,
    _rows,
    _windows_of,
)
from alignnet.models.baselines.wiener import DEFAULT_ALPHAS


@dataclass
class _PCAModel:
    """``latents = (x - mean) @ components``; ``mean`` ``[C]``, ``components`` ``[C, k]``."""

    mean: np.ndarray
    components: np.ndarray

    def latents(self, rows: np.ndarray) -> np.ndarray:
        c = self.mean.shape[0]
        return (rows[:, :c] - self.mean) @ self.components


def fit_pca(rows: np.ndarray, n_components: int) -> _PCAModel:
    """PCA of ``rows`` ``[T, C]`` (eigenvectors of the covariance, signs made deterministic:
    each component's largest-magnitude loading is positive)."""
    mean = rows.mean(0)
    centred = rows - mean
    evals, evecs = np.linalg.eigh(centred.T @ centred / max(rows.shape[0] - 1, 1))
    k = min(n_components, rows.shape[1])
    comps = evecs[:, ::-1][:, :k]
    signs = np.sign(comps[np.argmax(np.abs(comps), axis=0), np.arange(k)])
    return _PCAModel(mean=mean, components=comps * np.where(signs == 0, 1.0, signs))


@dataclass
class _CCAMap:
    """Maps a day's latents ``[T, k_d]`` into the reference latent space ``[T, k_ref]``."""

    mean_day: np.ndarray
    mean_ref: np.ndarray
    matrix: np.ndarray  # [k_d, k_ref]
    correlations: np.ndarray

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return (z - self.mean_day) @ self.matrix + self.mean_ref


def cca_map(reference: np.ndarray, day: np.ndarray) -> _CCAMap:
    """CCA of matched rows ``reference`` ``[M, k_ref]`` and ``day`` ``[M, k_d]`` (QR + SVD, as
    MATLAB's ``canoncorr``), and the map of day latents onto reference latents through the
    canonical variables: ``z_ref = (z - mean_d) M_d pinv(M_ref) + mean_ref``."""
    mean_a, mean_b = reference.mean(0), day.mean(0)
    qa, ra = np.linalg.qr(reference - mean_a)
    qb, rb = np.linalg.qr(day - mean_b)
    u, s, vt = np.linalg.svd(qa.T @ qb)
    m = min(reference.shape[1], day.shape[1])
    ma = np.linalg.pinv(ra) @ u[:, :m]  # [k_ref, m]
    mb = np.linalg.pinv(rb) @ vt.T[:, :m]  # [k_d, m]
    return _CCAMap(mean_b, mean_a, mb @ np.linalg.pinv(ma), np.clip(s[:m], 0.0, 1.0))


def condition_averages(
    latents: np.ndarray, target: np.ndarray | None, conditions: list[int]
) -> np.ndarray:
    """Trial-averaged latent trajectories ``[len(conditions) * L, k]``, conditions stacked
    in order (time-aligned within the window); ``target=None`` -> one grand average."""
    if target is None:
        return latents.mean(0).T
    return np.concatenate([latents[target == c].mean(0).T for c in conditions])


class CCAAlign(_AlignedDecoder):
    """Per-day PCA latents aligned to a reference day by CCA + Wiener filter.

    Gallego et al. 2020 (see the module docstring). Fit: the reference is the training day
    with most windows; every training day gets its own PCA (``n_components`` latents of the
    square-root counts) and a CCA map onto the reference's latents, computed on
    trial-averaged latent trajectories per target condition; a Wiener filter maps the
    reference-space latents of all training days to behaviour.

    Predict on a new day: its own PCA on the given spikes, the CCA map from the condition
    averages of those spikes, the fixed filter. **The condition averages need the new day's
    target labels** (which reach each window belongs to; not its behaviour): pass
    ``target=`` ``[N]`` to `predict` (``uses_target`` is True). Without them the map is fitted
    on the grand-average trajectory only (one condition), a weaker, label-free fallback that
    is not Gallego et al.'s method; a warning says so.

    Days may have different channel counts; one day's windows may come with that day's own
    channel count, or padded with zero channels (trailing all-zero channels are trimmed to
    the count seen in training for training days).

    Args:
        n_components: PCA latent dimensionality ``k`` of every day.
        n_lags: past bins the Wiener filter sees besides the current one.
        alphas: candidate ridge penalties (chosen on the validation windows).
        align_new_days: False decodes every day with the reference day's PCA and no CCA (needs the
            reference's channel count).
    """

    name = "CCA-align"
    uses_target = True  # predict() takes the windows' target labels (condition averages)
    per_day_channels = True  # each day has its own PCA: days may have different channels
    param_grid = (
        {"n_components": 10},
        {"n_components": 6},
        {"n_components": 16},
        {"n_components": 10, "n_lags": 9},
    )

    def __init__(
        self,
        *,
        n_components: int = 10,
        n_lags: int = 4,
        alphas: tuple[float, ...] = DEFAULT_ALPHAS,
        align_new_days: bool = True,
    ) -> None:
        super().__init__(n_lags=n_lags, alphas=alphas, align_new_days=align_new_days)
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        self.n_components = n_components
        self.reference_day = -1
        self._day_models: dict[int, tuple[_PCAModel, _CCAMap | None]] = {}
        self._ref_avg: np.ndarray | None = None
        self._ref_conditions: list[int] = []
        self._ref_grand: np.ndarray | None = None
        self._ref_z = np.zeros((0, 0, 0), dtype=np.float32)  # [N_ref, k, L] reference latents
        self._ref_target = np.zeros(0, dtype=np.int64)  # [N_ref]
        self._warned: set[int | None] = set()

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "n_components": self.n_components,
            "n_lags": self.n_lags,
            "align_new_days": self.align_new_days,
            "reference_day": self.reference_day,
            "alpha": None if self._decoder is None else self._decoder.alpha,
            "method": "Gallego et al. 2020 (per-day PCA, CCA on condition averages)",
        }

    def _ref_space(self, day: int, spikes: np.ndarray) -> np.ndarray:
        """Reference-space latents ``[N, k, L]`` of a training day's windows."""
        pca, mapping = self._day_models[day]
        z = pca.latents(_rows(spikes))
        if mapping is not None:
            z = mapping(z)
        return _windows_of(z, spikes.shape[0], spikes.shape[2])

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> _AlignedDecoder:
        """Fit each training day's PCA and CCA map, then the Wiener filter."""
        self._check_fit(train, val, task)
        self.seed = int(seed)
        self.train_days = [int(d) for d in train.days]
        counts = {d: int(np.sum(train.day == d)) for d in self.train_days}
        self.reference_day = max(self.train_days, key=lambda d: (counts[d], -d))
        self._day_models.clear()
        self._warned.clear()

        ref_spikes = train.day_spikes(self.reference_day)
        ref_pca = fit_pca(_rows(ref_spikes), self.n_components)
        self._day_models[self.reference_day] = (ref_pca, None)
        n_ref, _, length = ref_spikes.shape
        ref_z = _windows_of(ref_pca.latents(_rows(ref_spikes)), n_ref, length)
        ref_target = train.target[train.day == self.reference_day]
        self._ref_conditions = sorted(int(c) for c in np.unique(ref_target) if c >= 0)
        self._ref_z, self._ref_target = ref_z, ref_target
        self._ref_grand = condition_averages(ref_z, None, [])
        for d in self.train_days:
            if d == self.reference_day:
                continue
            spikes = train.day_spikes(d)
            self._day_models[d] = self._fit_day(spikes, train.target[train.day == d], d)

        z_tr = np.concatenate([self._ref_space(d, train.day_spikes(d)) for d in self.train_days])
        y_tr = np.concatenate([train.behavior[train.day == d] for d in self.train_days])
        val_days = [int(d) for d in val.days]
        z_va = np.concatenate(
            [
                self._predict_latents(val.day_spikes(d), d, val.target[val.day == d])
                for d in val_days
            ]
        )
        y_va = np.concatenate([val.behavior[val.day == d] for d in val_days])
        self._decoder = _LatentWiener(self.n_lags, self.alphas)
        self._decoder.fit(z_tr, y_tr, z_va, y_va)
        return self

    def _fit_day(
        self, spikes: np.ndarray, target: np.ndarray | None, day: int | None
    ) -> tuple[_PCAModel, _CCAMap]:
        """PCA of one day and its CCA map onto the reference day's latents."""
        if spikes.shape[2] != self.window_len:
            raise DataError(
                f"windows of {spikes.shape[2]} bins; CCA time-aligns condition averages "
                f"of the training windows' length {self.window_len}",
                field="spikes",
                source=f"{self.name} day {day}",
            )
        rows = _rows(spikes)
        pca = fit_pca(rows, self.n_components)
        z = _windows_of(pca.latents(rows), spikes.shape[0], spikes.shape[2])
        conditions: list[int] = []
        if target is not None:
            target = np.asarray(target, dtype=np.int64).ravel()
            if target.shape[0] != spikes.shape[0]:
                raise DataError(
                    f"{target.shape[0]} labels for {spikes.shape[0]} windows",
                    field="target",
                    source=f"{self.name} day {day}",
                )
            present = set(np.unique(target).tolist())
            conditions = [c for c in self._ref_conditions if c in present]
        if conditions:
            ref = condition_averages(self._ref_z, self._ref_target, conditions)
            mine = condition_averages(z, target, conditions)
        else:
            if day not in self._warned:
                warnings.warn(
                    f"{self.name}: day {day} has no target labels shared with the reference "
                    "day; aligning on the grand-average trajectory only (not Gallego et al.'s "
                    "condition-matched CCA)",
                    UserWarning,
                    stacklevel=3,
                )
                self._warned.add(day)
            assert self._ref_grand is not None
            ref, mine = self._ref_grand, condition_averages(z, None, [])
        mapping = cca_map(ref, mine)
        if day is not None:
            self.alignment_info[day] = {
                "conditions": conditions,
                "canonical_correlations": np.round(mapping.correlations, 4).tolist(),
                "channels": int(spikes.shape[1]),
            }
        return pca, mapping

    def _trim(self, spikes: np.ndarray, day: int) -> np.ndarray:
        """A training day's windows at the channel count its PCA was fitted on."""
        n = self._day_models[day][0].mean.shape[0]
        if spikes.shape[1] < n:
            raise DataError(
                f"{spikes.shape[1]} channels, but day {day} had {n} in training",
                field="spikes",
                source=self.name,
            )
        if spikes.shape[1] > n and np.any(spikes[:, n:]):
            raise DataError(
                f"{spikes.shape[1]} channels with activity past the {n} day {day} had in training",
                field="spikes",
                source=self.name,
            )
        return spikes[:, :n]

    def _predict_latents(
        self, spikes: np.ndarray, day: int | None, target: np.ndarray | None
    ) -> np.ndarray:
        if day is not None and day in self._day_models:
            return self._ref_space(day, self._trim(spikes, day))
        if not self.align_new_days:
            return self._ref_space(self.reference_day, self._trim(spikes, self.reference_day))
        key = _fingerprint(spikes, target)
        hit = self._cached(day, key)
        if hit is None:
            hit = self._fit_day(spikes, target, day)
            if day is not None:
                self._cache[day] = (key, hit)
        pca, mapping = hit
        z = mapping(pca.latents(_rows(spikes)))
        return _windows_of(z, spikes.shape[0], spikes.shape[2])

    def predict(
        self, spikes: np.ndarray, *, day: int | None = None, target: np.ndarray | None = None
    ) -> np.ndarray:
        """Decode ``[N, C_day, L]`` counts of one day -> ``[N, D, L]`` behaviour.

        Args:
            spikes: one day's windows (its own channel count, or zero-padded).
            day: a training day uses its fitted map; any other day (or ``None``) is aligned
                on ``spikes`` themselves.
            target: ``[N]`` target condition of each window (no behaviour), for the
                condition-matched CCA of a new day (see the class docstring).
        """
        decoder = self._fitted()
        x = _check_spikes(spikes, "spikes")
        return decoder.predict(self._predict_latents(x, None if day is None else int(day), target))
