"""Prove the policy: a closed-loop simulation of a year of VMI replenishment.

`vmi sim evaluate` generates daily demand for a few hundred SKUs (smooth,
seasonal, trending, intermittent) and supplier lead times that vary, then
replays the year once per policy: each evening a policy sees on-hand stock,
open orders and the consumption so far, and places orders that the supplier
delivers after a drawn lead time. The project's policy is the replenishment
engine that ships (`engine`): shelf readings -> production's demand
extraction, forecast, rules and `decide_many`, on a `ReplenishmentConfig`
(the shipped defaults unless `--config` names a cloud config). It is compared
with two ERP rules configured from the same history: Odoo's min/max reordering
rule and ERPNext's reorder level and quantity, each also tuned to the
project's fill rate; `--seeds` repeats it on several worlds.

Seams: `demand` (patterns), `leadtime` (supplier), `scenario` (the world),
`simulate` (the loop), `engine` (the shipped engine as a policy), `policies`
(the ERP baselines), `metrics`, `tuning`, `report` (table and PNGs), `seeds`
(the per-seed table), `cli`.
"""
