"""What the API's routes work with, opened once per app: the cloud database
(catalog, orders, agreement suggestions, API keys, webhook subscriptions),
the time-series store, the clock and the request metrics."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cloud.api.metrics import ApiMetrics
from cloud.api.security import ApiKeys
from cloud.api.settings import ApiSettings
from cloud.catalog import Catalog
from cloud.connectors.ledger import ConnectorLedger
from cloud.db import make_engine
from cloud.errors import StoreUnavailable
from cloud.migrations import upgrade
from cloud.notify.subscriptions import WebhookSubscriptions
from cloud.orders import OrderBook
from cloud.portal.accounts import Accounts
from cloud.suggest.book import SuggestionBook
from cloud.timeseries import TimeSeriesStore, open_store
from vmi.clock import Clock, SystemClock

log = logging.getLogger(__name__)


@dataclass
class ApiContext:
    """The API's resources; `close()` releases them."""

    settings: ApiSettings
    engine: Engine
    catalog: Catalog
    orders: OrderBook
    suggestions: SuggestionBook
    keys: ApiKeys
    webhooks: WebhookSubscriptions
    connectors: ConnectorLedger
    accounts: Accounts
    store: TimeSeriesStore
    clock: Clock
    metrics: ApiMetrics = field(default_factory=ApiMetrics)
    owns_store: bool = True

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._closed = False

    def session(self) -> Session:
        """A read session on the cloud database (for tenancy lookups)."""
        return self._sessions()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Release connections and files (not a store the caller passed in)."""
        if self._closed:
            return
        self._closed = True
        self.webhooks.close()
        self.catalog.close()
        self.orders.close()
        self.suggestions.close()
        if self.owns_store:
            self.store.close()
        self.engine.dispose()


def open_context(
    settings: ApiSettings,
    *,
    store: TimeSeriesStore | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
    bootstrap: bool = True,
) -> ApiContext:
    """Migrate the database (if the settings say so) and open everything.

    `migrate=False` and `bootstrap=False` skip the schema upgrade and the
    bootstrap key (when reopening what was opened before).

    Raises `StoreUnavailable` when the database cannot be reached, and
    `ConfigError` for a store URL that names no known store.
    """
    if migrate and settings.migrate_on_start:
        try:
            upgrade(settings.database_url)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"cannot migrate the cloud database: {exc}") from exc
    engine = make_engine(settings.database_url)
    catalog = Catalog(settings.database_url)
    orders = OrderBook(settings.database_url)
    suggestions = SuggestionBook(settings.database_url)
    webhooks = WebhookSubscriptions(engine)
    owns_store = store is None
    opened = store if store is not None else open_store(
        settings.timeseries_url, create_database=settings.create_timeseries_database
    )
    context = ApiContext(
        settings=settings,
        engine=engine,
        catalog=catalog,
        orders=orders,
        suggestions=suggestions,
        keys=ApiKeys(engine),
        webhooks=webhooks,
        connectors=ConnectorLedger(engine),
        accounts=Accounts(engine),
        store=opened,
        clock=clock or SystemClock(),
        owns_store=owns_store,
    )
    if bootstrap and settings.bootstrap_admin_key is not None:
        context.keys.ensure_bootstrap(
            settings.bootstrap_admin_key.get_secret_value(), context.clock.now()
        )
    return context
