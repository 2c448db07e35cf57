import math

import pytest
import torch
import torch.nn.functional as F

from alignnet.models.losses import LearnableTemperature, poisson_nll, symmetric_info_nce


def _manual(zs, zb, tau):
    sim = zs @ zb.T / tau
    n = zs.shape[0]
    l_s = -torch.stack([sim[i, i] - torch.logsumexp(sim[i], 0) for i in range(n)]).mean()
    l_b = -torch.stack([sim[i, i] - torch.logsumexp(sim[:, i], 0) for i in range(n)]).mean()
    return 0.5 * (l_s + l_b)


def test_info_nce_matches_equation_16_17():
    g = torch.Generator().manual_seed(0)
    zs = F.normalize(torch.randn(6, 4, generator=g), dim=1)
    zb = F.normalize(torch.randn(6, 4, generator=g), dim=1)
    got = symmetric_info_nce(zs, zb, 0.2)
    assert torch.allclose(got, _manual(zs, zb, 0.2), atol=1e-6)


def test_info_nce_aligned_pairs_score_lower_than_shuffled():
    zs = F.normalize(torch.randn(8, 16, generator=torch.Generator().manual_seed(1)), dim=1)
    aligned = symmetric_info_nce(zs, zs, 0.1)
    shuffled = symmetric_info_nce(zs, zs.roll(1, 0), 0.1)
    assert aligned < 0.1 < math.log(8) < shuffled


def test_info_nce_with_offset_candidates_equals_full_batch_rows():
    g = torch.Generator().manual_seed(2)
    zs = F.normalize(torch.randn(8, 4, generator=g), dim=1)
    zb = F.normalize(torch.randn(8, 4, generator=g), dim=1)
    halves = [
        symmetric_info_nce(
            zs[i : i + 4],
            zb[i : i + 4],
            0.3,
            candidates_spikes=zs,
            candidates_behavior=zb,
            offset=i,
        )
        for i in (0, 4)
    ]
    assert torch.allclose(0.5 * (halves[0] + halves[1]), symmetric_info_nce(zs, zb, 0.3), atol=1e-6)


def test_info_nce_stable_under_bf16_inputs():
    zs = F.normalize(torch.randn(32, 8), dim=1).bfloat16()
    loss = symmetric_info_nce(zs, zs, torch.tensor(0.01))
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


def test_temperature_is_clamped_and_learnable():
    t = LearnableTemperature(0.1, low=0.05, high=0.5)
    assert t().item() == pytest.approx(0.1)
    with torch.no_grad():
        t.log_tau.fill_(10.0)
    assert t().item() == pytest.approx(0.5)
    with torch.no_grad():
        t.log_tau.fill_(math.log(0.2))
    (t() * 3).backward()
    assert t.log_tau.grad is not None and t.log_tau.grad.abs() > 0
    with pytest.raises(ValueError):
        LearnableTemperature(2.0)


def test_poisson_nll_is_minimised_at_the_true_rate():
    counts = torch.poisson(torch.full((20000,), 3.0), generator=torch.Generator().manual_seed(0))
    losses = {r: poisson_nll(torch.full_like(counts, r), counts).item() for r in (1.5, 3.0, 6.0)}
    assert losses[3.0] < losses[1.5] and losses[3.0] < losses[6.0]
