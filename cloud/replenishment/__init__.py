"""Replenishment: from stored levels to projections, orders and alerts.

The parts, each in its own module:

* `scheduler`: which (site, SKU)s to evaluate, and when;
* `projection` (with `demand/`): level series to demand, forecast and stockout band;
* `policy` and `inventory_math`: the rule (reorder point, order-up-to, packs);
* `decide`: one pure step, projection + open order + rule -> a `Decision`;
* `effects`: carry a decision out (receive and place orders, stock alerts);
* `alerts` and `alert_state`: typed alerts, raised once per episode across processes;
* `sensor_watch`: silent devices and sensor anomalies;
* `replenisher`: one evaluation round, reading the stores once for many keys;
* `metrics`: the replenisher's counters and their `/metrics` lines.

Nothing here imports the collector: `CloudService` hands the replenisher what
the collector committed.
"""
