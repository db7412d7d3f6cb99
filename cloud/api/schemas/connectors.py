"""Where an order landed in the other side's ERP/CRM, and what the service still owes it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from cloud.connectors.ledger import RemoteInfo, StepInfo
from cloud.connectors.models import StepStatus
from cloud.orders import OrderStatus


class StepPublic(BaseModel):
    """One step (create, confirm, ship, cancel) of the order for one connector."""

    action: str
    status: StepStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    finished_at: datetime | None

    @classmethod
    def of(cls, step: StepInfo) -> StepPublic:
        return cls(
            action=step.action,
            status=step.status,
            attempts=step.attempts,
            next_attempt_at=step.next_attempt_at,
            last_error=step.last_error,
            finished_at=step.finished_at,
        )


class OrderRemotePublic(BaseModel):
    """The order in one connector's system: the record (once created), its state when
    last read back, and every step with its state."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "link": "acme-odoo",
                    "system": "odoo",
                    "record_type": "sale.order",
                    "remote_id": "4711",
                    "remote_name": "S00042",
                    "reference": "vmi-17",
                    "remote_state": "sale/delivery_status=pending",
                    "remote_status": "confirmed",
                    "checked_at": "2026-11-20T09:05:00Z",
                    "steps": [
                        {
                            "action": "create",
                            "status": "done",
                            "attempts": 1,
                            "next_attempt_at": None,
                            "last_error": None,
                            "finished_at": "2026-11-20T08:15:02Z",
                        }
                    ],
                }
            ]
        }
    )

    link: str
    system: str | None
    record_type: str | None
    remote_id: str | None
    remote_name: str | None
    reference: str | None
    remote_state: str | None
    remote_status: OrderStatus | None
    checked_at: datetime | None
    steps: list[StepPublic]

    @classmethod
    def of(cls, link: str, remote: RemoteInfo | None, steps: list[StepInfo]) -> OrderRemotePublic:
        ordered = sorted(steps, key=lambda s: s.id)
        return cls(
            link=link,
            system=remote.system if remote else None,
            record_type=remote.record_type if remote else None,
            remote_id=remote.remote_id if remote else None,
            remote_name=remote.remote_name if remote else None,
            reference=remote.reference if remote else None,
            remote_state=remote.remote_state if remote else None,
            remote_status=remote.remote_status if remote else None,
            checked_at=remote.checked_at if remote else None,
            steps=[StepPublic.of(s) for s in ordered],
        )


class HookAccepted(BaseModel):
    """A remote system's webhook was taken: this many of our orders' records will be read
    back at the service's next round."""

    records: int
