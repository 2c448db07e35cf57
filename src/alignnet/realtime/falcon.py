"""FALCON benchmark adapter: AlignNet as a ``falcon_challenge`` `BCIDecoder` (optional extra).

Install with ``pip install 'alignnet[falcon]'`` (the ``falcon-challenge`` package, MIT).
FALCON's `FalconEvaluator` serves each evaluation file bin by bin: it calls
``decoder.reset(dataset_tags)`` whenever the files in the batch change (tags: the files'
paths), then ``decoder.predict(neural_observations [batch, channels])`` once per 20 ms bin and
expects ``[batch, out_dim]`` back (M1: 64 channels -> 16 EMG; M2: 96 -> 2 finger velocities;
H1: 176 -> 7 velocities).

`AlignNetFalconDecoder` runs one `CausalStreamingDecoder` (incremental, causal AlignNet) per
batch slot; its state is reset with each new file. Each session is normalised with fixed
spike statistics: those fitted from that session's calibration file(s) (unlabelled counts,
`calibration_statistics`; FALCON ships a ``*calib*`` file for every session), or, for a
session without calibration, the checkpoint's ``day`` statistics.

Bad input raises `DataError`/`CheckpointError`/`RuntimeError` naming the problem: a stream
whose channel count differs from the checkpoint's, NaN counts, `predict` before `reset`, a
checkpoint that is acausal or not fine-tuned for decoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from alignnet.data.checks import check_array
from alignnet.errors import CheckpointError, DataError
from alignnet.names import FALCON_TASKS
from alignnet.realtime.causal import CausalStreamingDecoder
from alignnet.realtime.stats import checked_counts, spike_statistics

try:
    from falcon_challenge.config import FalconConfig, FalconTask
    from falcon_challenge.dataloaders import load_nwb
    from falcon_challenge.interface import BCIDecoder
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "alignnet.realtime.falcon needs the FALCON package: pip install 'alignnet[falcon]' "
        "(falcon-challenge >= 1.0.2)"
    ) from exc

if TYPE_CHECKING:
    from alignnet.api import AlignNet
    from alignnet.data.windows import Windows

Stats = tuple[np.ndarray, np.ndarray]


def falcon_task(name: str) -> FalconTask:
    """``"m1"`` / ``"m2"`` / ``"h1"`` -> `FalconTask` (the regression tasks AlignNet decodes)."""
    if name not in FALCON_TASKS:
        raise ValueError(f"task must be m1, m2 or h1 (continuous decoding), got {name!r}")
    return getattr(FalconTask, name)


def load_session(path: str | Path, task: FalconTask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One FALCON file through FALCON's own loader: ``(counts [T, C] float32, targets [T, D]
    float32, eval_mask [T] bool)``."""
    counts, targets, _, mask = load_nwb(str(path), dataset=task)
    return counts.astype(np.float32), np.asarray(targets, dtype=np.float32), mask.astype(bool)


def calibration_statistics(files: Iterable[str | Path], task: FalconTask) -> dict[str, Stats]:
    """Session hash -> spike ``(mean [C], std [C])`` fitted from its calibration files' counts
    (unlabelled use; several files of one session are pooled)."""
    config = FalconConfig(task=task)
    by_session: dict[str, list[np.ndarray]] = {}
    for path in files:
        counts, _, _ = load_session(path, task)
        by_session.setdefault(config.hash_dataset(Path(path)), []).append(counts)
    return {key: spike_statistics(np.concatenate(parts)) for key, parts in by_session.items()}


def falcon_windows(
    files: Sequence[str | Path], task: FalconTask, *, window_bins: int = 100
) -> Windows:
    """Training windows from FALCON files (e.g. the held-in calibration files).

    Each file is cut into back-to-back windows of ``window_bins`` bins (the tail is dropped);
    ``day`` = the file's session index in sorted order of session hashes, ``trial`` = the
    window's index in its file.
    """
    from alignnet.data.windows import Windows

    config = FalconConfig(task=task)
    sessions = sorted({config.hash_dataset(Path(f)) for f in files})
    spikes, behavior, day, trial, t_start = [], [], [], [], []
    next_trial: dict[int, int] = {}
    for path in files:
        counts, targets, _ = load_session(path, task)
        d = sessions.index(config.hash_dataset(Path(path)))
        n = counts.shape[0] // window_bins
        for i in range(n):
            cut = slice(i * window_bins, (i + 1) * window_bins)
            spikes.append(counts[cut].T)
            behavior.append(targets[cut].T)
            day.append(d)
            trial.append(next_trial.get(d, 0))
            next_trial[d] = trial[-1] + 1
            t_start.append(i * window_bins * 0.02)
    if not spikes:
        raise DataError(f"no file holds a full window of {window_bins} bins", source="FALCON")
    return Windows(
        spikes=np.stack(spikes),
        behavior=np.stack(behavior),
        day=np.asarray(day, dtype=np.int64),
        trial=np.asarray(trial, dtype=np.int64),
        t_start=np.asarray(t_start, dtype=np.float64),
        target=np.full(len(day), -1, dtype=np.int64),
        behavior_names=[f"y{i}" for i in range(behavior[0].shape[0])],
    )


