"""bookcore.contrib.django, run by Django's test runner with the example project's settings
(scripts/test): on SQLite, and on PostgreSQL when DATABASE_URL names one."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client, TestCase, TransactionTestCase, skipUnlessDBFeature
from django.urls import reverse
from orders.models import Order

from bookcore import (
    BookingStatus,
    InsufficientInventory,
    ManualClock,
    SystemClock,
    add_inventory_item,
    audit,
    booking_details,
    current_revision,
    finalize_payment,
    head_revision,
    inventory_items,
    place_hold,
)
from bookcore.contrib.django import DjangoUnitOfWork
from bookcore.contrib.django.apps import BookcoreConfig
from bookcore.contrib.django.connection import engine_for
from bookcore.contrib.django.models import Booking, Refund, WalletEntry
from bookcore.contrib.django.signals import event_committed


def new_item(capacity: int = 3, price: str = "1500.00") -> str:
    item_id = f"room-{uuid.uuid4().hex[:8]}"
    add_inventory_item(DjangoUnitOfWork(), item_id=item_id, name="Room", capacity=capacity,
                       unit_price=Decimal(price), currency="INR")
    return item_id


def available(item_id: str) -> int:
    return next(item.available for item in inventory_items(DjangoUnitOfWork())
                if item.id == item_id)


class Received:
    """Collects ``event_committed`` signals while connected."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, sender: type, **kwargs: Any) -> None:
        self.events.append({key: kwargs[key] for key in ("name", "booking_id", "payload")})

    def __enter__(self) -> Received:
        event_committed.connect(self)
        return self

    def __exit__(self, *exc: object) -> None:
        event_committed.disconnect(self)


class InsideAtomicTests(TestCase):
    def test_caller_writes_and_hold_commit_together_on_djangos_connection(self) -> None:
        item_id = new_item()
        dbapi_connection = connection.connection
        with transaction.atomic():
            Order.objects.create(reference="o-1", customer_id="asha")
            hold = place_hold(DjangoUnitOfWork(), item_id=item_id, customer_id="asha", quantity=1,
                              clock=SystemClock())
            self.assertTrue(connection.in_atomic_block)
        self.assertIs(connection.connection, dbapi_connection)
        self.assertTrue(Order.objects.filter(reference="o-1").exists())
        self.assertEqual(Booking.objects.get(pk=hold.booking.id).status, "held")

    def test_a_refused_hold_keeps_the_callers_writes(self) -> None:
        item_id = new_item(capacity=1)
        with transaction.atomic():
            Order.objects.create(reference="o-2", customer_id="asha")
            with self.assertRaises(InsufficientInventory):
                place_hold(DjangoUnitOfWork(), item_id=item_id, customer_id="asha", quantity=2,
                           clock=SystemClock())
            Order.objects.create(reference="o-3", customer_id="asha")
        self.assertEqual(Order.objects.filter(reference__in=["o-2", "o-3"]).count(), 2)
        self.assertEqual(available(item_id), 1)

    def test_rolling_back_the_callers_block_undoes_the_hold(self) -> None:
        item_id = new_item()
        with self.assertRaises(RuntimeError), transaction.atomic():
            place_hold(DjangoUnitOfWork(), item_id=item_id, customer_id="asha", quantity=2,
                       clock=SystemClock())
            raise RuntimeError("the view failed after the hold")
        self.assertEqual(available(item_id), 3)
        self.assertFalse(Booking.objects.filter(item_id=item_id).exists())

    def test_the_first_use_of_a_fresh_engine_keeps_the_callers_writes(self) -> None:
        item_id = new_item()
        config = apps.get_app_config("bookcore")
        assert isinstance(config, BookcoreConfig)
        config._engines.pop("default")  # a new engine: its first connect runs SQLAlchemy's setup
        with transaction.atomic():
            Order.objects.create(reference="o-4", customer_id="asha")
            place_hold(DjangoUnitOfWork(), item_id=item_id, customer_id="asha", quantity=1,
                       clock=SystemClock())
        self.assertTrue(Order.objects.filter(reference="o-4").exists())

    def test_events_are_signalled_when_django_commits_and_not_before(self) -> None:
        item_id = new_item()
        with Received() as received, self.captureOnCommitCallbacks(execute=True) as callbacks:
            with transaction.atomic():
                hold = place_hold(DjangoUnitOfWork(), item_id=item_id, customer_id="asha",
                                  quantity=2, clock=SystemClock())
            self.assertEqual(received.events, [])
        self.assertEqual(len(callbacks), 1)
        self.assertEqual([event["name"] for event in received.events], ["BOOKING_HELD"])
        self.assertEqual(received.events[0]["booking_id"], hold.booking.id)
        self.assertEqual(received.events[0]["payload"]["total_amount"], "3000.00")

    def test_work_rolled_back_sends_no_signal(self) -> None:
        item_id = new_item()
        with self.captureOnCommitCallbacks() as callbacks, self.assertRaises(RuntimeError), \
                transaction.atomic():
            place_hold(DjangoUnitOfWork(), item_id=item_id, customer_id="asha", quantity=1,
                       clock=SystemClock())
            raise RuntimeError("rolled back")
        self.assertEqual(callbacks, [])


