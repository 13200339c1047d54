"""``audit`` on every adapter: what it counts as checked, and a clean store passes."""

from __future__ import annotations

from datetime import timedelta

from bookcore.auditing import audit
from bookcore.clock import ManualClock
from bookcore.holds import expire_holds
from bookcore.ports import UnitOfWork
from tests.world import World


def test_an_empty_store_checks_nothing_and_passes(uow: UnitOfWork, clock: ManualClock) -> None:
    report = audit(uow, clock=clock)
    assert report.ok
    assert (report.items_checked, report.wallets_checked, report.bookings_checked) == (0, 0, 0)


def test_every_booking_is_counted_whatever_its_status(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item(capacity=10)
    world.fund("alice", "500.00")
    lapsed = world.hold("carol")
    clock.advance(timedelta(minutes=11))
    assert expire_holds(uow, clock=clock).expired_bookings == 1
    world.hold("dave")  # HELD, no money
    world.cancel(world.hold("erin"))  # CANCELLED before any payment
    world.pay(world.hold("alice"), key="paid")  # CONFIRMED, part wallet
    refunded = world.hold("bob")
    world.pay(refunded, key="refunded")
    world.cancel(refunded)  # CANCELLED with a refund
    report = audit(uow, clock=clock)
    assert report.ok, report.violations
    assert world.booking(lapsed.id).status.value == "expired"
    assert (report.items_checked, report.wallets_checked, report.bookings_checked) == (1, 2, 5)
