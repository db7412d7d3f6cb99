"""The points the cloud writes about its own actions, for the boards: orders and alerts.

Pure: an order or a published alert in, a point of the declared measurements
(`cloud/timeseries/measurements.py`) out. `ChartWriter` writes them off the
decision path.
"""

from __future__ import annotations

from cloud.orders import Order
from cloud.timeseries.base import Point
from cloud.timeseries.measurements import ALERT, ORDER_EVENT
from vmi.wire import Alert, ReorderAlert


def alert_point(alert: Alert) -> Point:
    """The `alert` point of a published alert."""
    return ALERT.point(
        tags={
            "site": alert.site,
            "sku": alert.sku,
            "device": alert.device,
            "kind": alert.kind.value,
        },
        fields={
            "message": alert.message,
            "order_id": alert.order_id if isinstance(alert, ReorderAlert) else None,
        },
        time=alert.at,
    )


def order_point(order: Order) -> Point:
    """The `order_event` point of an order's latest change."""
    return ORDER_EVENT.point(
        tags={"site": order.site, "sku": order.sku, "status": order.status},
        fields={
            "order_id": order.id,
            "quantity": float(order.quantity),
            "text": f"order #{order.id} {order.status}: {order.quantity} x {order.sku}",
        },
        time=order.updated_at,
    )
