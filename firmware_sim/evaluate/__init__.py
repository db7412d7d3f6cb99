"""Prove the policy: a closed-loop simulation of a year of VMI replenishment.

`vmi sim evaluate` generates daily demand for a few hundred SKUs (smooth,
seasonal, trending, intermittent) and supplier lead times that vary, then
replays the year once per policy: each evening a policy sees on-hand stock,
open orders and the consumption so far, and places orders that the supplier
delivers after a drawn lead time. The project's forecast-driven policy
(`cloud.replenishment.policy` on `cloud.replenishment.demand` forecasts) is
compared with two ERP rules configured from the same history: Odoo's min/max reordering rule and
ERPNext's reorder level and quantity, each also tuned to the same fill rate.

Seams: `demand` (patterns), `leadtime` (supplier), `scenario` (the world),
`simulate` (the loop), `policies`, `forecast` (adapter), `metrics`, `tuning`,
`report` (table and PNGs), `cli`.
"""
