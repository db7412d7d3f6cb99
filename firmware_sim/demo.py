"""The demo: a simulated customer site, its edge agent and the cloud, in one process.

Three shelves on emulated MT-SICS scales (real pseudo-terminals) lose stock to
simulated picks; the edge agent reads them over pyserial and publishes levels;
the collector stores them, projects consumption and raises orders; a reorder
alert schedules a delivery that refills the shelf after the lead time.
Time runs `speed` times faster than real time so a day passes in seconds.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from cloud.config import CloudConfig
from cloud.kpis.report import GroupBy, KpiRow, group_rows, kpi_report
from cloud.orders import Order
from cloud.replenishment.decide import Decision
from cloud.replenishment.policy import ReplenishmentRule
from cloud.replenishment.projection import Projection
from cloud.service import CloudService
from cloud.suggest.inputs import read_inputs
from cloud.suggest.suggest import Suggestion, SuggestOptions, suggest
from edge_agent.agent import EdgeAgent
from edge_agent.config import EdgeConfig
from firmware_sim.broker import EmbeddedBroker
from firmware_sim.demo_portal import DemoShelfTerms, Portal, demo_catalog, start_portal
from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.mtsics_scale import MtSicsEmulator
from firmware_sim.world import Delivery, Shelf, ShelfSpec, World
from vmi.clock import ScaledClock
from vmi.errors import WireError
from vmi.urls import parse_mqtt_url
from vmi.wire import Alert, ReorderAlert, alerts_topic, decode_alert

log = logging.getLogger(__name__)

DEMO_SHELVES = (
    ShelfSpec(
        "GLOVE-L",
        "C-01",
        item_weight_g=45.0,
        tare_g=180.0,
        start_units=40,
        demand_per_day=12.0,
        max_pick=2,
    ),
    ShelfSpec(
        "BOLT-M8",
        "A-01",
        item_weight_g=12.5,
        tare_g=250.0,
        start_units=120,
        demand_per_day=30.0,
        max_pick=4,
    ),
    ShelfSpec(
        "NUT-M8",
        "A-02",
        item_weight_g=4.0,
        tare_g=250.0,
        start_units=300,
        demand_per_day=60.0,
        max_pick=6,
    ),
)
PACK_SIZES = {"NUT-M8": 100}
"""Units per pack where not 1: the demo's rule and its catalog say the same."""
LEAD_TIME_DAYS = 2.0
SERVICE_LEVEL = 0.95
REVIEW_PERIOD_DAYS = 1.0  # the supplier reviews each shelf daily
HEARTBEAT_S = 5.0
MIN_HISTORY_DAYS = 0.5  # half a simulated day (10 s) before a rate is trusted


@dataclass(frozen=True)
class DemoOptions:
    mqtt: str | None = None
    influx: str | None = None
    speed: float = 4320.0
    duration_s: float | None = None
    data_dir: Path | None = None
    seed: int = 7
    portal_port: int | None = None  # serve the portal on this port (0: any); None: not


@dataclass(frozen=True)
class DemoEvent:
    kind: str  # "alert" | "delivery"
    text: str


