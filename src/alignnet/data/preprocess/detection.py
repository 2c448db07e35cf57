"""Threshold spike detection on raw extracellular voltage (paper fig. 2, "spike detection").

Pipeline per channel: Butterworth band-pass (default 300-6000 Hz, order 3) -> noise level
sigma = median(|filtered|) / 0.6745 (MAD estimate) -> peaks beyond ``threshold * sigma`` ->
a dead time after every kept spike.

Design choices (documented in docs/detection.md):

- **Zero-phase filter on a fixed grid of blocks.** The band-pass is `scipy.signal.sosfiltfilt`
  (float64), applied to blocks of ``filter_block_s`` whose edges lie on a grid fixed by sample
  0 of the recording, each block filtered together with ``margin`` samples of real signal on
  both sides (the margin is where the filter's impulse response has decayed below 1e-9 of its
  peak: ~21 ms for 300 Hz, order 3) and the margins then dropped. A block's output therefore
  depends only on the input samples around it, never on how the recording is cut into chunks
  for reading, so `detect_spikes_chunked` returns bit-for-bit what `detect_spikes` returns for
  any ``chunk_s``. It differs from one `sosfiltfilt` over the whole trace by < 1e-9 of the
  signal (tested). Zero phase keeps detected times on the true trough; a causal `sosfilt`
  (exact with a carried state, and 2x cheaper) was rejected because the order-3 causal
  band-pass rings: a second trough of 20-80 % of the first ~1 ms after every spike, which a
  1 ms dead time does not remove (false positives on large units).
- **Peaks, not crossings.** A spike is a sample whose (sign-adjusted) filtered value is above
  threshold, strictly above the previous sample and at least the next one. The first and last
  sample of a recording are never spikes (no neighbour). Peaks that straddle a block or chunk
  boundary are found once: the last sample of each block waits for the next block.
- **Dead time, greedy in time.** Per channel, a peak is kept when it comes at least
  ``dead_time`` after the last *kept* peak; the last kept sample is carried across blocks.
- **Noise from a fixed, seeded sample of segments.** `estimate_noise_levels` filters
  ``noise_n_segments`` segments at positions drawn from ``noise_seed`` (each with the filter
  margin on both sides, then dropped) and takes the MAD per channel. Both detection paths call
  it on the same recording, so they use identical thresholds. A flat channel (zero noise) gets
  no spikes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import signal

from alignnet.data.io.raw.base import ArrayRecording, RawRecording
from alignnet.errors import DataError

MAD_TO_SIGMA = 0.6745
"""median(|x|) of a zero-mean Gaussian is 0.6745 sigma."""

#: Which threshold crossings count as spikes.
Sign = Literal["neg", "pos", "both"]


@dataclass(frozen=True)
class DetectionConfig:
    """Settings of threshold spike detection.

    Attributes:
        band_hz: band-pass corners (low, high), Hz; ``high`` must be below Nyquist.
        filter_order: Butterworth order of the band-pass prototype (the band-pass has twice
            this many poles).
        threshold: detection threshold as a multiple of the MAD noise sigma (> 0).
        sign: ``"neg"`` (troughs, the usual), ``"pos"`` (peaks) or ``"both"`` (|x|).
        dead_time_ms: refractory window after each kept spike on the same channel, ms (>= 0).
        noise_n_segments: segments sampled to estimate the noise level.
        noise_segment_s: length of each noise segment, s (after the warm-up).
        noise_seed: seed of the segment positions (same seed -> same noise levels).
        filter_block_s: length of the blocks the zero-phase filter runs on, s (chunks are read
            in whole blocks; results do not depend on it beyond ~1e-9 of the signal).
    """

    band_hz: tuple[float, float] = (300.0, 6000.0)
    filter_order: int = 3
    threshold: float = 4.5
    sign: Sign = "neg"
    dead_time_ms: float = 1.0
    noise_n_segments: int = 20
    noise_segment_s: float = 1.0
    noise_seed: int = 0
    filter_block_s: float = 1.0

    def check(self, *, rate_hz: float, source: str | None = None) -> None:
        """Raise `DataError` naming the field if a setting is impossible at ``rate_hz``."""
        low, high = self.band_hz
        if not (0 < low < high < rate_hz / 2):
            raise DataError(
                f"band {low}..{high} Hz must satisfy 0 < low < high < Nyquist ({rate_hz / 2:g} Hz)",
                field="config.band_hz",
                source=source,
            )
        if int(self.filter_order) != self.filter_order or self.filter_order < 1:
            raise DataError(
                f"must be a positive integer, got {self.filter_order}",
                field="config.filter_order",
                source=source,
            )
        if not (np.isfinite(self.threshold) and self.threshold > 0):
            raise DataError(
                f"must be > 0, got {self.threshold}", field="config.threshold", source=source
            )
        if self.sign not in ("neg", "pos", "both"):
            raise DataError(
                f"must be 'neg', 'pos' or 'both', got {self.sign!r}",
                field="config.sign",
                source=source,
            )
        if not (self.dead_time_ms >= 0):
            raise DataError(
                f"must be >= 0, got {self.dead_time_ms}", field="config.dead_time_ms", source=source
            )
        if self.noise_n_segments < 1 or not (self.noise_segment_s > 0):
            raise DataError(
                "noise_n_segments must be >= 1 and noise_segment_s > 0",
                field="config.noise_*",
                source=source,
            )
        if not (self.filter_block_s > 0):
            raise DataError(
                f"must be > 0, got {self.filter_block_s}",
                field="config.filter_block_s",
                source=source,
            )

    def sos(self, rate_hz: float) -> np.ndarray:
        """``[n_sections, 6]`` float64 second-order sections of the band-pass at ``rate_hz``."""
        return signal.butter(
            int(self.filter_order), self.band_hz, btype="bandpass", fs=rate_hz, output="sos"
        )

    def margin_samples(self, rate_hz: float) -> int:
        """Samples after which the band-pass impulse response stays below 1e-9 of its peak."""
        return _settle_samples(self.sos(rate_hz), rate_hz)

    def block_samples(self, rate_hz: float) -> int:
        """Filter block length in samples."""
        return max(1, int(round(self.filter_block_s * rate_hz)))

    def dead_samples(self, rate_hz: float) -> int:
        """Dead time in samples (rounded)."""
        return int(round(self.dead_time_ms * 1e-3 * rate_hz))


# --------------------------------------------------------------------------- noise levels
def estimate_noise_levels(source: RawRecording, *, config: DetectionConfig) -> np.ndarray:
    """MAD noise sigma of the band-passed voltage per channel, from a seeded sample of segments.

    Segment starts are drawn with ``numpy.random.default_rng(config.noise_seed)``; each segment
    is filtered with the filter margin of real signal on both sides, which is then dropped. If
    the segments would cover the recording anyway, the whole recording is used.

    Returns:
        ``[C]`` float64 noise sigma, microvolts (``median(|x|) / 0.6745``).
    """
    config.check(rate_hz=source.rate_hz, source=source.source)
    rate = source.rate_hz
    margin = config.margin_samples(rate)
    seg = max(1, int(round(config.noise_segment_s * rate)))
    n = source.n_samples
    sos = config.sos(rate)
    if (2 * margin + seg) * config.noise_n_segments >= n:
        windows = [(0, n, 0, n)]
    else:
        rng = np.random.default_rng(config.noise_seed)
        starts = np.sort(rng.integers(margin, n - margin - seg + 1, size=config.noise_n_segments))
        windows = [(int(s) - margin, int(s) + seg + margin, int(s), int(s) + seg) for s in starts]
    parts = []
    for w0, w1, k0, k1 in windows:
        filtered = _filtfilt(sos, source.get_chunk(w0, w1))
        parts.append(filtered[:, k0 - w0 : k1 - w0])
    sample = np.concatenate(parts, axis=1)
    return np.median(np.abs(sample), axis=1) / MAD_TO_SIGMA


# --------------------------------------------------------------------------- detection
def detect_spikes(
    traces: np.ndarray,
    *,
    rate_hz: float,
    config: DetectionConfig | None = None,
    t_start: float = 0.0,
    noise_levels_uv: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Detect spikes in a whole voltage trace held in memory.

    Args:
        traces: ``[n_samples, C]`` voltage, microvolts.
        rate_hz: sampling rate, Hz.
        config: detection settings (default `DetectionConfig()`).
        t_start: time of sample 0, s.
        noise_levels_uv: ``[C]`` noise sigma to use instead of `estimate_noise_levels`.

    Returns:
        ``C`` sorted float64 arrays of spike times, s (``t_start + sample / rate_hz``).
    """
    recording = ArrayRecording(traces, rate_hz=rate_hz, t_start=t_start, source="<traces>")
    return _detect(
        recording, config=config, chunk_samples=None, progress=False, noise=noise_levels_uv
    )


