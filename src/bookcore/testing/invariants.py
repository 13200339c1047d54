"""bookcore's invariants as a Hypothesis state machine an app runs against its own configuration.

Random sequences of every operation run in lockstep on the in-memory reference store and on the
app's store (``make_uow``); every result and error must agree, and after every step both stores
must pass ``audit`` and hold the same occupancy, wallet totals and booking money.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from bookcore.adapters.memory import InMemoryUnitOfWork
from bookcore.auditing import audit
from bookcore.cancellation import FULL_REFUND_BEFORE_START, RefundPolicy, cancel_booking
from bookcore.catalog import add_inventory_item, add_promo_code
from bookcore.clock import ManualClock
from bookcore.errors import BookcoreError
from bookcore.holds import expire_holds, place_hold
from bookcore.model import DEFAULT_HOLD_TTL, Actor, Refund, RefundMode
from bookcore.payments import finalize_payment
from bookcore.ports import UnitOfWork
from bookcore.pricing import NO_CHARGES, Charges
from bookcore.refunds import mark_gateway_refund_executed, refunds_owed
from bookcore.testing.strategies import amounts, promo_codes
from bookcore.wallet import credit_wallet

CUSTOMERS = ("alice", "bob", "carol")
#: A currency no item uses: money captured in it can only be handed back.
OTHER_CURRENCY = "USD"
#: Refusals of a payment call that reported captured money: faults of the call itself, which
#: the app corrects and sends again (nothing was recorded under the key).
CALL_FAULTS = frozenset({"booking_not_found", "exists_with_different_payload"})
#: Tests move the clock freely, so holds lapsed but not yet swept are not an audit violation here.
NEVER_STALE = timedelta(days=36500)
START = datetime(2026, 1, 20, 5, 45, 36, tzinfo=UTC)


def outcome(call: Callable[[UnitOfWork], Any], uow: UnitOfWork) -> Any:
    """What a call did, in terms that do not depend on generated ids or the store."""
    try:
        result = call(uow)
    except BookcoreError as error:
        return ("error", error.code)
    return ("ok", summarize(result))


def summarize(result: Any) -> Any:
    if isinstance(result, Refund):
        return (*refund_key(result), result.executed_at, result.refund_reference)
    if hasattr(result, "booking") and hasattr(result, "outcome"):  # HoldResult / PaymentResult
        payment = getattr(result, "payment", None)
        refund = getattr(result, "refund", None)
        return (str(result.outcome), getattr(result, "replayed", None), result.booking.status,
                result.booking.pricing, payment and (payment.wallet_amount, payment.gateway_amount,
                                                     payment.reason),
                refund and (refund.to_wallet, refund.to_gateway))
    if hasattr(result, "old_status"):  # CancellationResult
        refund = result.refund
        return (result.old_status, result.released_units,
                refund and (refund.to_wallet, refund.to_gateway))
    if hasattr(result, "expired_bookings"):  # ExpiryResult
        return (result.expired_bookings, result.released_units)
    return result


def refund_key(refund: Refund) -> tuple[Any, ...]:
    """A refund without its generated ids: the same on every store."""
    return (refund.created_at, refund.booking_id, refund.reason, refund.currency, refund.to_wallet,
            refund.to_gateway, refund.charge_reference)


class BookcoreInvariants(RuleBasedStateMachine):
    """Subclass it, return a fresh, empty store from ``make_uow`` and set the app's configuration:

    - ``charges``: the fees and tax every hold is priced with;
    - ``refund_policy``: the policy every cancellation uses;
    - ``currency``: the currency of every item, wallet and promo code.

    Run it with pytest (``TestMine = Mine.TestCase``) or ``run_invariants(Mine)``.
    """

    charges: ClassVar[Charges] = NO_CHARGES
    refund_policy: ClassVar[RefundPolicy] = FULL_REFUND_BEFORE_START
    currency: ClassVar[str] = "INR"
    #: Machines built and invariant checks made since the class was last run by ``run_invariants``.
    machines_run: ClassVar[int] = 0
    checks_run: ClassVar[int] = 0

    items = Bundle("items")
    bookings = Bundle("bookings")

    def make_uow(self) -> UnitOfWork:
        """The store under test: a new unit of work on an empty store, for each machine."""
        raise NotImplementedError("subclass BookcoreInvariants and return an empty store's unit of work")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.model: UnitOfWork = InMemoryUnitOfWork()
        self.real = self.make_uow()
        type(self).machines_run += 1
        self.counter = 0
        self.promo_codes: list[str] = []
        self.keys: list[tuple[str, str, Decimal]] = []
        self.requests: dict[str, dict[str, Any]] = {}
        #: Gateway money every payment call reported and bookcore took, by currency.
        self.captured: dict[str, Decimal] = {}
        #: Refunds marked executed, as (id in the reference store, id in the store under test).
        self.executed: list[tuple[str, str]] = []

    def both(self, call: Callable[[UnitOfWork], Any]) -> Any:
        expected = outcome(call, self.model)
        actual = outcome(call, self.real)
        assert actual == expected, f"store under test {actual!r} != reference {expected!r}"
        return expected

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    @rule(target=items, data=st.data(), capacity=st.integers(0, 4),
          starts_in=st.sampled_from([None, timedelta(hours=1), timedelta(days=3)]))
    def add_item(self, data: st.DataObject, capacity: int, starts_in: timedelta | None) -> str:
        item_id = self.fresh("item")
        price = data.draw(st.sampled_from([Decimal(0), Decimal("99.99"), Decimal(1000)])
                          | amounts(self.currency, max_value=2_000), label="price")
        starts_at = None if starts_in is None else self.clock.now() + starts_in
        self.both(lambda uow: add_inventory_item(uow, item_id=item_id, name=item_id, capacity=capacity,
                                                 unit_price=price, currency=self.currency,
                                                 starts_at=starts_at))
        return item_id

    @rule(data=st.data())
    def add_promo(self, data: st.DataObject) -> None:
        promo = data.draw(promo_codes(self.currency, codes=st.just(self.fresh("PROMO"))), label="promo")
        self.promo_codes.append(promo.code)
        self.both(lambda uow: add_promo_code(uow, promo))

    @rule(data=st.data(), customer=st.sampled_from(CUSTOMERS))
    def credit(self, data: st.DataObject, customer: str) -> None:
        amount = data.draw(amounts(self.currency, min_value=1, max_value=2_000), label="amount")
        self.both(lambda uow: credit_wallet(uow, customer_id=customer, amount=amount,
                                            currency=self.currency, reason="top-up", clock=self.clock))

    @rule(target=bookings, data=st.data(), item=items, customer=st.sampled_from(CUSTOMERS),
          quantity=st.integers(1, 3))
    def hold(self, data: st.DataObject, item: str, customer: str, quantity: int) -> str:
        booking_id = self.fresh("booking")
        code = data.draw(st.none() | st.sampled_from(["unknown", *self.promo_codes]), label="promo code")
        request: dict[str, Any] = {
            "item_id": item, "customer_id": customer, "quantity": quantity, "promo_code": code,
            "charges": self.charges, "hold_ttl": DEFAULT_HOLD_TTL}
        self.requests[booking_id] = request
        self.both(lambda uow: place_hold(uow, clock=self.clock, booking_id=booking_id, **request))
        return booking_id

    @rule(booking=bookings, change=st.sampled_from(
        [None, "customer_id", "quantity", "promo_code", "charges", "hold_ttl"]))
    def retry_hold(self, booking: str, change: str | None) -> None:
        request = dict(self.requests[booking])
        changed = {"customer_id": "mallory", "quantity": request["quantity"] + 1,
                   "promo_code": "OTHER" if request["promo_code"] is None else None,
                   "charges": NO_CHARGES if self.charges != NO_CHARGES else Charges(tax_percent=Decimal(5)),
                   "hold_ttl": DEFAULT_HOLD_TTL * 2}
        if change is not None:
            request[change] = changed[change]
        result = self.both(lambda uow: place_hold(uow, clock=self.clock, booking_id=booking, **request))
        if change is not None:  # the first call either stored this id for another request or failed
            assert result[0] == "ok" or result[1] in ("exists_with_different_payload",
                                                      "insufficient_inventory"), result

    def _owed(self, booking_id: str) -> Decimal:
        with self.model:
            booking = self.model.bookings.get(booking_id)
        return booking.pricing.gateway_payable if booking else Decimal(0)

    def _finalize(self, *, booking: str, key: str, amount: Decimal, currency: str,
                  **options: Any) -> None:
        """Pay on both stores; captured money must be taken, or refused only for the call's own
        faults (an unknown booking, a reused key)."""
        result = self.both(lambda uow: finalize_payment(
            uow, booking_id=booking, idempotency_key=key, gateway_amount=amount, currency=currency,
            clock=self.clock, **options))
        if amount > 0 and result[0] == "error":
            assert result[1] in CALL_FAULTS, f"captured money refused: {result}"
        elif amount > 0 and result[1][1] is False:  # a first result, not a replay
            self.captured[currency] = self.captured.get(currency, Decimal(0)) + amount

    @rule(booking=bookings, late=st.booleans(), to_gateway=st.booleans())
    def pay(self, booking: str, late: bool, to_gateway: bool) -> None:
        key, amount = self.fresh("key"), self._owed(booking)
        self.keys.append((key, booking, amount))
        self._finalize(booking=booking, key=key, amount=amount, currency=self.currency,
                       accept_late_payment=late,
                       unplaced_money_to=RefundMode.ORIGINAL if to_gateway else RefundMode.WALLET)

    @rule(booking=bookings, wrong=st.sampled_from(["more", "less", "currency"]),
          to_gateway=st.booleans())
    def pay_wrongly_after_capture(self, booking: str, wrong: str, to_gateway: bool) -> None:
        owed = self._owed(booking)
        amount = {"more": owed + 1, "less": owed - Decimal("0.01") if owed > 1 else owed + 2,
                  "currency": owed or Decimal(1)}[wrong]
        currency = OTHER_CURRENCY if wrong == "currency" else self.currency
        self._finalize(booking=booking, key=self.fresh("key"), amount=amount, currency=currency,
                       unplaced_money_to=RefundMode.ORIGINAL if to_gateway else RefundMode.WALLET)

    @rule(data=st.data(), change_payload=st.booleans())
    def retry_payment(self, data: st.DataObject, change_payload: bool) -> None:
        if not self.keys:
            return
        key, booking, amount = data.draw(st.sampled_from(self.keys), label="earlier payment")
        reference = "changed" if change_payload else None
        self._finalize(booking=booking, key=key, amount=amount, currency=self.currency,
                       gateway_reference=reference)

    def _owed_refunds(self) -> list[tuple[str, str]]:
        """Refunds owed on both stores, paired by what they are (ties are interchangeable)."""
        model, real = (sorted(refunds_owed(uow), key=refund_key) for uow in (self.model, self.real))
        assert [refund_key(r) for r in real] == [refund_key(r) for r in model]
        return [(m.id, r.id) for m, r in zip(model, real, strict=True)]

    @rule(data=st.data(), reference=st.sampled_from(["re-1", "re-2"]))
    def execute_gateway_refund(self, data: st.DataObject, reference: str) -> None:
        pairs = self._owed_refunds() + self.executed + [("unknown", "unknown")]
        pair = data.draw(st.sampled_from(pairs), label="refund")

        def mark(refund_id: str) -> Callable[[UnitOfWork], Any]:
            return lambda uow: mark_gateway_refund_executed(
                uow, refund_id=refund_id, gateway_reference=reference, clock=self.clock)

        expected, actual = outcome(mark(pair[0]), self.model), outcome(mark(pair[1]), self.real)
        assert actual == expected, f"store under test {actual!r} != reference {expected!r}"
        if expected[0] == "ok" and pair not in self.executed:
            self.executed.append(pair)

    @rule(booking=bookings, who=st.sampled_from(["owner", "staff", "stranger"]), original=st.booleans())
    def cancel(self, booking: str, who: str, original: bool) -> None:
        with self.model:
            stored = self.model.bookings.get(booking)
        owner = stored.customer_id if stored else "nobody"
        actor = {"owner": Actor.customer(owner), "staff": Actor.staff("staff-1"),
                 "stranger": Actor.customer("mallory")}[who]
        self.both(lambda uow: cancel_booking(
            uow, booking_id=booking, actor=actor, clock=self.clock, policy=self.refund_policy,
            refund_mode=RefundMode.ORIGINAL if original else RefundMode.WALLET))

    @rule(seconds=st.sampled_from([1, 59, 300, 599, 600, 601, 3600, 86_400]))
    def advance(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    @rule(booking=bookings)
    def advance_to_exact_expiry(self, booking: str) -> None:
        with self.model:
            stored = self.model.bookings.get(booking)
        if stored is not None and stored.expires_at > self.clock.now():
            self.clock.set(stored.expires_at)

    @rule(batch=st.sampled_from([1, 2, 500]))
    def sweep(self, batch: int) -> None:
        self.both(lambda uow: expire_holds(uow, clock=self.clock, batch_size=batch))

    @invariant()
    def invariants_hold_and_stores_agree(self) -> None:
        type(self).checks_run += 1
        reports = [audit(uow, clock=self.clock, sweep_interval=NEVER_STALE)
                   for uow in (self.model, self.real)]
        assert reports[0].violations == (), reports[0].violations
        assert reports[1].violations == (), reports[1].violations
        assert self._snapshot(self.real) == self._snapshot(self.model)
        # Every unit of gateway money taken is confirmed, in a wallet, or owed or sent back.
        with self.model:
            gateway = self.model.audit.gateway_money()
        assert {row.currency: row.captured for row in gateway if row.captured} == self.captured
        assert all(row.captured == row.confirmed + row.credited + row.owed + row.refunded
                   for row in gateway), gateway

    @staticmethod
    def _snapshot(uow: UnitOfWork) -> Any:
        owed = sorted(refund_key(refund) for refund in refunds_owed(uow))
        with uow:
            return (sorted(uow.audit.item_occupancy()), sorted(uow.audit.wallet_totals()),
                    sorted(uow.audit.booking_money()), sorted(uow.audit.gateway_money()), owed)


@dataclass(frozen=True)
class InvariantRun:
    machines: int
    #: Steps checked against the reference: invariant checks less the one each machine makes first.
    steps: int
    seconds: float


def run_invariants(machine: type[BookcoreInvariants], *, max_examples: int = 100,
                   steps: int = 50) -> InvariantRun:
    """Run ``machine`` for ``max_examples`` random sequences of up to ``steps`` steps; raises
    (with the shrunk failing sequence) on the first disagreement or violated invariant."""
    machine.machines_run = machine.checks_run = 0
    started = time.perf_counter()
    run_state_machine_as_test(machine, settings=settings(max_examples=max_examples,
                                                         stateful_step_count=steps, deadline=None))
    return InvariantRun(machines=machine.machines_run, steps=machine.checks_run - machine.machines_run,
                        seconds=time.perf_counter() - started)
