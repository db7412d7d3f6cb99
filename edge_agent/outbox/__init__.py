"""Store-and-forward between the agent and the broker (see `base`)."""

from edge_agent.outbox.base import Outbox, OutboxItem, OutboxLimits, OutboxStats, OverflowPolicy
from edge_agent.outbox.memory import MemoryOutbox
from edge_agent.outbox.sqlite import SqliteOutbox

__all__ = [
    "MemoryOutbox",
    "Outbox",
    "OutboxItem",
    "OutboxLimits",
    "OutboxStats",
    "OverflowPolicy",
    "SqliteOutbox",
]
