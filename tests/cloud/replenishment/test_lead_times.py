"""Lead times learned from deliveries, with the agreement's quote as the prior."""

from __future__ import annotations

import numpy as np
import pytest

from cloud.replenishment.lead_times import DeliveryRecord, learned_lead_times


def test_without_deliveries_the_quote_stands() -> None:
    mean, sd = learned_lead_times(
        [3.0, 7.0], [0.5, 0.0], DeliveryRecord.of([[], []]), prior_deliveries=10
    )
    np.testing.assert_allclose(mean, [3.0, 7.0])
    np.testing.assert_allclose(sd, [0.5, 0.0])


def test_deliveries_are_pooled_with_the_quote_as_pseudo_deliveries() -> None:
    # A quote of 4 days (sd 1) counting as 4 deliveries, then 4 deliveries of 8 days:
    # the pool is {4 pseudo-deliveries with mean 4, sd 1} + {8, 8, 8, 8}.
    mean, sd = learned_lead_times(
        [4.0], [1.0], DeliveryRecord.of([[8, 8, 8, 8]]), prior_deliveries=4
    )
    assert mean[0] == pytest.approx(6.0)
    # Sum of squares: 3 * 1 + 4 * 16 + 4 * 64 = 323; minus 8 * 36 = 35; / 7 = 5.
    assert sd[0] == pytest.approx(np.sqrt(5.0))


def test_many_deliveries_outweigh_the_quote() -> None:
    rng = np.random.default_rng(3)
    seen = rng.normal(12.0, 2.0, 2000)
    mean, sd = learned_lead_times([3.0], [0.0], DeliveryRecord.of([seen]), prior_deliveries=10)
    assert mean[0] == pytest.approx(12.0, abs=0.1)
    assert sd[0] == pytest.approx(2.0 * 1.0, abs=0.3)  # the quote's 10 days barely count


def test_a_prior_of_fewer_than_two_deliveries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        learned_lead_times([3.0], [0.0], DeliveryRecord.of([[1.0]]), prior_deliveries=1)
