"""A process that raises one alert and dies by SIGKILL right after the transaction
that recorded it committed, before publishing or sending anything.

    python -m tests.cloud.replenishment.crash_after_recording <sql url> <site>

Used by test_alert_outbox.py: what the alert's webhooks need must already be
in the database when the process is gone.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime

from cloud.notify import WebhookNotifier
from cloud.replenishment.alert_state import AlertState
from cloud.replenishment.alerts import AlertRaiser
from cloud.replenishment.metrics import ReplenisherStats
from vmi.wire import Alert, AlertKind, SensorSilentAlert


def main(url: str, site: str) -> None:
    notifier = WebhookNotifier(url)  # never started: nothing sends from here

    def die(_alert: Alert) -> None:
        os.kill(os.getpid(), signal.SIGKILL)  # the crash, right after the commit

    raiser = AlertRaiser(AlertState(url), die, ReplenisherStats(), record=notifier.record)
    at = datetime.now(UTC)
    raiser.condition(
        set(),
        (site, "gw-1"),
        AlertKind.SENSOR_SILENT,
        True,
        at,
        lambda: SensorSilentAlert(site=site, device="gw-1", at=at, message="gw-1 is quiet"),
    )
    sys.exit("still alive: the alert was not recorded")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
