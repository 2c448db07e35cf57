"""Figures render from hand-made arrays and open again as images."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

from alignnet.evaluation.figures import (
    curve_figure,
    featured_model,
    fig5_decoding,
    fig6_simulation,
    fig7_firing_rates,
)


def _opens(path: Path) -> None:
    img = mpimg.imread(path)
    assert img.ndim == 3 and min(img.shape[:2]) > 50


def test_paper_figures_render(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ex = {"decode_true": rng.normal(size=(3, 2, 100)), "decode_pred": rng.normal(size=(3, 2, 100))}
    _opens(fig5_decoding([("single-day", ex), ("cross-day", ex)], "M", tmp_path / "f5.png", 0.02))
    counts = rng.poisson(0.3, size=(64, 100)).astype(float)
    _opens(
        fig6_simulation([("single-day", counts, counts * 0 + 0.3)] * 3, "M", tmp_path / "f6.png")
    )
    fr = rng.uniform(0, 0.5, size=64)
    _opens(
        fig7_firing_rates([("single-day", fr, fr), ("cross-day", fr, fr)], "M", tmp_path / "f7.png")
    )


def test_curve_and_featured_model(tmp_path: Path) -> None:
    records = [
        {"model": m, "protocol": "few-shot", "task": "decode", "shots": k, "r2": r, "seed": s}
        for m, base in (("A", 0.2), ("B", 0.5))
        for k in (0, 10, 25)
        for s, r in ((0, base + k / 100), (1, base + k / 100 + 0.01))
    ]
    path = curve_figure(
        records, protocol="few-shot", key="shots", xlabel="k", path=tmp_path / "c.png"
    )
    assert path is not None
    _opens(path)
    assert (
        curve_figure(
            records, protocol="days-apart", key="days_apart", xlabel="d", path=tmp_path / "d.png"
        )
        is None
    )
    cells = [
        {
            "model": "A",
            "records": [dict(r, protocol="single-day") for r in records if r["model"] == "A"],
        },
        {
            "model": "B",
            "records": [dict(r, protocol="single-day") for r in records if r["model"] == "B"],
        },
    ]
    assert featured_model(cells) == "B"
    cells.append({"model": "AlignNet-LIF", "records": []})
    assert featured_model(cells) == "AlignNet-LIF"
