"""The schema beside a host app: a database migrated by the 0001 schema (unprefixed tables, the
revision in ``alembic_version``) or by 0002 upgrades without losing a row, and a host app's own
Alembic history in the same database is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Select, Table, create_engine, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from bookcore.adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    create_engine_for,
    current_revision,
    head_revision,
    migrate,
)
from bookcore.adapters.sqlalchemy.column_types import Money, UTCDateTime
from bookcore.adapters.sqlalchemy.migrate import MIGRATIONS
from bookcore.adapters.sqlalchemy.tables import metadata
from bookcore.auditing import audit
from bookcore.catalog import add_promo_code
from bookcore.clock import ManualClock
from bookcore.errors import IdempotencyConflict
from bookcore.holds import HoldOutcome, place_hold
from bookcore.model import RefundMode
from bookcore.promos import PromoCode, PromoKind
from bookcore.refunds import refunds_owed
from tests.backends import server_url
from tests.conftest import START
from tests.world import World

KINDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres),
         pytest.param("mariadb", marks=pytest.mark.mariadb)]
LEGACY = ("inventory_items", "bookings", "wallet_accounts", "wallet_entries", "payments", "refunds",
          "promo_codes")


@pytest.fixture(params=KINDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """An empty database of its own (``test_h5_upgrade`` on the servers)."""
    kind = request.param
    if kind == "sqlite":
        engine = create_engine_for(f"sqlite:///{tmp_path / 'legacy.db'}")
        yield kind, engine
        engine.dispose()
        return
    server = make_url(server_url(kind))
    name = f"{server.database}_upgrade"
    quote = '"' if kind == "postgres" else "`"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        connection.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
    engine = create_engine_for(server.set(database=name), poolclass=NullPool)
    yield kind, engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
    admin.dispose()


def bookcore_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def make_legacy(engine: Engine) -> None:
    """The 0001 schema with its revision in ``alembic_version``, as that release left it."""
    with engine.connect() as connection:
        command.upgrade(bookcore_config(connection), "0001")
        connection.commit()
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL "
                                "PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
        connection.execute(text("DROP TABLE bookcore_alembic_version"))


def business(clock: ManualClock) -> dict[str, list[dict[str, Any]]]:
    """Rows of every kind, made by the services on a scratch database, as bookcore reads them."""
    source = create_engine_for("sqlite://")
    migrate(source)
    world = World(SqlAlchemyUnitOfWork(source), clock)
    world.item(price="1999.99")
    world.item("room-102", capacity=3, price="0.01")
    world.fund("alice", "2500.50")
    add_promo_code(world.uow, PromoCode(code="TEN", kind=PromoKind.PERCENTAGE, value=Decimal("10")))
    paid = world.hold(quantity=2, promo_code="TEN")
    world.pay(paid)
    cancelled = world.hold("bob", item_id="room-102")
    world.pay(cancelled, key="pay-2")
    clock.advance(timedelta(minutes=3))
    world.cancel(cancelled)
    world.hold("carol")
    owed = world.hold("dave")
    world.pay(owed, key="ch_4", gateway_reference="ch_4")
    world.cancel(owed, refund_mode=RefundMode.ORIGINAL)
    world.pay(world.hold("erin"), key="ch_5", gateway=Decimal("1.00"), gateway_reference="ch_5",
              unplaced_money_to=RefundMode.ORIGINAL)
    with source.connect() as connection:
        rows = {table.name: [dict(row) for row in connection.execute(ordered(table)).mappings()]
                for table in metadata.sorted_tables if table.name.removeprefix("bookcore_") in LEGACY}
    source.dispose()
    return rows


#: Columns revision 0003 added, each as it reads back after an upgrade from an older schema.
NEW_IN_0003 = {"bookcore_bookings": ("request_fingerprint",),
               "bookcore_refunds": ("charge_reference", "executed_at", "refund_reference")}


def upgraded(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows as an upgrade leaves them: no fingerprint for older holds, nothing executed yet;
    a cancellation's payment and its reference are filled in as bookcore writes them now."""
    result = {name: [dict(row) for row in table_rows] for name, table_rows in rows.items()}
    for row in result["bookcore_bookings"]:
        row["request_fingerprint"] = None
    return result