class OutsideAtomicTests(TransactionTestCase):
    """Without a caller's ``atomic()``, each service call is a transaction of its own."""

    def test_a_service_call_commits_on_its_own_and_signals_at_once(self) -> None:
        item_id = new_item()
        with Received() as received:
            hold = place_hold(DjangoUnitOfWork(), item_id=item_id, customer_id="asha", quantity=1,
                              clock=SystemClock())
        self.assertFalse(connection.in_atomic_block)
        self.assertEqual([event["name"] for event in received.events], ["BOOKING_HELD"])
        connection.close()  # a new connection sees only what was committed
        self.assertEqual(Booking.objects.get(pk=hold.booking.id).status, "held")


class MigrationTests(TransactionTestCase):
    def revision(self) -> str | None:
        with transaction.atomic():
            return current_revision(engine_for("default"))

    def test_migrate_brings_bookcores_own_history_to_head(self) -> None:
        self.assertEqual(self.revision(), head_revision())

    def test_the_models_match_their_migration(self) -> None:
        call_command("makemigrations", "bookcore", "--check", "--dry-run", verbosity=0)

    def test_migrating_again_over_existing_tables_changes_nothing(self) -> None:
        item_id = new_item()
        call_command("migrate", "bookcore", "zero", verbosity=0)
        call_command("migrate", "bookcore", verbosity=0)
        self.assertEqual(available(item_id), 3)
        self.assertEqual(self.revision(), head_revision())


class AdminTests(TestCase):
    def setUp(self) -> None:
        self.staff = User.objects.create_superuser("ops", "ops@example.com", "pw")
        self.client.force_login(self.staff)
        self.item_id = new_item()
        clock = SystemClock()
        self.booking_id = place_hold(DjangoUnitOfWork(), item_id=self.item_id, customer_id="asha",
                                     quantity=1, clock=clock).booking.id
        finalize_payment(DjangoUnitOfWork(), booking_id=self.booking_id, idempotency_key="ch_1",
                         gateway_amount=Decimal("1500.00"), currency="INR", clock=clock)

    def test_every_page_shows_bookcores_rows_read_only(self) -> None:
        for name in ("booking", "payment", "refund", "walletentry"):
            page = self.client.get(reverse(f"admin:bookcore_{name}_changelist"))
            self.assertEqual(page.status_code, 200, name)
            self.assertEqual(self.client.get(reverse(f"admin:bookcore_{name}_add")).status_code, 403)
        page = self.client.get(reverse("admin:bookcore_booking_change", args=[self.booking_id]))
        self.assertContains(page, "1500.000")
        self.assertNotContains(page, 'name="_save"')

    def test_staff_cancel_goes_through_bookcore_and_refunds_to_the_wallet(self) -> None:
        page = self.client.post(reverse("admin:bookcore_booking_changelist"), {
            "action": "cancel_bookings", "_selected_action": [self.booking_id]}, follow=True)
        self.assertContains(page, f"Booking {self.booking_id} cancelled: 1 unit(s) released")
        details = booking_details(DjangoUnitOfWork(), booking_id=self.booking_id, clock=SystemClock())
        self.assertEqual(details.booking.status, BookingStatus.CANCELLED)
        self.assertEqual(Refund.objects.get(booking_id=self.booking_id).to_wallet, Decimal("1500.000"))
        self.assertEqual(WalletEntry.objects.get(booking_id=self.booking_id).amount, Decimal("1500.000"))
        self.assertEqual(available(self.item_id), 3)

    def test_a_refused_cancel_is_reported_and_changes_nothing(self) -> None:
        url = reverse("admin:bookcore_booking_changelist")
        self.client.post(url, {"action": "cancel_bookings", "_selected_action": [self.booking_id]})
        page = self.client.post(url, {"action": "cancel_bookings",
                                      "_selected_action": [self.booking_id]}, follow=True)
        self.assertContains(page, f"Booking {self.booking_id} not cancelled")
        self.assertEqual(Refund.objects.filter(booking_id=self.booking_id).count(), 1)


