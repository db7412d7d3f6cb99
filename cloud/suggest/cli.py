"""`vmi suggest --config FILE --site S [--sku K]`: better agreement terms, as a table."""

from __future__ import annotations

import argparse

from cloud.config import load_cloud_config
from cloud.kpis.report import stored_keys
from cloud.readers import open_readers
from cloud.suggest.book import SuggestionBook
from cloud.suggest.inputs import read_inputs
from cloud.suggest.suggest import Suggestion, SuggestOptions, suggest
from vmi.clock import SystemClock


def main(args: argparse.Namespace) -> int:
    """Entry of `vmi suggest` (options: config, site, sku, days, target_fill_rate, save)."""
    config = load_cloud_config(args.config)
    saved = ""
    with open_readers(config) as r:
        now = SystemClock().now()
        keys = stored_keys(r.store, args.site, args.sku)
        read = read_inputs(
            r.store, r.orders, r.catalog, config.replenishment, keys, now, window_days=args.days
        )
        found = suggest(read.inputs, SuggestOptions(target_fill_rate=args.target_fill_rate))
        if args.save:
            book = SuggestionBook(config.orders.url)
            try:
                rows = book.record(found, read.suppliers, now, window_days=args.days)
            finally:
                book.close()
            saved = f"\n{len(rows)} suggestions recorded as open (see GET /suggestions)."
    print(table(found) + saved)
    return 0


def table(found: list[Suggestion]) -> str:
    """Today's terms and their replayed effect beside the suggested ones, one key a line."""
    head = (
        f"{'SKU':<14} {'terms (service / review d)':<28} {'reorder@':>9} {'up to':>9} "
        f"{'stock':>9} {'fill':>7} {'out d/yr':>8} {'orders/yr':>9}  note"
    )
    lines = [head]
    for s in found:
        cur, now = s.current, s.current_effect
        note = ", ".join(f.value.replace("_", " ") for f in s.flags)
        lines.append(
            f"{s.sku:<14} {'today ' + _terms(cur.service_level, cur.review_period_days):<28} "
            f"{cur.reorder_point:9.0f} {cur.order_up_to:9.0f} {now.avg_on_hand:9.1f} "
            f"{now.fill_rate:7.1%} {now.stockout_days_per_year:8.1f} "
            f"{now.orders_per_year:9.1f}  {note}"
        )
        if s.suggested is not None and s.suggested_effect is not None:
            new, eff = s.suggested, s.suggested_effect
            lines.append(
                f"{'':<14} {'-> ' + _terms(new.service_level, new.review_period_days):<28} "
                f"{new.reorder_point:9.0f} {new.order_up_to:9.0f} {eff.avg_on_hand:9.1f} "
                f"{eff.fill_rate:7.1%} {eff.stockout_days_per_year:8.1f} "
                f"{eff.orders_per_year:9.1f}  {s.reason}"
            )
    if not found:
        lines.append("(no stored levels for that site and SKU)")
    return "\n".join(lines)


def _terms(service: float, review: float) -> str:
    return f"{service:.1%} / {review:g}"
