"""hold -> pay (partly from the wallet) -> cancel -> refund, and hold -> expire, on SQLite.

Run: python examples/quickstart.py [path/to/file.db]   (CI runs it.)
Uses only names exported from ``bookcore``.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bookcore import (
    Actor,
    BookingStatus,
    ManualClock,
    RefundMode,
    SqlAlchemyUnitOfWork,
    SystemClock,
    add_inventory_item,
    audit,
    cancel_booking,
    create_engine_for,
    credit_wallet,
    expire_holds,
    finalize_payment,
    migrate,
    place_hold,
    seconds_left,
    wallet_balance,
)


def main(path: Path) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    engine = create_engine_for(f"sqlite:///{path}")
    migrate(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    clock = ManualClock(SystemClock().now())  # an app passes SystemClock(); we move time by hand

    add_inventory_item(uow, item_id="suite-7", name="Suite 7, 20 Jan", capacity=2,
                       unit_price=Decimal("4200.00"), currency="INR")
    credit_wallet(uow, customer_id="asha", amount=Decimal("1000.00"), currency="INR",
                  reason="welcome credit", clock=clock)

    # hold -> pay: the wallet covers 1000.00, the gateway the rest.
    booking = place_hold(uow, item_id="suite-7", customer_id="asha", quantity=1, clock=clock).booking
    print(f"held {booking.id}: {seconds_left(booking, clock.now())}s left, "
          f"gateway payable {booking.pricing.gateway_payable}")
    # ... the app captures booking.pricing.gateway_payable at its gateway, then:
    paid = finalize_payment(uow, booking_id=booking.id, idempotency_key="gw-charge-001",
                            gateway_amount=booking.pricing.gateway_payable, currency="INR",
                            clock=clock, gateway_reference="ch_001")
    assert paid.booking.status is BookingStatus.CONFIRMED
    retried = finalize_payment(uow, booking_id=booking.id, idempotency_key="gw-charge-001",
                               gateway_amount=booking.pricing.gateway_payable, currency="INR",
                               clock=clock, gateway_reference="ch_001")
    assert retried.replayed and retried.payment == paid.payment

    # cancel -> refund: the wallet part back to the wallet, the gateway part for the app to refund.
    cancelled = cancel_booking(uow, booking_id=booking.id, actor=Actor.customer("asha"), clock=clock,
                               refund_mode=RefundMode.ORIGINAL)
    assert cancelled.refund is not None
    print(f"refund: {cancelled.refund.to_wallet} to wallet, {cancelled.refund.to_gateway} by gateway")
    assert wallet_balance(uow, customer_id="asha", currency="INR") == Decimal("1000.00")

    # hold -> expire: nobody pays, ten minutes pass, the sweep releases the capacity.
    place_hold(uow, item_id="suite-7", customer_id="ravi", quantity=2, clock=clock)
    clock.advance(timedelta(minutes=10))
    swept = expire_holds(uow, clock=clock)
    print(f"expired {swept.expired_bookings} hold(s), released {swept.released_units} unit(s)")
    assert swept.released_units == 2

    report = audit(uow, clock=clock)
    print("audit:", "clean" if report.ok else report.violations)
    return 0 if report.ok else 1


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "quickstart.db"
    sys.exit(main(target))