class CommandTests(TestCase):
    def run_command(self, *args: str) -> tuple[int, str, str]:
        out, err = StringIO(), StringIO()
        try:
            call_command(*args, stdout=out, stderr=err)
        except SystemExit as stop:
            return int(stop.code or 0), out.getvalue(), err.getvalue()
        return 0, out.getvalue(), err.getvalue()

    def lapsed_hold(self, minutes_ago: int) -> str:
        item_id = new_item()
        then = ManualClock(datetime.now(UTC) - timedelta(minutes=minutes_ago))
        place_hold(DjangoUnitOfWork(), item_id=item_id, customer_id="asha", quantity=2, clock=then)
        return item_id

    def test_expire_releases_lapsed_holds_and_prints_the_clis_report(self) -> None:
        item_id = self.lapsed_hold(minutes_ago=60)
        code, out, _ = self.run_command("bookcore_expire", "--json")
        report = json.loads(out)
        self.assertEqual((code, report["completed"], report["database"]), (0, True, "django:default"))
        self.assertGreaterEqual(report["expired_bookings"], 1)
        self.assertEqual(available(item_id), 3)

    def test_audit_exits_1_listing_a_violation_as_the_cli_does(self) -> None:
        self.lapsed_hold(minutes_ago=60)  # lapsed 45 minutes ago, never swept
        code, out, _ = self.run_command("bookcore_audit")
        self.assertEqual(code, 1)
        self.assertIn("violation: ", out)
        call_command("bookcore_expire", stdout=StringIO())
        code, out, _ = self.run_command("bookcore_audit", "--json")
        self.assertEqual((code, json.loads(out)["ok"]), (0, True))

    def test_an_unknown_database_alias_is_a_usage_error(self) -> None:
        with self.assertRaises(Exception):  # noqa: B017 - Django's ConnectionDoesNotExist
            self.run_command("bookcore_audit", "--database", "nowhere")


@skipUnlessDBFeature("has_select_for_update")
class ConcurrentOrderTests(TransactionTestCase):
    """Many requests at once, each thread with its own Django connection, never oversell."""

    def test_concurrent_orders_take_exactly_the_capacity(self) -> None:
        item_id, requests = new_item(capacity=5), 24
        start = threading.Barrier(requests)
        statuses: list[int] = []

        def order(number: int) -> None:
            try:
                start.wait()
                response = Client().post(reverse("place-order"), json.dumps({
                    "reference": f"{item_id}-{number}", "customer_id": f"c{number}",
                    "item_id": item_id, "quantity": 1, "expected_total": "1500.00"}),
                    content_type="application/json")
                statuses.append(response.status_code)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=order, args=(n,)) for n in range(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(statuses), [201] * 5 + [409] * (requests - 5))
        self.assertEqual(Order.objects.filter(reference__startswith=item_id).count(), 5)
        self.assertEqual(available(item_id), 0)
        self.assertTrue(audit(DjangoUnitOfWork(), clock=SystemClock()).ok)
