"""`vmi demo`: run the demo and print what a supplier would watch."""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from cloud.orders import OPEN_STATUSES
from firmware_sim.demo import (
    DEMO_SHELVES,
    LEAD_TIME_DAYS,
    REVIEW_PERIOD_DAYS,
    SERVICE_LEVEL,
    Demo,
    DemoOptions,
)
from vmi.runtime import run_until_signalled

_TABLE_EVERY_S = 5.0


class DemoPrinter:
    """Prints event lines as they happen and a stock table every few seconds."""

    def __init__(self, demo: Demo, out: TextIO) -> None:
        self.demo = demo
        self.out = out
        self._next_table = time.monotonic() + _TABLE_EVERY_S
        self._t0 = time.monotonic()

    def _stamp(self) -> str:
        return f"[{time.monotonic() - self._t0:5.1f}s | {self.demo.clock.now():%a %H:%M}]"

    def tick(self) -> None:
        while True:
            try:
                ev = self.demo.events.get_nowait()
            except queue.Empty:
                break
            label = {"alert": "ALERT   ", "delivery": "DELIVERY", "info": "        "}[ev.kind]
            print(f"{self._stamp()} {label} {ev.text}", file=self.out, flush=True)
        if time.monotonic() >= self._next_table:
            self._next_table += _TABLE_EVERY_S
            self.table()

    def table(self) -> None:
        projections = self.demo.projections()
        decisions = self.demo.decisions()
        open_orders = {o.sku: o for o in self.demo.orders() if o.status in OPEN_STATUSES}
        lines = [
            f"{self._stamp()} stock at {self.demo.site}:",
            f"    {'SKU':<8} {'on hand':>7} {'use/day':>8} {'cover d':>8} {'reorder@':>8}"
            "  open order",
        ]
        for spec in DEMO_SHELVES:
            p = projections.get((self.demo.site, spec.sku))
            d = decisions.get((self.demo.site, spec.sku))
            o = open_orders.get(spec.sku)
            order = f"#{o.id} {o.quantity} pcs ({o.status})" if o else "-"
            if p is None or d is None:
                lines.append(f"    {spec.sku:<8} {'…':>7} {'':>8} {'':>8} {'':>8}  {order}")
                continue
            rule = self.demo.rule_for(spec.sku)
            cover = f"{p.days_of_cover:8.1f}" if p.days_of_cover is not None else f"{'∞':>8}"
            if p.history_days < rule.min_history_days:
                flag = "  (learning the rate)"
            elif o is None and d.inventory_position <= d.reorder_point:
                flag = "  <= reorder point"
            else:
                flag = ""
            lines.append(
                f"    {spec.sku:<8} {p.on_hand:7.0f} {p.rate_per_day:8.1f} {cover} "
                f"{d.reorder_point:8.0f}  {order}{flag}"
            )
        print("\n".join(lines), file=self.out, flush=True)

    def summary(self) -> None:
        assert self.demo.world is not None
        assert self.demo.cloud is not None
        days = (self.demo.clock.now() - self.demo.world_start).total_seconds() / 86400
        stats = self.demo.cloud.collector.stats
        orders = self.demo.orders()
        unmet = sum(s.unmet for s in self.demo.world.shelves.values())
        print(
            f"\nstopped after {time.monotonic() - self._t0:.0f}s ("
            f"{days:.1f} simulated days): "
            f"{stats.readings_written} readings stored, {len(orders)} orders raised, "
            f"{len(self.demo.world.delivered_log)} deliveries, {unmet} units of demand unmet, "
            f"{sum(stats.rejected.values())} messages rejected.",
            file=self.out,
            flush=True,
        )
        self.kpis()
        self.suggestions()

    def kpis(self) -> None:
        """The short KPI summary: each shelf and the site, since the demo began."""
        rows = self.demo.kpis()
        if not rows:
            return
        lines = [
            "KPIs since the start (from the stored levels, orders and forecasts; "
            "`vmi report kpis` has them all):",
            f"    {'':<16} {'used':>6} {'avg stock':>9} {'turns/yr':>8} {'stockouts':>9} "
            f"{'fill rate':>9} {'orders':>6} {'on time':>7} {'MAE/day':>7}",
        ]
        for r in rows:
            k = r.kpis
            name = r.sku or f"site {r.group}"
            lines.append(
                f"    {name:<16} {k.consumed:6.0f} {_num(k.avg_on_hand, 9, '.1f')} "
                f"{_num(k.turns_per_year, 8, '.0f')} {k.stockout_events:9d} "
                f"{_num(k.fill_rate, 9, '.1%')} {k.orders_placed:6d} "
                f"{_num(k.on_time_rate, 7, '.0%')} {_num(k.forecast_mae, 7, '.1f')}"
            )
        print("\n".join(lines), file=self.out, flush=True)

    def suggestions(self) -> None:
        """Better agreement terms per shelf, from its demand so far (`vmi suggest`)."""
        found = self.demo.suggestions()
        if not found:
            return
        lines = ["Agreement terms, replayed on a year of each shelf's demand so far:"]
        for s in found:
            now, cur = s.current_effect, s.current
            flags = f" [{', '.join(f.value for f in s.flags)}]" if s.flags else ""
            today = (
                f"service {cur.service_level:.0%}: stock {now.avg_on_hand:.0f}, "
                f"fill {now.fill_rate:.1%}, {now.stockout_days_per_year:.0f} stockout d/yr"
            )
            if s.suggested is None or s.suggested_effect is None:
                lines.append(f"    {s.sku:<8} keep {today}{flags}")
                continue
            new, eff = s.suggested, s.suggested_effect
            lines.append(
                f"    {s.sku:<8} {today} -> service {new.service_level:.1%}, review "
                f"{new.review_period_days:g} d: stock {eff.avg_on_hand:.0f}, fill "
                f"{eff.fill_rate:.1%}, {eff.stockout_days_per_year:.0f} stockout d/yr "
                f"({s.reason}){flags}"
            )
        print("\n".join(lines), file=self.out, flush=True)


