"""The policy arithmetic against a textbook implementation: stockpyl (Snyder & Shen,
Fundamentals of Supply Chain Theory), normal demand. scipy is the reference for z."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from cloud.replenishment.inventory_math import (
    economic_order_quantity,
    fill_rate_z,
    lead_time_demand_sigma,
    order_up_to_level,
    reorder_point,
    safety_stock,
    service_z,
    standard_normal_loss,
)

with warnings.catch_warnings():
    # stockpyl's docstrings hold invalid escape sequences: DeprecationWarnings on compile.
    warnings.simplefilter("ignore", DeprecationWarning)
    from stockpyl.eoq import economic_order_quantity as sp_eoq
    from stockpyl.loss_functions import normal_loss
    from stockpyl.loss_functions import standard_normal_loss as sp_loss
    from stockpyl.newsvendor import newsvendor_normal
    from stockpyl.rq import r_q_eoqss_approximation


@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999])
def test_z_is_the_normal_quantile(level: float) -> None:
    assert float(service_z(level)) == pytest.approx(stats.norm.ppf(level), abs=1e-9)


def test_z_rejects_impossible_service_levels() -> None:
    for level in (0.0, 1.0, 1.2, -0.1):
        with pytest.raises(ValueError, match="service level"):
            service_z(level)


# Example 5.5 of the book: h=0.225, p=7.5, K=8, 1300 a year (sd 150), L=1/12 year.
H, P, K, MEAN, SD, LEAD = 0.225, 7.5, 8.0, 1300.0, 150.0, 1 / 12


def test_reorder_point_and_eoq_match_the_eoq_plus_safety_stock_approximation() -> None:
    r, q = r_q_eoqss_approximation(H, P, K, MEAN, SD, LEAD)
    alpha = P / (P + H)  # the newsvendor critical ratio is the cycle service level
    assert float(reorder_point(MEAN, SD, LEAD, alpha)) == pytest.approx(r, rel=1e-9)
    assert float(economic_order_quantity(MEAN, K, H)) == pytest.approx(q, rel=1e-12)
    assert q == pytest.approx(sp_eoq(K, H, MEAN)[0])


@pytest.mark.parametrize(
    ("mean", "sd", "lead", "alpha"),
    [(50.0, 8.0, 0, 0.7 / 0.88), (12.0, 4.0, 3, 0.95), (3.5, 2.5, 10, 0.99), (200.0, 60.0, 1, 0.9)],
)
def test_order_up_to_level_matches_the_newsvendor_base_stock(
    mean: float, sd: float, lead: int, alpha: float
) -> None:
    """A daily review (R = 1) with lead time L protects L + 1 periods, as stockpyl's
    base-stock level with lead time L does."""
    h = 1.0
    p = alpha * h / (1.0 - alpha)  # the costs whose critical ratio is alpha
    base_stock, _ = newsvendor_normal(h, p, mean, sd, lead_time=lead)
    ours = float(order_up_to_level(mean, sd, lead, 1, alpha))
    assert ours == pytest.approx(base_stock, rel=1e-9)


def test_safety_stock_is_z_sigma_root_lead_time() -> None:
    assert float(safety_stock(1.645, 10.0, 4.0)) == pytest.approx(1.645 * 10.0 * 2.0)
    ss = safety_stock(service_z(0.95), SD, LEAD)
    assert float(ss) == pytest.approx(stats.norm.ppf(0.95) * SD * math.sqrt(LEAD))


@pytest.mark.parametrize("z", [-2.0, -0.5, 0.0, 0.4, 1.3, 2.33, 3.5])
def test_standard_normal_loss_matches(z: float) -> None:
    assert float(standard_normal_loss(z)) == pytest.approx(sp_loss(z)[0], abs=1e-12)


@pytest.mark.parametrize(
    ("beta", "q", "mu", "sigma"), [(0.99, 300.0, 120.0, 30.0), (0.95, 40.0, 80.0, 25.0)]
)
def test_fill_rate_z_leaves_the_allowed_shortage_per_cycle(
    beta: float, q: float, mu: float, sigma: float
) -> None:
    """With r = mu + z sigma, expected units short per cycle n(r) = (1 - beta) Q."""
    z = float(fill_rate_z(beta, q, sigma))
    shortage, _ = normal_loss(mu + z * sigma, mu, sigma)
    assert shortage == pytest.approx((1.0 - beta) * q, rel=1e-3)


def test_fill_rate_z_without_uncertainty_is_zero() -> None:
    assert float(fill_rate_z(0.99, 100.0, 0.0)) == 0.0


def test_lead_time_demand_sigma_with_variable_lead_time_matches_a_compound_sample() -> None:
    """sigma_LT^2 = L sigma_d^2 + mean_d^2 sigma_L^2, against a sampled compound demand."""
    rng = np.random.default_rng(5)
    mean_d, sd_d, lead, sd_lead = 20.0, 6.0, 8.0, 2.0
    leads = np.maximum(np.rint(rng.normal(lead, sd_lead, 200_000)), 1).astype(int)
    # Sum of L normal days is normal with mean L mean_d and variance L sd_d^2.
    totals = rng.normal(leads * mean_d, np.sqrt(leads) * sd_d)
    formula = float(
        lead_time_demand_sigma(sd_d, leads.mean(), mean_daily=mean_d, lead_time_sd_days=leads.std())
    )
    assert formula == pytest.approx(totals.std(), rel=0.01)


def test_vectorized_equals_one_at_a_time() -> None:
    mean = np.array([1300.0, 5.0, 40.0])
    sd = np.array([150.0, 2.0, 9.0])
    lead = np.array([1 / 12, 3.0, 7.0])
    levels = np.array([0.97, 0.9, 0.99])
    together = reorder_point(mean, sd, lead, levels, lead_time_sd_days=[0.0, 1.0, 2.0])
    for i in range(3):
        alone = reorder_point(
            mean[i], sd[i], lead[i], levels[i], lead_time_sd_days=[0.0, 1.0, 2.0][i]
        )
        assert together[i] == pytest.approx(float(alone))
