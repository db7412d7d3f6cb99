"""KPIs of replenishment: turnover, stock, stockouts, fill rate, orders, supplier
delivery and forecast accuracy, per (site, SKU) and rolled up.

`measure` is pure (one key's readings, orders and forecasts -> `Kpis`;
`rollup` for a group); `report` reads the stores for many keys and groups
them by site, customer or supplier; `table` renders rows as text or CSV;
`writer` is the cloud service's job that writes them as `kpi` points for the
KPI board.
"""

from cloud.kpis.measure import Forecast, Kpis, OrderFacts, key_kpis, rollup

__all__ = ["Forecast", "Kpis", "OrderFacts", "key_kpis", "rollup"]
