"""The alert outbox: an alert's webhook deliveries are written in the transaction
that records the alert (and a reorder's in its order's), so a crash between
recording and sending loses no webhook, and a failure to write them records
nothing, so the alert is raised again later (real SQL, a real HTTP receiver)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from cloud.errors import StoreUnavailable
from cloud.notify import WebhookNotifier, WebhookSubscriptionCreate, WebhookSubscriptions
from tests.cloud.notify.webhook_receiver import LOOPBACK, WebhookReceiver
from tests.cloud.replenishment.rig import RULES, Rig, make_rig
from tests.waiting import wait_for
from vmi.wire import Alert

ROOT = Path(__file__).parents[3]


def subscribe(url: str, receiver: WebhookReceiver) -> None:
    subs = WebhookSubscriptions(url)
    subs.create(WebhookSubscriptionCreate(url=receiver.url))
    subs.close()


def test_a_process_killed_right_after_recording_an_alert_loses_no_webhook(
    tmp_path: Path, unique_id: str
) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    receiver = WebhookReceiver()
    receiver.start()
    subscribe(url, receiver)
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.cloud.replenishment.crash_after_recording", url, unique_id],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert receiver.received == [], "nothing was sent before the crash"
    # The next process finds the delivery waiting and sends it.
    notifier = WebhookNotifier(url, idle_poll_s=0.1, policy=LOOPBACK)
    notifier.start()
    try:
        wait_for(lambda: len(receiver.received) == 1, 20, "the webhook after the crash")
    finally:
        notifier.stop(timeout_s=10)
        receiver.stop()
    assert b'"kind":"sensor_silent"' in receiver.received[0].body
    assert unique_id.encode() in receiver.received[0].body


def failing_record(_session: Session, _alert: Alert) -> None:
    raise StoreUnavailable("the webhook tables are unreachable")


def first_failure(r: Rig, levels: list[tuple[float, float]]) -> StoreUnavailable | None:
    """Feed (hour, quantity) levels until an evaluation fails on the store."""
    for hours, quantity in levels:
        try:
            r.level(hours, quantity)
        except StoreUnavailable as exc:
            return exc
    return None


def test_when_the_webhooks_cannot_be_written_nothing_is_recorded(tmp_path: Path) -> None:
    r: Rig = make_rig(tmp_path, RULES, record_alert=failing_record)
    failure = first_failure(r, [(h, max(40 - h, 0)) for h in range(0, 48, 4)])
    assert failure is not None, "the round failed on the webhook tables"
    assert r.alerts == [], "no alert published"
    assert r.state.active() == [], "nor recorded as raised: a later round raises it"
    r.close()


def test_a_failed_record_leaves_no_order_either(tmp_path: Path) -> None:
    ok = make_rig(tmp_path / "ok")
    hour = 0
    while "reorder" not in ok.kinds() and hour < 200:
        ok.level(hour, 200 - hour)
        hour += 2
    assert ok.orders.orders(), "the same levels order without the failure"
    ok.close()
    r = make_rig(tmp_path / "failing", RULES, record_alert=failing_record)
    assert first_failure(r, [(h, 200 - h) for h in range(0, hour + 2, 2)]) is not None
    assert r.orders.orders() == [], "the order and its webhooks commit together, or neither"
    r.close()