class AlignNetFalconDecoder(BCIDecoder):
    """A causal AlignNet checkpoint as a FALCON `BCIDecoder` (incremental, one bin per call).

    Args:
        task_config: FALCON's `FalconConfig` of the task (its channel count and output size
            must match the checkpoint's).
        model: a causal `AlignNet` fine-tuned for decoding, or the path of its checkpoint.
        calibration: session hash -> spike ``(mean, std)`` (see `calibration_statistics`).
        day: checkpoint day whose stored statistics a session without calibration uses
            (None: such a session is an error).
        batch_size: sessions decoded in parallel (FALCON serves one file per slot).
    """

    def __init__(
        self,
        task_config: FalconConfig,
        model: AlignNet | str | Path,
        *,
        calibration: dict[str, Stats] | None = None,
        day: int | None = None,
        batch_size: int = 1,
    ) -> None:
        super().__init__(task_config, batch_size=batch_size)
        if isinstance(model, (str, Path)):
            from alignnet.api import AlignNet

            model = AlignNet.load(model, device="cpu")
        cfg = model.config.model
        if "decode" not in model.tasks:
            raise CheckpointError(
                f"this checkpoint was trained for {model.tasks}, not for decoding: a FALCON "
                "decoder needs a model fine-tuned with finetune(task='decode')"
            )
        if not cfg.causal:
            raise CheckpointError(
                "FALCON scores every bin as it arrives: the decoder needs a causal AlignNet "
                "(the default of `alignnet pretrain` and AlignNet()); this checkpoint is the "
                "acausal window model (--acausal, --arch paper or causal=False)"
            )
        sizes = {  # field: (the task's, the checkpoint's, message)
            "n_channels": (
                task_config.n_channels,
                cfg.n_channels,
                "streams {} channels, but the checkpoint was trained on {}",
            ),
            "n_behavior": (
                task_config.out_dim,
                cfg.n_behavior,
                "expects {} outputs, but the checkpoint decodes {}",
            ),
        }
        for field, (theirs, ours, message) in sizes.items():
            if ours != theirs:
                raise DataError(
                    f"FALCON {task_config.task.name} " + message.format(theirs, ours),
                    field=field,
                    source="AlignNetFalconDecoder",
                )
        self.model = model
        self.calibration = dict(calibration or {})
        self.day = day
        self._decoders: list[CausalStreamingDecoder] | None = None
        self._out = np.zeros((batch_size, cfg.n_behavior), dtype=np.float32)

    def _decoder_for(self, tag: str | Path) -> CausalStreamingDecoder:
        key = self._task_config.hash_dataset(Path(tag)) if str(tag) else ""
        if key in self.calibration:
            mean, std = self.calibration[key]
            return CausalStreamingDecoder(self.model, spike_mean=mean, spike_std=std)
        if self.day is None and self.model.normalizer is not None:
            if self.model.normalizer.per_day:
                raise DataError(
                    f"session {key!r} has no calibration statistics (calibrated: "
                    f"{sorted(self.calibration)}) and no day= fallback was given",
                    field="calibration",
                    source="AlignNetFalconDecoder",
                )
        return CausalStreamingDecoder(self.model, day=self.day)

    def reset(self, dataset_tags: Sequence[str | Path] = ("",)) -> None:
        """Start new sessions: one fresh incremental decoder per batch slot."""
        tags = list(dataset_tags)
        self._decoders = [self._decoder_for(tag) for tag in tags]
        if len(tags) != self._out.shape[0]:
            self._out = np.zeros((len(tags), self._out.shape[1]), dtype=np.float32)

    def predict(self, neural_observations: np.ndarray) -> np.ndarray:
        """``[batch, channels]`` counts of the newest bin -> ``[batch, out_dim]`` estimates."""
        if self._decoders is None:
            raise RuntimeError("predict() before reset(): call reset(dataset_tags) first")
        obs = checked_counts(
            neural_observations,
            field="neural_observations",
            source="AlignNetFalconDecoder.predict",
        )
        n_channels = self.model.config.model.n_channels
        if obs.ndim != 2 or obs.shape[1] != n_channels:
            raise DataError(
                f"observations of shape {obs.shape}, expected [batch, {n_channels}] (the "
                "checkpoint's channel count)",
                field="neural_observations",
                source="AlignNetFalconDecoder.predict",
            )
        check_array(obs, field="neural_observations", source="AlignNetFalconDecoder.predict")
        if obs.shape[0] > len(self._decoders):
            raise DataError(
                f"batch of {obs.shape[0]} sessions, but reset() started {len(self._decoders)}",
                field="neural_observations",
                source="AlignNetFalconDecoder.predict",
            )
        out = np.zeros((obs.shape[0], self._out.shape[1]), dtype=np.float32)
        for i in range(obs.shape[0]):
            out[i] = self._decoders[i].step(obs[i])
        return out

    def on_done(self, dones: np.ndarray) -> None:
        """End of trials: nothing to do (the stream carries on; FALCON M1/M2/H1 are
        continual)."""
