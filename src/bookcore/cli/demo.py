"""``bookcore demo``: the whole lifecycle on a fresh database, narrated, ending with a clean audit."""

from __future__ import annotations

import logging
import tempfile
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from bookcore.auditing import audit
from bookcore.cancellation import cancel_booking
from bookcore.catalog import add_inventory_item
from bookcore.cli.output import EXIT_VIOLATIONS, bookcore_logs, error_line, money, plural
from bookcore.cli.store import Store, open_store
from bookcore.clock import ManualClock, SystemClock
from bookcore.errors import InsufficientInventory, InvalidInput
from bookcore.holds import expire_holds, place_hold, seconds_left
from bookcore.lookups import inventory_items
from bookcore.model import Actor, Booking
from bookcore.payments import finalize_payment
from bookcore.wallet import credit_wallet, wallet_balance

ITEM = "suite-7"


class Story:
    def __init__(self, store: Store) -> None:
        self.store = store
        # Time is moved by hand so the lapse shows without waiting ten minutes.
        self.clock = ManualClock(SystemClock().now())
        self.steps = 0

    def say(self, text: str) -> None:
        self.steps += 1
        typer.echo(f"\n{self.steps}. {text}")

    def available(self) -> int:
        return inventory_items(self.store.uow(), item_id=ITEM)[0].available

    def setup(self) -> None:
        if inventory_items(self.store.uow()):
            raise InvalidInput("the demo needs an empty database; omit --database-url to use a "
                               "fresh temporary SQLite file")
        self.say(f"A hotel lists {ITEM} with 2 rooms left; asha has 1000.00 INR of welcome credit.")
        add_inventory_item(self.store.uow(), item_id=ITEM, name="Suite 7, two nights", capacity=2,
                           unit_price=Decimal("4200.00"), currency="INR")
        credit_wallet(self.store.uow(), customer_id="asha", amount=Decimal("1000.00"), currency="INR",
                      reason="welcome credit", clock=self.clock)

    def concurrent_holds(self) -> dict[str, Booking]:
        self.say("asha and ben hold the last two rooms at the same moment (two threads).")
        start = threading.Barrier(2)
        held: dict[str, Booking] = {}
        failures: list[BaseException] = []

        def hold(customer: str) -> None:
            start.wait()
            try:
                held[customer] = place_hold(self.store.uow(), item_id=ITEM, customer_id=customer,
                                            quantity=1, clock=self.clock).booking
            except BaseException as error:  # re-raised in the main thread below
                failures.append(error)

        threads = [threading.Thread(target=hold, args=(name,)) for name in ("asha", "ben")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        typer.echo(f"   both held; rooms available now: {self.available()}")
        self.say("chandra tries to hold one more room.")
        try:
            place_hold(self.store.uow(), item_id=ITEM, customer_id="chandra", quantity=1, clock=self.clock)
        except InsufficientInventory as refusal:
            typer.echo(f"   refused, as it should be: {error_line(refusal)}")
        return held

    def pay(self, booking: Booking) -> None:
        pricing = booking.pricing
        self.say(f"asha pays {pricing.total_amount} INR: {pricing.wallet_applied} from her wallet, "
                 f"{pricing.gateway_payable} captured by the payment gateway (simulated).")
        result = finalize_payment(self.store.uow(), booking_id=booking.id, idempotency_key="demo-pay-asha",
                                  gateway_amount=pricing.gateway_payable, currency=booking.currency,
                                  clock=self.clock, gateway_reference="gw-demo-0001")
        typer.echo(f"   booking {result.booking.id}: {result.booking.status.value}")

    def lapse(self, booking: Booking) -> None:
        self.say(f"ben does not pay. Ten minutes pass ({seconds_left(booking, self.clock.now())} s "
                 "were left); then `bookcore expire` runs.")
        self.clock.advance(timedelta(minutes=10, seconds=1))
        result = expire_holds(self.store.uow(), clock=self.clock)
        typer.echo(f"   expired {plural(result.expired_bookings, 'booking')}, released "
                   f"{plural(result.released_units, 'unit')}; rooms available now: {self.available()}")

    def cancel(self, booking: Booking) -> None:
        self.say("asha cancels; her refund goes to her wallet.")
        result = cancel_booking(self.store.uow(), booking_id=booking.id, actor=Actor.customer("asha"),
                                clock=self.clock)
        balance = wallet_balance(self.store.uow(), customer_id="asha", currency="INR")
        typer.echo(f"   {result.booking.status.value}; asha's wallet: {money(balance, 'INR')}; "
                   f"rooms available now: {self.available()}")

    def audit(self) -> bool:
        self.say("`bookcore audit` checks every invariant.")
        report = audit(self.store.uow(), clock=self.clock)
        for violation in report.violations:
            typer.echo(f"   violation: {violation.rule} {violation.subject}: {violation.detail}")
        typer.echo(f"   audit {'ok' if report.ok else 'FAILED'}: {plural(report.items_checked, 'item')}, "
                   f"{plural(report.wallets_checked, 'wallet')}, "
                   f"{plural(report.bookings_checked, 'booking')} checked")
        return report.ok

    def run(self) -> bool:
        self.setup()
        held = self.concurrent_holds()
        self.pay(held["asha"])
        self.lapse(held["ben"])
        self.cancel(held["asha"])
        return self.audit()


def demo(
    path: Annotated[Path | None, typer.Option(
        help="SQLite file to create (must not exist) [default: a new temporary file]")] = None,
    database_url_option: Annotated[str | None, typer.Option(
        "--database-url", help="Run on this empty database instead (never taken from "
                               "$BOOKCORE_DATABASE_URL)")] = None,
) -> None:
    """See bookcore work: concurrent holds, wallet + gateway payment, expiry, refund, audit."""
    if path is not None and database_url_option is not None:
        raise typer.BadParameter("give --path or --database-url, not both", param_hint="--path")
    if path is not None and path.exists():
        raise typer.BadParameter(f"{path} exists; the demo needs a fresh file", param_hint="--path")
    if database_url_option is None:
        path = path or Path(tempfile.mkdtemp(prefix="bookcore-demo-")) / "bookcore.db"
    url = database_url_option or f"sqlite:///{path}"
    from bookcore.adapters.sqlalchemy import migrate

    # The story prints bookcore's own log lines, indented under each step.
    with open_store(url, create=True) as store, bookcore_logs(logging.INFO, err=False,
                                                                fmt="      %(message)s"):
        typer.echo(f"bookcore demo on {store.shown_url}")
        migrate(store.engine)
        ok = Story(store).run()
    if path is not None:
        typer.echo(f"\nExplore it: bookcore --database-url {url} inventory show")
    if not ok:
        raise typer.Exit(EXIT_VIOLATIONS)