def written_before_0003(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows as a release before 0003 wrote them: its columns absent, and a cancellation's
    refund naming no payment."""
    result: dict[str, list[dict[str, Any]]] = {}
    for name, table_rows in rows.items():
        result[name] = [{key: value for key, value in row.items()
                         if key not in NEW_IN_0003.get(name, ())} for row in table_rows]
    for row in result["bookcore_refunds"]:
        if row["reason"] == "cancellation":
            row["payment_id"] = None
    return result


def ordered(table: Table) -> Select[Any]:
    return select(table).order_by(*table.primary_key.columns)


def legacy_value(column: Any, value: Any, dialect: str) -> Any:
    if value is None:
        return None
    if isinstance(column.type, Money) and dialect == "sqlite":
        return int(value.scaleb(3))  # 0001 kept whole thousandths on SQLite
    if isinstance(column.type, UTCDateTime):
        return value.astimezone(UTC).replace(tzinfo=None)  # 0001 kept naive UTC everywhere
    return value


def test_a_0001_database_upgrades_with_every_row_and_a_clean_audit(empty: tuple[str, Engine]) -> None:
    _kind, engine = empty
    make_legacy(engine)
    clock = ManualClock(START)
    rows = business(clock)
    old_rows = written_before_0003(rows)
    old = MetaData()
    old.reflect(engine, only=LEGACY)
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name in rows:
                connection.execute(old.tables[table.name.removeprefix("bookcore_")].insert(), [
                    {c.name: legacy_value(c, row[c.name], engine.dialect.name) for c in table.columns
                     if c.name in row}
                    for row in old_rows[table.name]])

    migrate(engine)

    assert current_revision(engine) == head_revision()
    names = set(inspect(engine).get_table_names())
    assert names.isdisjoint(LEGACY) and "alembic_version" not in names
    expected = upgraded(rows)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in rows:
                assert [dict(r) for r in connection.execute(ordered(table)).mappings()] == \
                    expected[table.name]
    report = audit(SqlAlchemyUnitOfWork(engine), clock=clock, sweep_interval=timedelta(days=1))
    assert report.violations == ()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            kinds = set(connection.execute(text(
                "SELECT data_type FROM information_schema.columns WHERE column_name = 'expires_at'")
            ).scalars())
        assert kinds == {"timestamp with time zone"}


def test_a_0002_database_upgrades_naming_what_each_refund_reverses(
        empty: tuple[str, Engine]) -> None:
    _kind, engine = empty
    with engine.connect() as connection:
        command.upgrade(bookcore_config(connection), "0002")
        connection.commit()
    clock = ManualClock(START)
    rows = business(clock)
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name in rows:
                connection.execute(table.insert(), written_before_0003(rows)[table.name])

    migrate(engine)

    assert current_revision(engine) == head_revision() == "0003"
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in rows:
                assert [dict(r) for r in connection.execute(ordered(table)).mappings()] == \
                    upgraded(rows)[table.name]
    uow = SqlAlchemyUnitOfWork(engine)
    owed = refunds_owed(uow)
    assert sorted((r.reason, r.charge_reference, r.to_gateway) for r in owed) == [
        ("amount_mismatch", "ch_5", Decimal("1.00")), ("cancellation", "ch_4", Decimal("1999.99"))]
    assert all(r.payment_id is not None for r in owed)
    assert audit(uow, clock=clock, sweep_interval=timedelta(days=1)).violations == ()
    # A hold from before fingerprints: a retry is checked against what the booking shows.
    carol = next(row for row in rows["bookcore_bookings"] if row["customer_id"] == "carol")
    again = place_hold(uow, item_id="room-101", customer_id="carol", quantity=1, clock=clock,
                       booking_id=carol["id"])
    assert again.outcome is HoldOutcome.EXISTS
    with pytest.raises(IdempotencyConflict) as refused:
        place_hold(uow, item_id="room-101", customer_id="carol", quantity=2, clock=clock,
                   booking_id=carol["id"])
    assert refused.value.details["differs"] == ["quantity"]


HOST_ENV = '''
from alembic import context
connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
'''
HOST_REVISION = '''
import sqlalchemy as sa
from alembic import op
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
def upgrade():
    op.create_table("orders", sa.Column("id", sa.String(64), primary_key=True))
def downgrade():
    op.drop_table("orders")
'''


def test_a_host_apps_own_alembic_history_lives_beside_bookcores(empty: tuple[str, Engine],
                                                               tmp_path: Path) -> None:
    _kind, engine = empty
    scripts = tmp_path / "host_migrations"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(HOST_ENV)
    (scripts / "versions" / "0001_orders.py").write_text(HOST_REVISION)

    def host_upgrade() -> None:
        with engine.connect() as connection:
            config = Config()
            config.set_main_option("script_location", str(scripts))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()

    host_upgrade()
    migrate(engine)
    host_upgrade()
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0001"
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0001"]
    assert {"orders", "alembic_version", "bookcore_alembic_version"} <= set(inspect(engine).get_table_names())
    World(SqlAlchemyUnitOfWork(engine), ManualClock(datetime(2026, 1, 1, tzinfo=UTC))).item()
