"""`/suggestions` on the test world (`api_world`): what each role lists, who may
accept or dismiss, what accepting writes into the agreement, and what is
refused; on SQLite and PostgreSQL.

Recorded on top of the world (agreements at service level 0.95, review 0 d):

1. site-alpha / sku-alpha (sup-alpha): 0.98 every 7 days;
2. site-alpha / sku-gamma (sup-gamma): 0.90 every day, flagged excess cover;
3. site-beta / sku-beta (sup-beta): 0.99 every day;
4. site-beta / sku-extra (sup-beta, an agreement added here): flags only;
5. site-beta / sku-orphan (no agreement): 0.97 every day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from cloud.api.context import ApiContext
from cloud.api.security import Role
from cloud.catalog import AgreementSpec
from cloud.catalog.models import Agreement
from cloud.suggest.book import SuggestionBook, SuggestionStatus
from cloud.suggest.suggest import Effect, Flag, Suggestion, Terms
from tests.cloud.api.api_world import Principal, World, build_world
from tests.cloud.api.conftest import bearer, new_token

T0 = datetime(2026, 12, 1, 6, tzinfo=UTC)
ALPHA, GAMMA, BETA, EXTRA, ORPHAN = 1, 2, 3, 4, 5


def suggestion(
    site: str,
    sku: str,
    terms: tuple[float, float] | None,
    flags: tuple[Flag, ...] = (),
) -> Suggestion:
    """A hand-made suggestion: today's terms are the world's (0.95, review 0)."""
    better = None if terms is None else Terms(terms[0], terms[1], 14.0, 30.0)
    return Suggestion(
        site=site,
        sku=sku,
        current=Terms(0.95, 0.0, 10.0, 20.0),
        current_effect=Effect(15.0, 0.93, 12.0, 40.0),
        suggested=better,
        suggested_effect=None if better is None else Effect(12.0, 0.985, 3.0, 52.0),
        target_fill_rate=0.98,
        flags=flags,
        reason="" if better is None else f"terms for {sku}",
    )


@dataclass
class Setup:
    client: TestClient
    context: ApiContext
    world: World
    keys: dict[str, Principal]
    admin: dict[str, str]

    def headers(self, name: str) -> dict[str, str]:
        return self.admin if name == "admin" else self.keys[name].headers

    def ids(self, name: str, **params: str) -> list[int]:
        response = self.client.get("/suggestions", params=params, headers=self.headers(name))
        assert response.status_code == 200, response.text
        page = response.json()
        if "limit" not in params:
            assert page["count"] == len(page["data"])
        return [s["id"] for s in page["data"]]

    def accept(self, name: str, suggestion_id: int | str) -> Any:
        return self.client.post(f"/suggestions/{suggestion_id}/accept", headers=self.headers(name))

    def dismiss(self, name: str, suggestion_id: int | str, body: Any = None) -> Any:
        return self.client.post(
            f"/suggestions/{suggestion_id}/dismiss",
            json={} if body is None else body,
            headers=self.headers(name),
        )

    def terms(self, site: str, sku: str) -> tuple[float, float]:
        agreement = self.context.catalog.get(AgreementSpec, (site, sku))
        return agreement.service_level, agreement.review_period_days


@pytest.fixture
def setup(client: TestClient, context: ApiContext, admin: dict[str, str]) -> Setup:
    world = build_world(client, context, admin)
    assert client.post("/skus", json={"code": "sku-extra"}, headers=admin).status_code == 201
    extra = {
        "supplier": "sup-beta",
        "site": "site-beta",
        "sku": "sku-extra",
        "lead_time_days": 2,
        "service_level": 0.95,
        "min_level": 1,
        "max_level": 10,
    }
    assert client.post("/agreements", json=extra, headers=admin).status_code == 201
    rows = context.suggestions.record(
        [
            suggestion("site-alpha", "sku-alpha", (0.98, 7.0)),
            suggestion("site-alpha", "sku-gamma", (0.90, 1.0), (Flag.EXCESS_COVER,)),
            suggestion("site-beta", "sku-beta", (0.99, 1.0)),
            suggestion("site-beta", "sku-extra", None, (Flag.DEAD_STOCK, Flag.EXCESS_COVER)),
            suggestion("site-beta", "sku-orphan", (0.97, 1.0)),
        ],
        ["sup-alpha", "sup-gamma", "sup-beta", "sup-beta", None],
        T0,
        window_days=90,
    )
    assert [r.id for r in rows] == [ALPHA, GAMMA, BETA, EXTRA, ORPHAN]
    keys = {p.name: p for p in world.principals()}
    return Setup(client, context, world, keys, admin)


def test_lists_hold_only_the_pairs_the_key_sees(setup: Setup) -> None:
    assert setup.ids("admin") == [ALPHA, GAMMA, BETA, EXTRA, ORPHAN]
    assert setup.ids("sup-alpha") == [ALPHA]
    assert setup.ids("sup-gamma") == [GAMMA]
    assert setup.ids("sup-beta") == [BETA, EXTRA]
    assert setup.ids("cust-alpha") == [ALPHA, GAMMA]
    assert setup.ids("cust-beta") == [BETA, EXTRA, ORPHAN]
    # Filters narrow within the view; another tenant's codes find nothing.
    assert setup.ids("admin", site="site-beta", sku="sku-extra") == [EXTRA]
    assert setup.ids("cust-alpha", sku="sku-gamma") == [GAMMA]
    assert setup.ids("sup-alpha", site="site-beta") == []
    assert setup.ids("sup-alpha", sku="sku-gamma") == []
    assert setup.ids("cust-beta", site="site-alpha") == []
    assert setup.ids("admin", status="dismissed") == []
    assert setup.ids("admin", limit="2", offset="1") == [GAMMA, BETA]
    page = setup.client.get("/suggestions", params={"limit": 2}, headers=setup.admin).json()
    assert page["count"] == 5


def test_a_suggestion_shows_terms_effects_and_flags(setup: Setup) -> None:
    listed = setup.client.get("/suggestions", headers=setup.headers("sup-gamma")).json()
    (gamma,) = listed["data"]
    assert gamma["site"] == "site-alpha"
    assert gamma["sku"] == "sku-gamma"
    assert gamma["supplier"] == "sup-gamma"
    assert gamma["status"] == "open"
    assert gamma["flags"] == ["excess_cover"]
    assert gamma["reason"] == "terms for sku-gamma"
    assert gamma["target_fill_rate"] == 0.98
    assert gamma["window_days"] == 90
    assert datetime.fromisoformat(gamma["created_at"]) == T0
    assert gamma["current"] == {
        "service_level": 0.95,
        "review_period_days": 0.0,
        "reorder_point": 10.0,
        "order_up_to": 20.0,
    }
    assert gamma["current_effect"] == {
        "avg_on_hand": 15.0,
        "fill_rate": 0.93,
        "stockout_days_per_year": 12.0,
        "orders_per_year": 40.0,
    }
    assert gamma["suggested"]["service_level"] == 0.90
    assert gamma["suggested"]["review_period_days"] == 1.0
    assert gamma["suggested_effect"]["fill_rate"] == 0.985
    assert gamma["decided_by"] is None
    assert gamma["decided_at"] is None
    assert gamma["note"] is None
    listed = setup.client.get(
        "/suggestions", params={"sku": "sku-extra"}, headers=setup.headers("sup-beta")
    ).json()
    (extra,) = listed["data"]
    assert extra["flags"] == ["dead_stock", "excess_cover"]
    assert extra["suggested"] is None
    assert extra["suggested_effect"] is None
    assert extra["reason"] == ""


def test_accepting_writes_the_terms_into_the_agreement(setup: Setup) -> None:
    (key_id,) = [k.id for k in setup.context.keys.entries() if k.tenant == "sup-alpha"]
    before = datetime.now(UTC)
    response = setup.accept("sup-alpha", ALPHA)
    after = datetime.now(UTC)
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert accepted["status"] == "accepted"
    assert accepted["decided_by"] == f"supplier sup-alpha (key #{key_id})"
    assert before <= datetime.fromisoformat(accepted["decided_at"]) <= after
    assert accepted["note"] is None
    # The agreement holds the suggested terms, in the catalog and through the API.
    assert setup.terms("site-alpha", "sku-alpha") == (0.98, 7.0)
    agreement = setup.client.get(
        "/agreements/site-alpha/sku-alpha", headers=setup.headers("cust-alpha")
    ).json()
    assert (agreement["service_level"], agreement["review_period_days"]) == (0.98, 7.0)
    assert agreement["lead_time_days"] == 2  # the rest is as it was
    # Decided once: a second accept, or a dismissal, is a conflict.
    again = setup.accept("admin", ALPHA)
    assert again.status_code == 409
    assert "accepted" in again.json()["detail"]
    assert setup.dismiss("sup-alpha", ALPHA).status_code == 409
    # Open lists no longer hold it; `accepted` and `any` do.
    assert setup.ids("sup-alpha") == []
    assert setup.ids("sup-alpha", status="accepted") == [ALPHA]
    assert setup.ids("cust-alpha", status="any") == [ALPHA, GAMMA]
    # The other pairs' agreements are untouched.
    assert setup.terms("site-alpha", "sku-gamma") == (0.95, 0.0)
    assert setup.terms("site-beta", "sku-beta") == (0.95, 0.0)


def test_the_sites_customer_and_an_admin_may_accept(setup: Setup) -> None:
    response = setup.accept("cust-alpha", GAMMA)
    assert response.status_code == 200, response.text
    assert response.json()["decided_by"].startswith("customer cust-alpha (key #")
    assert setup.terms("site-alpha", "sku-gamma") == (0.90, 1.0)
    response = setup.accept("admin", BETA)
    assert response.status_code == 200, response.text
    assert response.json()["decided_by"].startswith("admin (key #")
    assert setup.terms("site-beta", "sku-beta") == (0.99, 1.0)


def test_dismissing_keeps_the_agreement_and_the_note(setup: Setup) -> None:
    note = "we are phasing sku-beta out"
    response = setup.dismiss("sup-beta", BETA, {"note": note})
    assert response.status_code == 200, response.text
    dismissed = response.json()
    assert dismissed["status"] == "dismissed"
    assert dismissed["note"] == note
    assert dismissed["decided_by"].startswith("supplier sup-beta (key #")
    assert dismissed["decided_at"] is not None
    assert setup.terms("site-beta", "sku-beta") == (0.95, 0.0)
    assert setup.accept("sup-beta", BETA).status_code == 409
    assert setup.dismiss("cust-beta", BETA).status_code == 409
    # Without a note; and a flags-only suggestion may be dismissed.
    response = setup.dismiss("cust-beta", EXTRA)
    assert response.status_code == 200, response.text
    assert response.json()["note"] is None
    assert setup.ids("cust-beta", status="dismissed") == [BETA, EXTRA]
    assert setup.ids("cust-beta") == [ORPHAN]


def test_keys_outside_the_pair_get_404(setup: Setup) -> None:
    for name, suggestion_id in (
        ("sup-alpha", GAMMA),  # another supplier at the same site
        ("sup-alpha", BETA),
        ("sup-gamma", ALPHA),
        ("sup-beta", ALPHA),
        ("sup-beta", ORPHAN),  # no agreement: no supplier sees the pair
        ("cust-alpha", BETA),
        ("cust-beta", GAMMA),
    ):
        assert setup.accept(name, suggestion_id).status_code == 404, (name, suggestion_id)
        assert setup.dismiss(name, suggestion_id).status_code == 404, (name, suggestion_id)
    for name in ("admin", "sup-alpha", "cust-alpha"):
        assert setup.accept(name, 999).status_code == 404
        assert setup.dismiss(name, 999).status_code == 404
    assert setup.ids("admin") == [ALPHA, GAMMA, BETA, EXTRA, ORPHAN]  # all still open
    assert setup.terms("site-alpha", "sku-gamma") == (0.95, 0.0)
    assert setup.terms("site-beta", "sku-beta") == (0.95, 0.0)


def test_a_read_only_key_may_list_but_not_decide(setup: Setup) -> None:
    for role, tenant in ((Role.SUPPLIER, "sup-alpha"), (Role.ADMIN, None)):
        headers = bearer(new_token(setup.context, role, tenant, read_only=True))
        assert setup.client.get("/suggestions", headers=headers).status_code == 200
        for action in ("accept", "dismiss"):
            response = setup.client.post(f"/suggestions/{ALPHA}/{action}", json={}, headers=headers)
            assert response.status_code == 403
            assert "read-only" in response.json()["detail"]
    assert setup.terms("site-alpha", "sku-alpha") == (0.95, 0.0)
    assert setup.ids("admin") == [ALPHA, GAMMA, BETA, EXTRA, ORPHAN]


def test_accepting_without_terms_or_agreement_is_a_conflict(setup: Setup) -> None:
    response = setup.accept("sup-beta", EXTRA)
    assert response.status_code == 409
    assert "only flags" in response.json()["detail"]
    assert setup.terms("site-beta", "sku-extra") == (0.95, 0.0)
    for name in ("cust-beta", "admin"):
        response = setup.accept(name, ORPHAN)
        assert response.status_code == 409
        assert "no VMI agreement" in response.json()["detail"]
    assert setup.ids("cust-beta") == [BETA, EXTRA, ORPHAN]  # both still open
    assert setup.dismiss("cust-beta", ORPHAN).status_code == 200


def test_accepting_after_the_agreement_was_deleted_is_a_conflict(setup: Setup) -> None:
    gone = setup.client.delete("/agreements/site-alpha/sku-alpha", headers=setup.admin)
    assert gone.status_code == 204
    # Its supplier no longer sees the pair; the site's customer still does.
    assert setup.accept("sup-alpha", ALPHA).status_code == 404
    response = setup.accept("cust-alpha", ALPHA)
    assert response.status_code == 409
    assert "no VMI agreement" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"note": "x" * 501},
        {"note": "x" * 2_000_000},
        {"note": "nul \x00 inside"},
        {"note": 5},
        {"note": "ok", "status": "accepted"},
        ["note"],
        "note",
    ],
    ids=["long", "huge", "nul", "number", "extra-field", "list", "string"],
)
def test_a_bad_dismissal_body_is_refused(setup: Setup, body: Any) -> None:
    response = setup.dismiss("admin", ALPHA, body)
    assert 400 <= response.status_code < 500, response.text
    assert setup.ids("admin")[0] == ALPHA  # still open


@pytest.mark.parametrize("bad", ["abc", "-1", "0", "1.5", str(2**31), str(2**70), "1e3", "%00"])
def test_a_bad_id_is_refused(setup: Setup, bad: str) -> None:
    for action in ("accept", "dismiss"):
        response = setup.client.post(f"/suggestions/{bad}/{action}", json={}, headers=setup.admin)
        assert 400 <= response.status_code < 500, (bad, action, response.text)


def test_bad_list_parameters_are_refused(setup: Setup) -> None:
    for params in (
        {"status": "bogus"},
        {"site": "x" * 1000},
        {"sku": "bad code!"},
        {"limit": "0"},
        {"offset": "-1"},
        {"limit": str(2**70)},
    ):
        response = setup.client.get("/suggestions", params=params, headers=setup.admin)
        assert response.status_code == 422, (params, response.text)


@pytest.fixture
def decided_meanwhile(context: ApiContext) -> Iterator[list[str]]:
    """Arms a rival: right after a request's transaction writes a VMI agreement and
    commits, the rival acts as named in the returned list (once), on its own
    connections. No mock: SQLAlchemy's events, the real book and catalog."""
    plan: list[str] = []
    armed: list[bool] = []
    done: list[bool] = []
    rival = SuggestionBook(context.settings.database_url)

    def agreement_written(*_args: object) -> None:
        armed.append(True)

    def committed(_session: Session) -> None:
        if not armed or done or not plan:
            return
        done.append(True)
        at = datetime.now(UTC) - timedelta(seconds=1)
        for step in plan:
            if step == "dismiss":
                rival.dismiss(ALPHA, "admin (key #0)", at, "rival")
            elif step == "accept":
                rival.accept(ALPHA, "admin (key #0)", at)
            elif step == "change":
                context.catalog.update(
                    AgreementSpec, ("site-alpha", "sku-alpha"), service_level=0.5
                )

    event.listen(Agreement, "after_update", agreement_written)
    event.listen(Session, "after_commit", committed)
    try:
        yield plan
    finally:
        event.remove(Session, "after_commit", committed)
        event.remove(Agreement, "after_update", agreement_written)
        rival.close()
    assert done, "the rival never acted"


@pytest.mark.parametrize(
    ("rival", "status", "terms"),
    [
        # Dismissed meanwhile: the accept changed nothing; its terms are put back.
        (["dismiss"], SuggestionStatus.DISMISSED, (0.95, 0.0)),
        # Accepted meanwhile (the same terms): they stay.
        (["accept"], SuggestionStatus.ACCEPTED, (0.98, 7.0)),
        # Dismissed, and the agreement changed again since: that change stays.
        (["change", "dismiss"], SuggestionStatus.DISMISSED, (0.5, 7.0)),
    ],
    ids=["dismissed", "accepted", "changed-since"],
)
def test_an_accept_that_loses_the_race_answers_409(
    setup: Setup,
    decided_meanwhile: list[str],
    rival: list[str],
    status: SuggestionStatus,
    terms: tuple[float, float],
) -> None:
    decided_meanwhile.extend(rival)
    response = setup.accept("sup-alpha", ALPHA)
    assert response.status_code == 409, response.text
    assert status.value in response.json()["detail"]
    assert setup.terms("site-alpha", "sku-alpha") == terms
    assert setup.ids("admin", status=status.value) == [ALPHA]
