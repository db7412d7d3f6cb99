"""Webhooks that cannot be turned against us (issue 14, "Webhooks hardened"):

* no server-side request forgery: non-public addresses are refused when
  subscribing and at every connection (DNS rebinding included), unless an
  admin's subscription reaches an allowlisted one; the connection goes to
  the checked address with the original Host header and TLS server name;
* a slow or hostile receiver cannot stall the others: a deadline per
  attempt, a bounded pool of senders, a cap per subscription and per tenant;
* a subscription belongs to a (role, tenant) pair;
* `verify_signature` never raises; URLs are shown with credentials redacted.

Receivers are stand-ins on 127.0.0.0/8; names resolve through an injected
resolver (`Dns`), never through the network.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from collections.abc import Callable, Iterator
from ipaddress import ip_address
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from cloud.catalog import Catalog
from cloud.migrations import upgrade
from cloud.notify import (
    AddressPolicy,
    CatalogTenants,
    DeliveryStatus,
    InvalidSubscription,
    RetryPolicy,
    Tenant,
    TenantRole,
    TooManySubscriptions,
    WebhookNotifier,
    WebhookSubscriptionCreate,
    WebhookSubscriptions,
    WebhookTarget,
    redacted_url,
    signature,
    verify_signature,
)
from cloud.notify.guard import non_public_reason, subscription_problems
from cloud.notify.sender import Outgoing, post_event
from cloud.notify.transport import guarded_client
from tests.cloud.notify.sample_alerts import sample_alert
from tests.cloud.notify.stand_ins import (
    PUBLIC,
    Dns,
    HostileReceiver,
    TlsReceiver,
    has_openssl,
    self_signed,
)
from tests.cloud.notify.webhook_receiver import LOOPBACK, WebhookReceiver, wait_until
from vmi.wire import AlertKind

SAMPLE_CATALOG = Path(__file__).parents[3] / "cloud" / "sample-catalog.yaml"
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2, jitter=0.0)
SECRET = "whsec_a-secret-for-the-hardening-tests"
MakeNotifier = Callable[..., WebhookNotifier]


@pytest.fixture
def subs(sql_url: str) -> Iterator[WebhookSubscriptions]:
    service = WebhookSubscriptions(sql_url)
    yield service
    service.close()


@pytest.fixture
def make_notifier(sql_url: str) -> Iterator[MakeNotifier]:
    """Notifiers quick to retry, with whatever policy the test gives; stopped at the end."""
    made: list[WebhookNotifier] = []

    def make(**options: object) -> WebhookNotifier:
        settings: dict[str, object] = {
            "retry": FAST,
            "timeout_s": 2.0,
            "idle_poll_s": 0.1,
            "store_retry_s": 0.1,
        }
        notifier = WebhookNotifier(sql_url, **(settings | options))  # type: ignore[arg-type]
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        assert notifier.stop(timeout_s=15)


def subscribe(subs: WebhookSubscriptions, url: str, **fields: object) -> int:
    spec = WebhookSubscriptionCreate.model_validate({"url": url, "secret": SECRET} | fields)
    return subs.create(spec).subscription.id


def finished(notifier: WebhookNotifier, sub_id: int) -> bool:
    found = notifier.ledger.deliveries(subscription_id=sub_id)
    return bool(found) and all(d.status is not DeliveryStatus.PENDING for d in found)


# -- 1. no server-side request forgery ------------------------------------------


NON_PUBLIC = [
    ("127.0.0.1", "loopback"),
    ("127.9.9.9", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.169.254", "cloud metadata service"),
    ("fd00:ec2::254", "cloud metadata service"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 (an address to refuse, not to bind)
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("fec0::1", "site-local"),
    ("100.64.0.1", "special-purpose"),
    ("192.0.2.1", "special-purpose"),
    ("240.0.0.1", "special-purpose"),
    ("255.255.255.255", "special-purpose"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "cloud metadata service"),
    ("2002:7f00:1::", "6to4 of a loopback"),
    ("64:ff9b::a00:1", "special-purpose"),
]


@pytest.mark.parametrize(("address", "reason"), NON_PUBLIC)
def test_non_public_addresses_are_named(address: str, reason: str) -> None:
    found = non_public_reason(ip_address(address))
    assert found is not None
    assert found.startswith(reason)


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert non_public_reason(ip_address(address)) is None


@pytest.mark.parametrize(("address", "reason"), NON_PUBLIC)
def test_a_name_resolving_to_a_non_public_address_is_refused_when_subscribing(
    address: str, reason: str
) -> None:
    policy = AddressPolicy.from_allowlist(resolver=Dns({"hooks.test": [address]}))
    for admin in (False, True):
        problems = subscription_problems("https://hooks.test/in", policy, admin=admin)
        assert len(problems) == 1
        assert reason in problems[0]
        assert str(ip_address(address)) in problems[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/h",
        "https://[::1]:8443/h",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:10.0.0.1]/h",
        "https://0.0.0.0/h",
        "https://2130706433/h",  # 127.0.0.1 written as one number
        "https://localhost/h",
    ],
)
def test_address_literals_and_localhost_are_refused(url: str) -> None:
    # The operating system's resolver: numeric forms and /etc/hosts, no network.
    problems = subscription_problems(url, AddressPolicy(), admin=False)
    assert problems, url


def test_every_address_of_a_name_is_checked() -> None:
    policy = AddressPolicy.from_allowlist(resolver=Dns({"mixed.test": [PUBLIC, "10.0.0.7"]}))
    (problem,) = subscription_problems("https://mixed.test/h", policy, admin=False)
    assert "10.0.0.7" in problem


def test_https_is_required_of_tenants_and_http_is_for_allowlisted_internal_receivers() -> None:
    dns = Dns({"erp.example": [PUBLIC], "erp.internal": ["10.20.0.5"]})
    policy = AddressPolicy.from_allowlist(["10.20.0.0/16"], resolver=dns)
    assert subscription_problems("https://erp.example/h", policy, admin=False) == []
    assert "https://" in subscription_problems("http://erp.example/h", policy, admin=False)[0]
    # Admin: http only for a receiver on the allowlist; the allowlist is theirs alone.
    assert subscription_problems("http://erp.internal/h", policy, admin=True) == []
    assert subscription_problems("https://erp.internal/h", policy, admin=True) == []
    assert "http://" in subscription_problems("http://erp.example/h", policy, admin=True)[0]
    assert "private" in subscription_problems("https://erp.internal/h", policy, admin=False)[0]
    # A host allowlisted by name.
    named = AddressPolicy.from_allowlist(["erp.internal"], resolver=dns)
    assert subscription_problems("http://erp.internal/h", named, admin=True) == []
    # A name that does not resolve yet: accepted over https (each delivery checks).
    assert subscription_problems("https://later.example/h", policy, admin=False) == []
    assert subscription_problems("http://later.example/h", policy, admin=True) != []


def test_bad_allowlist_entries_are_refused() -> None:
    for entry in ("10.0.0.0/33", "not a host", "-x.example", ""):
        with pytest.raises(ValueError, match="allowlist entry"):
            AddressPolicy.from_allowlist([entry])


def test_the_library_refuses_a_bad_url_when_given_a_policy(subs: WebhookSubscriptions) -> None:
    spec = WebhookSubscriptionCreate(url="https://127.0.0.1:9/h")
    with pytest.raises(InvalidSubscription, match="loopback"):
        subs.create(spec, admin=False, policy=AddressPolicy())
    assert subs.entries() == []


def test_a_loopback_receiver_gets_nothing_without_an_allowlist(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver() as receiver:
        sub_id = subscribe(subs, receiver.url)
        notifier = make_notifier()  # the default policy: public addresses only
        notifier.start()
        notifier.notify(sample_alert())
        wait_until(lambda: finished(notifier, sub_id), what="the delivery to end")
        time.sleep(0.2)
        assert receiver.received == []
    (delivery,) = notifier.ledger.deliveries(subscription_id=sub_id)
    assert delivery.status is DeliveryStatus.FAILED  # not retried: the same next time
    assert delivery.attempts == 1
    assert delivery.last_error is not None
    assert "BlockedAddress" in delivery.last_error
    assert "127.0.0.1 is a loopback address" in delivery.last_error


def test_dns_rebinding_is_refused_at_connection_time(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver() as receiver:
        dns = Dns({"hooks.rebind.test": [PUBLIC]})
        policy = AddressPolicy.from_allowlist(["127.0.0.0/8"], resolver=dns)
        url = f"https://hooks.rebind.test:{receiver.port}/vmi/hooks"
        spec = WebhookSubscriptionCreate(url=url, tenant="boltwerk", tenant_role="supplier")
        created = subs.create(spec, admin=False, policy=policy)  # public now: accepted
        assert not created.subscription.allow_private
        dns.answers["hooks.rebind.test"] = ["127.0.0.1"]  # ... and loopback later
        notifier = make_notifier(
            policy=policy, tenants_of=lambda _a: {Tenant(TenantRole.SUPPLIER, "boltwerk")}
        )
        notifier.start()
        notifier.notify(sample_alert())
        sub_id = created.subscription.id
        wait_until(lambda: finished(notifier, sub_id), what="the delivery to end")
        assert receiver.received == []
    (delivery,) = notifier.ledger.deliveries(subscription_id=sub_id)
    assert delivery.status is DeliveryStatus.FAILED
    assert "hooks.rebind.test resolves to 127.0.0.1" in (delivery.last_error or "")
    # A tenant's subscription never uses the admins' allowlist (127.0.0.0/8 here).


def test_the_connection_goes_to_the_checked_address_with_the_hosts_name(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver() as receiver:
        dns = Dns({"erp.test": ["127.0.0.1"]})
        policy = AddressPolicy.from_allowlist(["127.0.0.0/8"], resolver=dns)
        url = f"http://erp.test:{receiver.port}/vmi/hooks"
        sub_id = subs.create(WebhookSubscriptionCreate(url=url), policy=policy).subscription.id
        dns.lookups.clear()
        notifier = make_notifier(policy=policy)
        notifier.start()
        notifier.notify(sample_alert())
        (request,) = receiver.wait_for(1)
        wait_until(lambda: finished(notifier, sub_id))
    assert request.headers["host"] == f"erp.test:{receiver.port}"
    assert dns.lookups == ["erp.test"]  # resolved once, for the one attempt


@pytest.mark.skipif(not has_openssl(), reason="needs openssl")
def test_tls_verifies_the_hosts_name_and_sends_it_as_sni(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "erp.test")
    trust = ssl.create_default_context(cafile=str(cert))
    dns = Dns({"erp.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    policy = AddressPolicy.from_allowlist(["127.0.0.0/8"], resolver=dns)
    event = Outgoing("e-1", "vmi.alert.reorder", b"{}")
    with (
        TlsReceiver(cert, key) as receiver,
        guarded_client(policy, timeout_s=5.0, verify=trust) as http,
    ):
        good = WebhookTarget(1, f"https://erp.test:{receiver.port}/h", SECRET, True)
        answer = post_event(http, good, event, 1, deadline_s=10.0)
        assert answer.delivered, answer
        assert receiver.server_names == ["erp.test"]
        assert receiver.hosts == [f"erp.test:{receiver.port}"]
        # Same address, another name: the certificate is checked against the name.
        wrong = WebhookTarget(2, f"https://other.test:{receiver.port}/h", SECRET, True)
        refused = post_event(http, wrong, event, 1, deadline_s=10.0)
    assert refused.status is None
    assert "CERTIFICATE_VERIFY_FAILED" in (refused.error or "")


# -- 2. one slow or hostile receiver cannot stall the others ------------------------


def test_a_trickling_receiver_is_cut_at_the_deadline() -> None:
    event = Outgoing("e-1", "vmi.alert.reorder", b"{}")
    with (
        HostileReceiver(trickle_s=0.1) as hostile,
        guarded_client(LOOPBACK, timeout_s=5.0) as http,
    ):
        target = WebhookTarget(1, hostile.url, SECRET, True)
        started = time.monotonic()
        answer = post_event(http, target, event, 1, deadline_s=1.0)
        took = time.monotonic() - started
    # Every byte comes well within the 5 s read timeout; only the deadline ends it.
    assert 0.9 <= took < 2.5, took
    assert answer.status is None
    assert answer.retryable
    assert "deadline" in (answer.error or "")


def test_a_hanging_receiver_does_not_hold_up_the_others(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with HostileReceiver() as hanging, WebhookReceiver() as good:
        hanging_id = subscribe(subs, hanging.url)  # first: its deliveries are due first
        good_id = subscribe(subs, good.url)
        notifier = make_notifier(
            policy=LOOPBACK, timeout_s=5.0, deadline_s=5.0, workers=4, per_subscription=2
        )
        alerts = [sample_alert(order_id=n) for n in range(6)]
        for a in alerts:
            notifier.notify(a)
        started = time.monotonic()
        notifier.start()
        good.wait_for(len(alerts), timeout_s=3.0)
        took = time.monotonic() - started
        # The hanging one holds at most its cap of senders, whatever it has pending.
        time.sleep(0.3)
        assert hanging.accepted == 2
        assert hanging.most_open == 2
        assert len(notifier.ledger.deliveries(subscription_id=hanging_id)) == len(alerts)
    assert took < 3.0
    wait_until(lambda: notifier.stats.delivered == len(alerts))
    assert {d.status for d in notifier.ledger.deliveries(subscription_id=good_id)} == {
        DeliveryStatus.DELIVERED
    }


def test_the_pool_of_senders_is_bounded(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with HostileReceiver() as hanging:
        for n in range(4):
            subscribe(subs, f"{hanging.url}?n={n}")
        notifier = make_notifier(
            policy=LOOPBACK, timeout_s=5.0, deadline_s=5.0, workers=3, per_subscription=2
        )
        notifier.start()
        for n in range(3):
            notifier.notify(sample_alert(order_id=n))
        wait_until(lambda: hanging.accepted >= 3, what="three senders busy")
        time.sleep(0.5)
        assert hanging.accepted == 3
        assert hanging.most_open == 3


def test_bad_pool_settings_are_refused(make_notifier: MakeNotifier) -> None:
    for bad in ({"workers": 0}, {"per_subscription": 0}, {"deadline_s": 0}):
        with pytest.raises(ValueError, match="must be"):
            make_notifier(**bad)


def test_a_tenant_has_at_most_its_cap_of_active_subscriptions(
    subs: WebhookSubscriptions,
) -> None:
    def make(role: str = "supplier") -> int:
        spec = WebhookSubscriptionCreate(
            url="https://erp.example/h", tenant="boltwerk", tenant_role=role
        )
        return subs.create(spec, max_per_tenant=2).subscription.id

    first = make()
    make()
    with pytest.raises(TooManySubscriptions, match="supplier boltwerk already has 2"):
        make()
    make("customer")  # another tenant, though the same code
    subs.revoke(first)  # revoked ones do not count
    make()
    with pytest.raises(TooManySubscriptions):
        make()


# -- 3. subscriptions belong to a (role, tenant) pair ------------------------------

SHARED_CODE = """
version: 1
customers:
  - code: boltwerk
    name: Boltwerk as a customer of its own
