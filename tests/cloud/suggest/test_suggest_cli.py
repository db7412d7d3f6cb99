"""`vmi suggest` on real SQLite stores, and the suggestion book underneath it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.suggest.book import (
    SuggestionBook,
    SuggestionNotOpen,
    SuggestionStatus,
    UnknownSuggestion,
)
from cloud.suggest.suggest import Effect, Flag, Suggestion, Terms
from cloud.timeseries import SqliteStore
from cloud.timeseries.base import LevelPoint
from vmi.cli import main

T = datetime(2026, 12, 1, tzinfo=UTC)


def _world(tmp_path: Path, *, service_level: float) -> Path:
    """60 days of a shelf used 20 a day, read every 6 hours, refilled to 300 under 60."""
    now = datetime.now(UTC)
    start = now - timedelta(days=60)
    store = SqliteStore(tmp_path / "levels.db")
    level, points = 300.0, []
    for i in range(60 * 4):
        level -= 5.0
        if level < 60:
            level = 300.0
        points.append(
            LevelPoint("north", "d1", "A-01", "BOLT", start + timedelta(hours=6 * i), level)
        )
    # A shelf nobody takes from: dead stock.
    points += [
        LevelPoint("north", "d1", "A-02", "OLD", start + timedelta(days=d), 40.0) for d in range(60)
    ]
    store.write_levels(points)
    store.close()
    config = tmp_path / "cloud.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "levels.db"}"\n'
        f'[orders]\nurl = "sqlite:///{tmp_path / "orders.db"}"\n'
        f"[replenishment.default]\nservice_level = {service_level}\n"
        "lead_time_days = 3\nlead_time_sd_days = 1\n"
    )
    return config


def test_vmi_suggest_prints_today_beside_better_terms_and_saves_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _world(tmp_path, service_level=0.999)
    argv = ["suggest", "--config", str(config), "--site", "north"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("SKU")
    bolt = next(i for i, ln in enumerate(lines) if ln.startswith("BOLT"))
    assert "today 99.9% / 0" in lines[bolt]
    assert lines[bolt + 1].lstrip().startswith("->")
    assert "less stock" in lines[bolt + 1]
    old = next(ln for ln in lines if ln.startswith("OLD"))
    assert "dead stock" in old

    assert main([*argv, "--save"]) == 0
    assert "2 suggestions recorded" in capsys.readouterr().out
    book = SuggestionBook(f"sqlite:///{tmp_path / 'orders.db'}")
    try:
        first = book.suggestions(sites=["north"])
        assert sorted(s.sku for s in first) == ["BOLT", "OLD"]
        assert first[0].has_terms
        assert first[1].flags == Flag.DEAD_STOCK.value
        assert not first[1].has_terms
        # A new round supersedes the open ones and keeps them as history.
        assert main([*argv, "--save"]) == 0
        again = book.suggestions(sites=["north"])
        assert {s.id for s in again}.isdisjoint({s.id for s in first})
        history = book.suggestions(sites=["north"], status=SuggestionStatus.SUPERSEDED)
        assert {s.id for s in history} == {s.id for s in first}
    finally:
        book.close()


def test_vmi_suggest_for_an_unknown_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _world(tmp_path, service_level=0.99)
    assert main(["suggest", "--config", str(config), "--site", "nowhere"]) == 0
    assert "no stored levels" in capsys.readouterr().out


def _suggestion(sku: str, *, terms: bool = True) -> Suggestion:
    now = Terms(0.99, 0.0, 100.0, 200.0)
    eff = Effect(120.0, 0.999, 0.0, 26.0)
    return Suggestion(
        site="s",
        sku=sku,
        current=now,
        current_effect=eff,
        suggested=Terms(0.95, 1.0, 80.0, 180.0) if terms else None,
        suggested_effect=Effect(100.0, 0.995, 0.0, 26.0) if terms else None,
        target_fill_rate=0.98,
        flags=(Flag.EXCESS_COVER,),
        reason="17% less stock",
    )


def test_the_book_records_decisions_once(tmp_path: Path) -> None:
    book = SuggestionBook(f"sqlite:///{tmp_path / 'orders.db'}")
    try:
        rows = book.record(
            [_suggestion("A"), _suggestion("B", terms=False)], ["sup", None], T, window_days=90
        )
        a, b = rows
        assert a.service_level == 0.95
        assert a.avg_on_hand == 100.0
        assert b.service_level is None
        assert b.flags == "excess_cover"
        done = book.accept(a.id, "key 3 (supplier sup)", T + timedelta(hours=1))
        assert done.status == SuggestionStatus.ACCEPTED
        assert done.decided_by == "key 3 (supplier sup)"
        assert done.decided_at == T + timedelta(hours=1)
        with pytest.raises(SuggestionNotOpen, match="accepted"):
            book.dismiss(a.id, "someone", T)
        dismissed = book.dismiss(b.id, "key 4", T, note="seasonal item" * 100)
        assert dismissed.status == SuggestionStatus.DISMISSED
        assert dismissed.note is not None
        assert len(dismissed.note) == 500
        with pytest.raises(UnknownSuggestion):
            book.accept(999, "x", T)
        assert book.suggestions() == []
        assert len(book.suggestions(status=None)) == 2
    finally:
        book.close()


def test_figures_that_are_not_finite_are_stored_as_null(tmp_path: Path) -> None:
    s = _suggestion("A")
    odd = dataclasses.replace(s, current=Terms(float("nan"), 0.0, float("inf"), 200.0))
    book = SuggestionBook(f"sqlite:///{tmp_path / 'orders.db'}")
    try:
        (row,) = book.record([odd], [None], T, window_days=90)
        (back,) = book.suggestions()
        assert back.id == row.id
        assert back.current_service_level is None
        assert back.current_reorder_point is None
        assert back.current_order_up_to == 200.0
    finally:
        book.close()


def test_one_open_suggestion_per_pair_even_outside_record(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from cloud.suggest.book import _row

    url = f"sqlite:///{tmp_path / 'orders.db'}"
    book = SuggestionBook(url)
    try:
        book.record([_suggestion("A")], [None], T, window_days=90)
        with Session(book._engine) as s:
            s.add(_row(_suggestion("A"), None, T, 90))
            with pytest.raises(IntegrityError):
                s.commit()
        assert book.suggestions(sku="A")[0].sku == "A"
        assert book.suggestions(sku="B") == []
    finally:
        book.close()
