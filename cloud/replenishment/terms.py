"""Each (site, SKU)'s replenishment terms as the stores say them.

The configured rule (`[replenishment]`), overridden by the catalog's VMI
agreement for the pair and the SKU's pack sizes (`ReplenishmentRule.
for_agreement`), and, when `learn_lead_times` is on, the lead time pooled
with the deliveries of the pair's current supplier over the last year
(`cloud.replenishment.lead_times`). The replenisher and the suggestions read
terms only through here, so both see the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cloud.catalog import AgreementSpec, Catalog, SkuSpec
from cloud.config import ReplenishmentConfig
from cloud.orders import OrderBook
from cloud.replenishment.effects import UNASSIGNED
from cloud.replenishment.lead_times import DeliveryRecord, learned_lead_times
from cloud.replenishment.policy import ReplenishmentRule, RuleTable

Key = tuple[str, str]
LEAD_TIME_HISTORY_DAYS = 365
"""Deliveries older than this say little of today's supplier."""


def rules_for(
    config: ReplenishmentConfig, catalog: Catalog | None, keys: Sequence[Key]
) -> dict[Key, tuple[ReplenishmentRule, str]]:
    """Each key's rule and supplier (`unassigned`); the catalog is read once per site."""
    rules = {key: (config.rule_for(key[1]), UNASSIGNED) for key in keys}
    if catalog is None:
        return rules
    for site in sorted({site for site, _ in keys}):
        agreements = {a.sku: a for a in catalog.entries(AgreementSpec, site=site)}
        skus = {s.code: s for s in catalog.entries(SkuSpec, site=site)}
        for key in keys:
            agreement = agreements.get(key[1]) if key[0] == site else None
            if agreement is not None:
                rule = rules[key][0].for_agreement(agreement, skus.get(key[1]))
                rules[key] = (rule, agreement.supplier)
    return rules


def learned_table(
    config: ReplenishmentConfig,
    orders: OrderBook,
    keys: Sequence[Key],
    keyed: Sequence[tuple[ReplenishmentRule, str]],
    table: RuleTable,
    now: datetime,
) -> RuleTable:
    """`table` with each key's lead time pooled with its supplier's deliveries
    (unchanged when `learn_lead_times` is off or nothing was delivered)."""
    if not config.learn_lead_times:
        return table
    since = now - timedelta(days=LEAD_TIME_HISTORY_DAYS)
    delivered = orders.delivered_lead_times(keys, since)
    if not delivered:
        return table
    samples = [
        [days for who, days in delivered.get(key, []) if who in (supplier, None)]
        for key, (_, supplier) in zip(keys, keyed, strict=True)
    ]
    mean, sd = learned_lead_times(
        table.lead_time_days,
        table.lead_time_sd_days,
        DeliveryRecord.of(samples),
        prior_deliveries=config.lead_time_prior_deliveries,
    )
    return table.with_lead_times(mean, sd)