class Demo:
    """Builds and runs the whole loop; `run` returns when `stop` is set."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.site = f"demo-{secrets.token_hex(2)}"
        self.device = "gw-01"
        self.clock = ScaledClock(speed=options.speed)
        self.events: queue.Queue[DemoEvent] = queue.Queue()
        self.alerts: list[Alert] = []
        self.broker: EmbeddedBroker | None = None
        self.world: World | None = None
        self.cloud: CloudService | None = None
        self.mqtt_url = options.mqtt or ""
        self.world_start = self.clock.now()
        self.scale_ports: list[str] = []
        self.portal: Portal | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Start every part; stop them in reverse order on exit."""
        with contextlib.ExitStack() as stack:
            data_dir = self.options.data_dir
            if data_dir is None:
                data_dir = Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix="vmi-demo-"))
                )
            data_dir.mkdir(parents=True, exist_ok=True)

            if not self.options.mqtt:
                self.broker = EmbeddedBroker()
                self.broker.start()
                stack.callback(self.broker.stop)
                self.mqtt_url = self.broker.url
            parse_mqtt_url(self.mqtt_url)

            shelves = []
            for spec in DEMO_SHELVES:
                emu = MtSicsEmulator(
                    cell=replace(DEFAULT_CELL, settle_s=0.15), seed=self.options.seed
                )
                emu.start()
                stack.callback(emu.stop)
                shelves.append((spec, emu))
                self.scale_ports.append(emu.port)
            self.world = World(
                [Shelf(spec, emu.set_load) for spec, emu in shelves],
                lead_time=timedelta(days=LEAD_TIME_DAYS),
                start=self.world_start,
                seed=self.options.seed,
            )

            self.cloud = CloudService(self._cloud_config(data_dir), clock=self.clock)
            self.cloud.start()
            stack.callback(self.cloud.stop)

            stack.enter_context(self._alert_listener())
            if self.options.portal_port is not None:
                self.portal = self._portal(stack, data_dir)

            agent = EdgeAgent(self._edge_config(data_dir, shelves), clock=self.clock)
            agent_stop = threading.Event()
            agent_thread = threading.Thread(target=agent.run, args=(agent_stop,), name="edge")
            agent_thread.start()
            stack.callback(agent_thread.join, 15)
            stack.callback(agent_stop.set)
            yield

    def run(self, stop: threading.Event, on_tick: Callable[[], None] | None = None) -> None:
        """Advance the world until `stop` (or the duration) and call `on_tick()` often."""
        assert self.world is not None
        deadline = time.monotonic() + self.options.duration_s if self.options.duration_s else None
        while not stop.wait(0.05):
            for d in self.world.tick(self.clock.now()):
                self._delivered(d)
            if on_tick is not None:
                on_tick()
            if deadline is not None and time.monotonic() >= deadline:
                break

    # ---- parts --------------------------------------------------------------

    def _cloud_config(self, data_dir: Path) -> CloudConfig:
        store = self.options.influx or f"sqlite:///{data_dir / 'levels.db'}"
        return CloudConfig.model_validate(
            {
                "mqtt": {
                    "url": self.mqtt_url,
                    "client_id": f"vmi-collector-{self.site}",
                    "clean_session": True,
                },
                "store": {"url": store},
                "orders": {"url": f"sqlite:///{data_dir / 'orders.db'}"},
                "replenishment": {
                    "window_days": 7,
                    "default": {
                        "lead_time_days": LEAD_TIME_DAYS,
                        "service_level": SERVICE_LEVEL,
                        "review_period_days": REVIEW_PERIOD_DAYS,
                        "order_cycle_days": 7.0,
                        "min_history_days": MIN_HISTORY_DAYS,
                    },
                    "skus": {sku: {"pack_size": n} for sku, n in PACK_SIZES.items()},
                    # The edge's heartbeat, in simulated seconds.
                    "sensor_interval_s": HEARTBEAT_S * self.options.speed,
                },
            }
        )

    def _portal(self, stack: contextlib.ExitStack, data_dir: Path) -> Portal:
        config = self._cloud_config(data_dir)
        assert self.options.portal_port is not None
        return start_portal(
            stack,
            orders_url=config.orders.url,
            store_url=config.store.url,
            catalog=demo_catalog(
                self.site,
                [DemoShelfTerms(s.sku, s.location, PACK_SIZES.get(s.sku, 1)) for s in DEMO_SHELVES],
                lead_time_days=LEAD_TIME_DAYS,
                service_level=SERVICE_LEVEL,
                review_period_days=REVIEW_PERIOD_DAYS,
            ),
            clock=self.clock,
            port=self.options.portal_port,
        )

    def _edge_config(
        self, data_dir: Path, shelves: list[tuple[ShelfSpec, MtSicsEmulator]]
    ) -> EdgeConfig:
        try:
            return EdgeConfig.model_validate(
                {
                    "site": self.site,
                    "device": self.device,
                    "state_dir": str(data_dir / "edge"),
                    "mqtt": {"url": self.mqtt_url},
                    # Heartbeats every ~quarter of a simulated day.
                    "publish": {"heartbeat_s": HEARTBEAT_S, "linger_s": 0.1},
                    "scales": [
                        {
                            "type": "mtsics",
                            "port": emu.port,
                            "location": spec.location,
                            "sku": spec.sku,
                            "item_weight_g": spec.item_weight_g,
                            "tare_g": spec.tare_g,
                            "poll_interval_s": 0.2,
                        }
                        for spec, emu in shelves
                    ],
                }
            )
        except ValidationError as exc:  # the demo's own config: a bug if it fails
            raise AssertionError(f"demo edge config invalid: {exc}") from exc

    @contextlib.contextmanager
    def _alert_listener(self) -> Iterator[None]:
        addr = parse_mqtt_url(self.mqtt_url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"demo-alerts-{self.site}")
        if addr.username:
            client.username_pw_set(addr.username, addr.password)
        topic = alerts_topic(self.site)
        client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        client.on_message = lambda _c, _u, msg: self._on_alert(bytes(msg.payload))
        client.connect_async(addr.host, addr.port)
        client.loop_start()
        try:
            yield
        finally:
            client.disconnect()
            client.loop_stop()

    def _on_alert(self, payload: bytes) -> None:
        try:
            alert = decode_alert(payload)
        except WireError:
            log.warning("demo: ignoring malformed alert %r", payload[:200])
            return
        self.alerts.append(alert)
        self.events.put(DemoEvent("alert", alert.message))
        if self.world is not None and isinstance(alert, ReorderAlert):
            d = self.world.order_placed(alert.sku, int(alert.order_quantity), self.clock.now())
            if d is not None:
                self.events.put(
                    DemoEvent(
                        "info", f"supplier ships {d.quantity} x {d.sku}, due {d.due:%a %H:%M}"
                    )
                )

    def _delivered(self, d: Delivery) -> None:
        self.events.put(DemoEvent("delivery", f"delivery of {d.quantity} x {d.sku} arrived"))

    # ---- views --------------------------------------------------------------

    def projections(self) -> dict[tuple[str, str], Projection]:
        assert self.cloud is not None
        return dict(self.cloud.replenisher.projections)

    def decisions(self) -> dict[tuple[str, str], Decision]:
        """The reorder point and inventory position behind each latest projection."""
        assert self.cloud is not None
        return dict(self.cloud.replenisher.decisions)

    def rule_for(self, sku: str) -> ReplenishmentRule:
        """The replenishment rule the collector applies to `sku`."""
        assert self.cloud is not None
        return self.cloud.replenisher.rule_for(self.site, sku)[0]

    def orders(self) -> list[Order]:
        assert self.cloud is not None
        return self.cloud.orders.orders(self.site)

    def kpis(self) -> list[KpiRow]:
        """The KPIs of each demo shelf since the demo began, then the site's roll-up
        (the production computation on what the stores hold)."""
        assert self.cloud is not None
        end = self.clock.now()
        if end <= self.world_start:
            return []
        rows = kpi_report(
            self.cloud.store,
            self.cloud.orders,
            [(self.site, spec.sku) for spec in DEMO_SHELVES],
            self.world_start,
            end,
            catalog=self.cloud.catalog,
            noise_units=self.cloud.config.replenishment.noise_units,
            rules=self.cloud.config.replenishment,
        )
        return rows + group_rows(rows, GroupBy.SITE)

    def suggestions(self) -> list[Suggestion]:
        """Better terms for each demo shelf from its demand so far (the production
        computation: `cloud.suggest` on what the stores hold)."""
        assert self.cloud is not None
        end = self.clock.now()
        days = math.ceil((end - self.world_start).total_seconds() / 86_400.0)
        if days < 1:
            return []
        read = read_inputs(
            self.cloud.store,
            self.cloud.orders,
            self.cloud.catalog,
            self.cloud.config.replenishment,
            [(self.site, spec.sku) for spec in DEMO_SHELVES],
            end,
            window_days=days,
        )
        return suggest(read.inputs, SuggestOptions(seed=self.options.seed))