def detect_spikes_chunked(
    source: RawRecording,
    *,
    config: DetectionConfig | None = None,
    chunk_s: float = 10.0,
    progress: bool = False,
    noise_levels_uv: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Detect spikes reading ``source`` chunk by chunk; identical to `detect_spikes`.

    Memory is bounded by one chunk: about ``chunk_s * rate_hz * C * 12`` bytes (the float32
    chunk, its transposed copy and the filter output), plus the spike times.

    Args:
        source: any `RawRecording` (binary file, Open Ephys, SpikeGLX, ...).
        config: detection settings (default `DetectionConfig()`).
        chunk_s: chunk length, s (> 0).
        progress: show a tqdm progress bar (seconds of recording).
        noise_levels_uv: ``[C]`` noise sigma to use instead of `estimate_noise_levels`.

    Returns:
        ``C`` sorted float64 arrays of spike times on the recording's clock, s.
    """
    if not (chunk_s > 0):
        raise DataError(f"must be > 0, got {chunk_s}", field="chunk_s", source=source.source)
    chunk = max(1, int(round(chunk_s * source.rate_hz)))
    return _detect(
        source, config=config, chunk_samples=chunk, progress=progress, noise=noise_levels_uv
    )


def _detect(
    source: RawRecording,
    *,
    config: DetectionConfig | None,
    chunk_samples: int | None,
    progress: bool,
    noise: np.ndarray | None,
) -> list[np.ndarray]:
    config = config or DetectionConfig()
    config.check(rate_hz=source.rate_hz, source=source.source)
    c = source.n_channels
    if noise is None:
        noise = estimate_noise_levels(source, config=config)
    noise = np.asarray(noise, dtype=np.float64)
    if noise.shape != (c,) or not np.all(np.isfinite(noise)) or np.any(noise < 0):
        raise DataError(
            f"expected {c} finite values >= 0, got shape {noise.shape}",
            field="noise_levels_uv",
            source=source.source,
        )
    thresholds = np.where(noise > 0, config.threshold * noise, np.inf)
    rate = source.rate_hz
    n = source.n_samples
    sos = config.sos(rate)
    margin = config.margin_samples(rate)
    block = config.block_samples(rate)
    n_blocks = -(-n // block)
    blocks_per_chunk = n_blocks if chunk_samples is None else max(1, round(chunk_samples / block))
    detector = _PeakDetector(
        thresholds=thresholds, sign=config.sign, dead_samples=config.dead_samples(rate)
    )
    found: list[list[np.ndarray]] = [[] for _ in range(c)]
    for b0, b1 in _chunk_bounds(n_blocks, blocks_per_chunk, progress, block / rate):
        # Read the chunk's blocks plus the filter margin on both sides (clipped at the ends).
        r0, r1 = max(0, b0 * block - margin), min(n, b1 * block + margin)
        raw = source.get_chunk(r0, r1)
        for b in range(b0, b1):
            s0, s1 = b * block, min((b + 1) * block, n)
            w0, w1 = max(0, s0 - margin), min(n, s1 + margin)
            filtered = _filtfilt(sos, raw[w0 - r0 : w1 - r0])[:, s0 - w0 : s1 - w0]
            for ch, samples in enumerate(detector.feed(filtered)):
                if samples.size:
                    found[ch].append(samples)
        del raw
    return [
        source.t_start
        + (np.concatenate(f) if f else np.zeros(0, dtype=np.int64)).astype(np.float64) / rate
        for f in found
    ]


def _chunk_bounds(
    n_blocks: int, per_chunk: int, progress: bool, block_s: float
) -> Iterator[tuple[int, int]]:
    """``(first block, end block)`` of each chunk, with an optional progress bar in seconds."""
    bounds = [(b, min(b + per_chunk, n_blocks)) for b in range(0, n_blocks, per_chunk)]
    if not progress:
        yield from bounds
        return
    from tqdm.auto import tqdm

    with tqdm(total=n_blocks, unit="block", desc=f"detecting spikes ({block_s:g} s blocks)") as bar:
        for b0, b1 in bounds:
            yield b0, b1
            bar.update(b1 - b0)


def _filtfilt(sos: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Zero-phase band-pass of ``window`` ``[m, C]`` (any float dtype) -> ``[C, m]`` float64.

    Starts both passes from the steady state of the first sample (``padlen=0``): the margins
    around a block absorb the start-up transient.
    """
    x = np.ascontiguousarray(window.T, dtype=np.float64)
    return signal.sosfiltfilt(sos, x, axis=-1, padlen=0)


def _settle_samples(sos: np.ndarray, rate_hz: float) -> int:
    """Samples after which ``|impulse response|`` stays below 1e-9 of its peak."""
    n = max(64, int(rate_hz))  # 1 s is far longer than any sensible band-pass's ringing
    impulse = np.zeros(n)
    impulse[0] = 1.0
    h = np.abs(signal.sosfilt(sos, impulse))
    tail_max = np.maximum.accumulate(h[::-1])[::-1]
    below = np.flatnonzero(tail_max < 1e-9 * h.max())
    return int(below[0]) if below.size else n


class _PeakDetector:
    """Peak picking and dead time on consecutive filtered blocks; carries state between them."""

    _NONE = np.iinfo(np.int64).min // 2

    def __init__(self, *, thresholds: np.ndarray, sign: str, dead_samples: int) -> None:
        self.thresholds = thresholds
        self.sign = sign
        self.dead = dead_samples
        c = thresholds.shape[0]
        self.prev2 = np.full(c, np.nan)  # y[k-2] before this block
        self.prev1 = np.full(c, np.nan)  # y[k-1]: a candidate awaiting its right neighbour
        self.last_kept = np.full(c, self._NONE, dtype=np.int64)
        self.offset = 0  # absolute index of the next block's first sample

    def feed(self, y: np.ndarray) -> list[np.ndarray]:
        """Consume filtered ``[C, n]`` microvolts (modified in place); return kept spike sample
        indices (absolute, int64) per channel."""
        c, n = y.shape
        if n == 0:
            return [np.zeros(0, dtype=np.int64) for _ in range(c)]
        if self.sign == "neg":
            np.negative(y, out=y)
        elif self.sign == "both":
            np.abs(y, out=y)
        thr = self.thresholds
        # The sample held back from the previous block is decided now that its right neighbour exists.
        held = (self.prev1 > thr) & (self.prev1 > self.prev2) & (self.prev1 >= y[:, 0])
        # Peaks inside this block; its last sample waits for the next block.
        ch, pos = np.nonzero(y[:, : n - 1] > thr[:, None])
        value = y[ch, pos]
        left = np.where(pos > 0, y[ch, np.maximum(pos - 1, 0)], self.prev1[ch])
        is_peak = (value > left) & (value >= y[ch, pos + 1])
        ch, pos = ch[is_peak], pos[is_peak]
        self.prev2 = y[:, n - 2].copy() if n >= 2 else self.prev1
        self.prev1 = y[:, n - 1].copy()

        bounds = np.searchsorted(ch, np.arange(c + 1))
        out = []
        for k in range(c):
            samples = pos[bounds[k] : bounds[k + 1]].astype(np.int64) + self.offset
            if held[k]:
                samples = np.concatenate([np.array([self.offset - 1], dtype=np.int64), samples])
            kept, self.last_kept[k] = _apply_dead_time(samples, self.dead, int(self.last_kept[k]))
            out.append(kept)
        self.offset += n
        return out


def _apply_dead_time(samples: np.ndarray, dead: int, last_kept: int) -> tuple[np.ndarray, int]:
    """Keep each sample at least ``dead`` after the previous kept one (greedy, in time order).

    Args:
        samples: sorted int64 candidate sample indices.
        dead: dead time, samples.
        last_kept: last kept sample before these (a very negative number if none).

    Returns:
        (kept samples, new last kept sample).
    """
    if samples.size == 0:
        return samples, last_kept
    gaps = np.diff(samples, prepend=last_kept)
    clear = gaps >= dead  # far enough from the previous *candidate*, so from the last kept one
    keep = clear.copy()
    last = last_kept
    for j in np.flatnonzero(~clear):  # rare: candidates within the dead time of the previous one
        if j > 0 and clear[j - 1]:
            last = int(samples[j - 1])
        if samples[j] - last >= dead:
            keep[j] = True
            last = int(samples[j])
    kept = samples[keep]
    return kept, int(kept[-1]) if kept.size else last_kept


# --------------------------------------------------------------------------- scoring
def detection_scores(
    detected: list[np.ndarray], truth: list[np.ndarray], *, tolerance_ms: float = 0.5
) -> tuple[float, float]:
    """Precision and recall of detected spike times against true ones, pooled over channels.

    A true spike is found when some detection on the same channel lies within
    ``tolerance_ms``; each true spike counts once (the detection nearest to it in time claims it).

    Args:
        detected: ``C`` arrays of detected spike times, s.
        truth: ``C`` arrays of true spike times, s.
        tolerance_ms: largest allowed time difference, ms.

    Returns:
        (precision, recall): matched / detected and matched / true (1.0 where the denominator is 0).
    """
    if len(detected) != len(truth):
        raise DataError(
            f"{len(detected)} detected channels vs {len(truth)} true channels", field="detected"
        )
    tol = tolerance_ms * 1e-3
    n_det = n_true = n_match = 0
    for det, tru in zip(detected, truth, strict=True):
        det = np.sort(np.asarray(det, dtype=np.float64))
        tru = np.sort(np.asarray(tru, dtype=np.float64))
        n_det += det.size
        n_true += tru.size
        if det.size == 0 or tru.size == 0:
            continue
        right = np.clip(np.searchsorted(tru, det), 0, tru.size - 1)
        left = np.clip(right - 1, 0, tru.size - 1)
        use_left = np.abs(det - tru[left]) < np.abs(det - tru[right])
        nearest = np.where(use_left, left, right)
        close = np.abs(det - tru[nearest]) <= tol
        n_match += np.unique(nearest[close]).size
    precision = n_match / n_det if n_det else 1.0
    recall = n_match / n_true if n_true else 1.0
    return float(precision), float(recall)
