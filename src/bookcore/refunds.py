"""Gateway refunds the app owes: listed for ops, and marked executed with the gateway's reference.

bookcore never calls a gateway. A refund's ``to_gateway`` part (a cancellation's with
``RefundMode.ORIGINAL``, or captured money a payment could not use) is owed until the app has
executed it at its gateway and recorded that here.
"""

from __future__ import annotations

from bookcore.clock import Clock, now_from
from bookcore.errors import IdempotencyConflict, RefundNotFound, StorageError
from bookcore.logs import Event, event
from bookcore.model import Refund, check_id
from bookcore.money import in_money_context
from bookcore.ports import UnitOfWork
from bookcore.transactions import in_transaction, read


@in_money_context
def refunds_owed(uow: UnitOfWork) -> tuple[Refund, ...]:
    """Refunds with money still to send back through the gateway, oldest first."""
    return read(uow, lambda uow: tuple(uow.refunds.owed()))


@in_money_context
def mark_gateway_refund_executed(uow: UnitOfWork, *, refund_id: str, gateway_reference: str,
                                 clock: Clock) -> Refund:
    """Record that the app executed refund ``refund_id``'s gateway part; returns the refund.

    Idempotent: marking it again with the same ``gateway_reference`` returns it unchanged; with
    another reference, ``IdempotencyConflict``. ``RefundNotFound`` for an id with nothing to
    refund through the gateway.
    """
    check_id(refund_id, field="refund_id")
    check_id(gateway_reference, field="gateway_reference")
    now = now_from(clock)

    def work(uow: UnitOfWork, events: list[Event]) -> Refund:
        refund = uow.refunds.get(refund_id, for_update=True)
        if refund is None or not refund.to_gateway:
            raise RefundNotFound("no refund owed through the gateway has this id",
                                 refund_id=refund_id)
        if refund.executed_at is not None:
            if refund.refund_reference != gateway_reference:
                raise IdempotencyConflict("this refund was executed under another gateway reference",
                                          field="gateway_reference", refund_id=refund_id,
                                          recorded=refund.refund_reference,
                                          presented=gateway_reference)
            return refund
        if not uow.refunds.mark_executed(refund_id, gateway_reference, now):
            raise StorageError("the locked refund was executed meanwhile", refund_id=refund_id)
        events.append(event("GATEWAY_REFUND_EXECUTED", booking_id=refund.booking_id,
                            refund_id=refund_id, payment_id=refund.payment_id,
                            amount=refund.to_gateway, currency=refund.currency,
                            charge_reference=refund.charge_reference,
                            gateway_reference=gateway_reference))
        return refund.model_copy(update={"executed_at": now, "refund_reference": gateway_reference})

    return in_transaction(uow, work)