sites:
  - code: boltwerk-plant
    customer: boltwerk
    name: Boltwerk's own plant
"""


@pytest.fixture
def catalog(sql_url: str, tmp_path: Path) -> Iterator[Catalog]:
    """The sample catalog, plus a customer with the code of the supplier `boltwerk`."""
    found = Catalog(sql_url)
    found.load_file(SAMPLE_CATALOG)
    extra = tmp_path / "shared-code.yaml"
    extra.write_text(SHARED_CODE, encoding="utf-8")
    found.load_file(extra)
    yield found
    found.close()


def test_a_supplier_and_a_customer_with_one_code_receive_only_their_own(
    catalog: Catalog, subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver() as receiver:
        as_supplier = subscribe(
            subs, receiver.url + "?s", tenant="boltwerk", tenant_role="supplier"
        )
        as_customer = subscribe(
            subs, receiver.url + "?c", tenant="boltwerk", tenant_role="customer"
        )
        notifier = make_notifier(policy=LOOPBACK, tenants_of=CatalogTenants(catalog))
        notifier.start()
        # BOLT-M8 at acme-north: boltwerk supplies it, acme owns the site.
        notifier.notify(sample_alert(site="acme-north", sku="BOLT-M8"))
        # At boltwerk's own plant, no agreement: boltwerk the customer only.
        notifier.notify(sample_alert(AlertKind.STOCKOUT, site="boltwerk-plant", sku="X-1"))
        receiver.wait_for(2)
        wait_until(lambda: notifier.stats.delivered == 2)
        time.sleep(0.2)
        got = sorted((r.path.split("?")[1], b"boltwerk-plant" in r.body) for r in receiver.received)
    assert got == [("c", True), ("s", False)]
    assert len(notifier.ledger.deliveries(subscription_id=as_supplier)) == 1
    assert len(notifier.ledger.deliveries(subscription_id=as_customer)) == 1
    listed = subs.entries(tenant="boltwerk", role=TenantRole.CUSTOMER)
    assert [s.id for s in listed] == [as_customer]


def test_a_tenant_without_a_role_takes_the_catalogs_or_is_refused(
    catalog: Catalog, subs: WebhookSubscriptions
) -> None:
    def role_of(code: str) -> str | None:
        spec = WebhookSubscriptionCreate(url="https://erp.example/h", tenant=code)
        role = subs.create(spec).subscription.tenant_role
        return None if role is None else role.value

    assert role_of("safeguard") == "supplier"
    assert role_of("nordwerk") == "customer"
    with pytest.raises(InvalidSubscription, match="both a supplier and a customer"):
        role_of("boltwerk")
    with pytest.raises(InvalidSubscription, match="no supplier or customer"):
        role_of("nobody")


def test_the_migration_gives_existing_subscriptions_their_role(sql_url: str) -> None:
    upgrade(sql_url, "0004")
    engine = create_engine(sql_url.replace("postgresql://", "postgresql+psycopg://"))
    rows = {"only-sup": "s", "only-cust": "c", "both": "sc", "nobody": ""}
    with engine.begin() as conn:
        for code, kinds in rows.items():
            for table, letter in (("supplier", "s"), ("customer", "c")):
                if letter in kinds:
                    conn.execute(
                        text(f"INSERT INTO {table} (code, name) VALUES (:c, :c)"),  # noqa: S608
                        {"c": code},
                    )
        for tenant in [*rows, None]:
            conn.execute(
                text(
                    "INSERT INTO webhook_subscription (url, secret, tenant, active, created_at)"
                    " VALUES ('https://x.example/h', 'whsec_x', :t, :a, CURRENT_TIMESTAMP)"
                ),
                {"t": tenant, "a": True},
            )
    upgrade(sql_url)
    with engine.connect() as conn:
        found = {
            row[0]: (row[1], bool(row[2]))
            for row in conn.execute(
                text("SELECT tenant, tenant_role, allow_private FROM webhook_subscription")
            )
        }
    engine.dispose()
    assert found == {
        "only-sup": ("supplier", False),
        "only-cust": ("customer", False),
        "both": (None, False),  # ambiguous: matches nothing until made again
        "nobody": (None, False),
        None: (None, True),  # only admins could make one without a tenant
    }


# -- 4. verify_signature never raises; credentials are redacted -------------------

HEX = "a" * 64
HOSTILE_HEADERS: list[object] = [
    None,
    b"t=1,v1=" + HEX.encode(),
    12345,
    ["t=1", "v1=" + HEX],
    "",
    ",,,,",
    "t=,v1=",
    "t=1e3,v1=" + HEX,
    "t=-5,v1=" + HEX,
    "t=" + "9" * 400 + ",v1=" + HEX,  # float(huge int) overflows
    "t=" + "9" * 5000 + ",v1=" + HEX,  # past int()'s digit limit
    "t=١٢٣,v1=" + HEX,  # non-ASCII digits int() would take
    "t=1,v1=é" + "a" * 63,  # non-ASCII signature: compare_digest raises on it
    "t=1,v1=\x00",
    "t=1,v1=" + HEX + "," + ",".join(["v1=" + HEX] * 10),
    "t=1," + "v1=" + "a" * 100_000,
    "t=1\udcff,v1=" + HEX,  # a lone surrogate
    "\N{SNOWMAN}",
]


@pytest.mark.parametrize("header", HOSTILE_HEADERS, ids=range(len(HOSTILE_HEADERS)))
def test_verify_signature_answers_false_to_hostile_headers(header: object) -> None:
    assert verify_signature(SECRET, header, b"{}", now=1.0) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("secret", "body", "tolerance", "now"),
    [
        (None, b"{}", 300.0, 1.0),
        (b"bytes-secret", b"{}", 300.0, 1.0),
        ("", b"{}", 300.0, 1.0),
        (SECRET, "a str body", 300.0, 1.0),
        (SECRET, None, 300.0, 1.0),
        (SECRET, b"{}", float("nan"), 1.0),
        (SECRET, b"{}", "300", 1.0),
        (SECRET, b"{}", -1.0, 1.0),
        (SECRET, b"{}", 300.0, float("nan")),
        (SECRET, b"{}", 300.0, 10**400),
    ],
)
def test_verify_signature_answers_false_to_wrong_types(
    secret: object, body: object, tolerance: object, now: object
) -> None:
    header = signature(SECRET, b"{}", 1)
    assert verify_signature(secret, header, body, tolerance, now=now) is False  # type: ignore[arg-type]


def test_verify_signature_still_accepts_good_signatures() -> None:
    body = b'{"id":"x"}'
    header = signature(SECRET, body, 1_700_000_000)
    assert verify_signature(SECRET, header, body, now=1_700_000_100)
    assert not verify_signature(SECRET, header, body, now=1_700_000_400)  # past tolerance
    assert verify_signature(SECRET, header, body, float("inf"), now=2_000_000_000)
    old = hmac.new(b"whsec_old-one-000000000000", b"1700000000." + body, hashlib.sha256)
    rotating = f"{header},v1={old.hexdigest()}"
    assert verify_signature(SECRET, rotating, body, now=1_700_000_000)
    assert verify_signature("whsec_old-one-000000000000", rotating, body, now=1_700_000_000)
    assert not verify_signature(SECRET, header, body + b" ", now=1_700_000_000)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@erp.example/h", "https://***@erp.example/h"),
        ("https://tok123@erp.example:8443/h", "https://***@erp.example:8443/h"),
        ("https://erp.example/h?token=abc&x=1", "https://erp.example/h?token=***&x=1"),
        (
            "https://erp.example/h?api_key=k&Signature=s&ok",
            "https://erp.example/h?api_key=***&Signature=***&ok",
        ),
        ("https://[::1]:1/h?x=1", "https://[::1]:1/h?x=1"),
        ("https://erp.example/plain", "https://erp.example/plain"),
    ],
)
def test_redacted_urls(url: str, shown: str) -> None:
    assert redacted_url(url) == shown


def test_subscriptions_are_shown_with_credentials_redacted(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    url = "https://hook-user:pw-in-url@erp.example/vmi?access_token=tok-in-query&site=a"
    created = subs.create(WebhookSubscriptionCreate(url=url))
    shown = "https://***@erp.example/vmi?access_token=***&site=a"
    assert created.subscription.url == shown
    assert subs.get(created.subscription.id).url == shown
    assert [s.url for s in subs.entries()] == [shown]
    target = subs.target(created.subscription.id)
    assert target is not None
    assert target.url == url  # the notifier still sends to the real one
    assert "pw-in-url" not in repr(target)


def test_a_refused_address_is_logged_without_credentials(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    sub_id = subscribe(subs, "http://hook-user:pw-in-url@127.0.0.1:9/h?token=tok-in-query")
    notifier = make_notifier()
    notifier.start()
    notifier.notify(sample_alert())
    wait_until(lambda: finished(notifier, sub_id))
    (delivery,) = notifier.ledger.deliveries(subscription_id=sub_id)
    (attempt,) = notifier.ledger.attempts(delivery.id)
    for text_ in (caplog.text, delivery.last_error or "", attempt.error or ""):
        for leak in ("pw-in-url", "hook-user", "tok-in-query", SECRET):
            assert leak not in text_


def test_the_http_client_ignores_proxies_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A proxy would connect where the guard did not look.
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    with WebhookReceiver() as receiver, guarded_client(LOOPBACK, timeout_s=2.0) as http:
        target = WebhookTarget(1, receiver.url, SECRET, True)
        answer = post_event(http, target, Outgoing("e", "t", b"{}"), 1, deadline_s=5.0)
    assert answer.delivered, answer
    assert isinstance(http, httpx.Client)
