"""Chart points: what the cloud did (orders, alerts), written for the boards off the
decision path."""

from cloud.charts.points import alert_point, order_point
from cloud.charts.writer import ChartWriter

__all__ = ["ChartWriter", "alert_point", "order_point"]