def _num(value: float | None, width: int, spec: str) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}{spec}}"


def main(args: argparse.Namespace) -> int:
    options = DemoOptions(
        mqtt=args.mqtt,
        influx=args.influx,
        speed=args.speed,
        duration_s=args.duration,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        seed=args.seed,
        portal_port=None if args.no_portal else args.portal_port,
    )
    return run_demo(options, sys.stdout)


def run_demo(options: DemoOptions, out: TextIO) -> int:
    demo = Demo(options)
    day_s = 86_400 / options.speed
    print(
        f"VMI demo: site {demo.site}, {len(DEMO_SHELVES)} shelves on emulated MT-SICS scales.\n"
        f"Time runs x{options.speed:g}: one simulated day every {day_s:.0f} s. "
        f"Lead time {LEAD_TIME_DAYS:g} d, daily review, service level {SERVICE_LEVEL:.0%}: an "
        "order is raised when stock on hand plus open orders falls to the reorder point\n"
        f"(demand over the next {LEAD_TIME_DAYS + REVIEW_PERIOD_DAYS:g} days + safety stock)."
        "\nPress Ctrl-C to stop.",
        file=out,
        flush=True,
    )

    def body(stop: threading.Event) -> None:
        with demo.running():
            print(
                f"broker {demo.mqtt_url}, levels in "
                f"{options.influx or 'SQLite'}; scales on "
                f"{', '.join(s for s in demo.scale_ports)}",
                file=out,
                flush=True,
            )
            if demo.portal is not None:
                people = "; ".join(
                    f"{p.role.value} {p.tenant}: {p.login} / {p.password}"
                    for p in demo.portal.sign_ins
                )
                print(f"Portal: {demo.portal.url} (sign in as {people})", file=out, flush=True)
            printer = DemoPrinter(demo, out)
            demo.run(stop, on_tick=printer.tick)
            printer.tick()
            printer.summary()

    run_until_signalled(body)
    return 0
