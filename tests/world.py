"""A small vocabulary for behaviour tests: an item, a customer's wallet, a hold, a payment."""

from __future__ import annotations

from decimal import Decimal

from bookcore.cancellation import CancellationResult, cancel_booking
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.holds import HoldResult, place_hold
from bookcore.model import Actor, Booking, InventoryItem, WalletEntry
from bookcore.payments import PaymentResult, finalize_payment
from bookcore.ports import UnitOfWork
from bookcore.wallet import credit_wallet, wallet_balance, wallet_history


class World:
    def __init__(self, uow: UnitOfWork, clock: ManualClock) -> None:
        self.uow, self.clock = uow, clock

    def item(self, item_id: str = "room-101", capacity: int = 5, price: str = "1000.00",
             currency: str = "INR") -> InventoryItem:
        return add_inventory_item(self.uow, item_id=item_id, name=item_id, capacity=capacity,
                                  unit_price=Decimal(price), currency=currency)

    def fund(self, customer: str, amount: str, currency: str = "INR") -> None:
        credit_wallet(self.uow, customer_id=customer, amount=Decimal(amount), currency=currency,
                      reason="top-up", clock=self.clock)

    def hold(self, customer: str = "alice", item_id: str = "room-101", quantity: int = 1,
             **options: object) -> Booking:
        result: HoldResult = place_hold(self.uow, item_id=item_id, customer_id=customer,
                                        quantity=quantity, clock=self.clock, **options)  # type: ignore[arg-type]
        return result.booking

    def pay(self, booking: Booking, key: str = "pay-1", gateway: Decimal | None = None,
            **options: object) -> PaymentResult:
        amount = booking.pricing.gateway_payable if gateway is None else gateway
        return finalize_payment(self.uow, booking_id=booking.id, idempotency_key=key,
                                gateway_amount=amount, currency=booking.currency, clock=self.clock,
                                **options)  # type: ignore[arg-type]

    def cancel(self, booking: Booking, by: str | None = None, **options: object) -> CancellationResult:
        actor = Actor.customer(by or booking.customer_id)
        return cancel_booking(self.uow, booking_id=booking.id, actor=actor, clock=self.clock,
                              **options)  # type: ignore[arg-type]

    def balance(self, customer: str, currency: str = "INR") -> Decimal:
        return wallet_balance(self.uow, customer_id=customer, currency=currency)

    def ledger(self, customer: str, currency: str = "INR") -> list[WalletEntry]:
        return list(wallet_history(self.uow, customer_id=customer, currency=currency))

    def available(self, item_id: str = "room-101") -> int:
        with self.uow:
            item = self.uow.inventory.get(item_id)
        assert item is not None
        return item.available

    def booking(self, booking_id: str) -> Booking:
        with self.uow:
            booking = self.uow.bookings.get(booking_id)
        assert booking is not None
        return booking
