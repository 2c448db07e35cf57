"""Optional CEBRA-Behavior embedding + kNN decoder (Schneider et al. 2023), when `cebra` is installed.

Not a dependency: `CebraDecoder` raises ``ImportError`` with an install hint if ``cebra`` is
missing, and the benchmark then skips the row with a message. Bins of all windows are
concatenated for CEBRA (its offset model pads at the ends), so it is not causal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from alignnet.data.windows import Windows
from alignnet.models.baselines.base import DECODE, check_task, check_windows_input
from alignnet.models.contract import Estimator


@contextlib.contextmanager
def _seeded_cebra_samplers(seed: int) -> Iterator[None]:
    """Make CEBRA's batch samplers reproducible while the block runs.

    CEBRA 0.6.1's ``HasGenerator.__init__`` seeds every sampler's ``torch.Generator`` with
    ``Generator.seed()``, i.e. from the OS entropy source, so two fits with the same global seed
    differ. Inside this block each new sampler's generator is seeded from ``seed`` instead.
    """
    from cebra.distributions import base

    original = base.HasGenerator.__init__

    def seeded_init(self, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._seed = seed
        self.generator.manual_seed(seed)

    base.HasGenerator.__init__ = seeded_init
    try:
        yield
    finally:
        base.HasGenerator.__init__ = original


def _bins(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).transpose(0, 2, 1).reshape(-1, x.shape[1])


class CebraDecoder(Estimator):
    """CEBRA-Behavior (offset10 model, cosine, temperature 1) and a cosine kNN readout.

    Args:
        output_dim: embedding size.
        max_iterations: CEBRA training steps.
        k_grid: kNN neighbour counts, chosen on the validation windows.

    Fitted attributes: ``chosen_k``, the CEBRA model and the kNN readout.
    """

    name = "CEBRA"
    tasks = frozenset({DECODE})
    causal = False
    param_grid = ({"output_dim": 16, "max_iterations": 2000},)

    def __init__(
        self,
        *,
        output_dim: int = 16,
        max_iterations: int = 2000,
        k_grid: tuple[int, ...] = (5, 15, 45),
    ) -> None:
        try:
            import cebra  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("CEBRA baseline needs `pip install cebra` (optional)") from exc
        self.output_dim, self.max_iterations, self.k_grid = output_dim, max_iterations, k_grid
        self.chosen_k: int | None = None

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "output_dim": self.output_dim,
            "max_iterations": self.max_iterations,
            "k": self.chosen_k,
        }

    def fit(self, train: Windows, val: Windows, *, task: str, seed: int) -> CebraDecoder:
        import cebra
        from sklearn.neighbors import KNeighborsRegressor

        from alignnet.utils.seeding import seed_everything

        check_task(self, task)
        seed_everything(seed)  # CEBRA draws its batches and weights from the global RNGs
        self._n_in = train.n_channels
        self._model = cebra.CEBRA(
            model_architecture="offset10-model",
            output_dimension=self.output_dim,
            num_hidden_units=32,
            batch_size=512,
            learning_rate=3e-4,
            temperature=1.0,
            distance="cosine",
            conditional="time_delta",
            time_offsets=1,
            max_iterations=self.max_iterations,
            device="cpu",
            verbose=False,
        )
        x, y = _bins(train.spikes), _bins(train.behavior)
        with _seeded_cebra_samplers(seed):
            self._model.fit(x, y)
        emb, emb_val, y_val = (
            self._model.transform(x),
            self._model.transform(_bins(val.spikes)),
            _bins(val.behavior),
        )
        best = None
        for k in self.k_grid:
            knn = KNeighborsRegressor(n_neighbors=k, metric="cosine").fit(emb, y)
            err = float(((knn.predict(emb_val) - y_val) ** 2).mean())
            if best is None or err < best[0]:
                best = (err, k, knn)
        assert best is not None
        _, self.chosen_k, self._knn = best
        return self

    def predict(self, spikes: np.ndarray, *, day: int | None = None) -> np.ndarray:
        if not hasattr(self, "_knn"):
            raise RuntimeError(f"{self.name}: call fit(..., task='decode') first")
        spikes = check_windows_input(spikes, n_rows=self._n_in, name="spikes")
        out = self._knn.predict(self._model.transform(_bins(spikes)))
        n, length = spikes.shape[0], spikes.shape[2]
        return out.reshape(n, length, -1).transpose(0, 2, 1).astype(np.float32)
