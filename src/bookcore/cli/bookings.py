"""Support commands for bookings: ``quote``, ``hold``, ``pay``, ``cancel`` and ``show``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from bookcore.cancellation import cancel_booking
from bookcore.cli.output import money, plural, print_json, reported
from bookcore.cli.render import pricing_text, print_booking
from bookcore.cli.store import DatabaseUrl, database_url, open_store
from bookcore.clock import SystemClock
from bookcore.errors import InvalidInput
from bookcore.holds import place_hold, seconds_left
from bookcore.holds import quote as quote_service
from bookcore.lookups import booking_details
from bookcore.model import DEFAULT_HOLD_TTL, MAX_HOLD_TTL, Actor, RefundMode
from bookcore.money import to_decimal
from bookcore.payments import finalize_payment
from bookcore.pricing import Charges, Fee, FeeKind, calculate_pricing
from bookcore.promos import PromoCode, PromoKind

Json = Annotated[bool, typer.Option("--json", help="Print JSON")]
Promo = Annotated[str | None, typer.Option(help="Promo code the customer entered")]
Fees = Annotated[list[str] | None, typer.Option(
    "--fee", help="NAME:fixed:AMOUNT or NAME:percentage:PCT (repeatable)")]
TaxPercent = Annotated[str, typer.Option(help="Tax rate in percent")]
BookingId = Annotated[str, typer.Argument(help="The booking's id")]


def parse_fee(spec: str) -> Fee:
    """``name:fixed:AMOUNT`` or ``name:percentage:PERCENT``."""
    parts = spec.split(":")
    if len(parts) != 3 or parts[1] not in {kind.value for kind in FeeKind}:
        raise InvalidInput("a fee is NAME:fixed:AMOUNT or NAME:percentage:PERCENT", fee=spec)
    return Fee(name=parts[0], kind=FeeKind(parts[1]), value=to_decimal(parts[2], field="fee"))


def charges(fees: list[str] | None, tax_percent: str) -> Charges:
    return Charges(fees=tuple(parse_fee(spec) for spec in fees or []),
                   tax_percent=to_decimal(tax_percent, field="tax_percent"))


def _usage(message: str, hint: str) -> typer.BadParameter:
    return typer.BadParameter(message, param_hint=hint)


def _refuse_orphans(*, customer: str | None, promo: str | None, promo_percent: str | None,
                    promo_amount: str | None, item: str | None) -> None:
    """Options that would be silently ignored are refused instead: the caller meant something."""
    if promo_percent is not None and promo_amount is not None:
        raise _usage("a promo is either a percentage or an amount off, not both",
                     "--promo-percent / --promo-amount")
    defines = "--promo-percent" if promo_percent is not None else "--promo-amount"
    if (promo_percent is not None or promo_amount is not None) and promo is None and item is None:
        raise _usage(f"{defines} defines the code given with --promo; give --promo too", defines)
    if customer is not None and item is None:
        raise _usage("--customer goes with --item (a pure quote has no customer)", "--customer")


def quote(
    ctx: typer.Context,
    unit_price: Annotated[str | None, typer.Option(
        help="Pure quote: price of one unit, e.g. 1500.00")] = None,
    item: Annotated[str | None, typer.Option(help="Quote an inventory item from the database")] = None,
    customer: Annotated[str | None, typer.Option(help="With --item: whose wallet and promo uses")] = None,
    quantity: Annotated[int, typer.Option(min=1)] = 1,
    promo: Promo = None,
    fee: Fees = None,
    tax_percent: TaxPercent = "0",
    currency: Annotated[str | None, typer.Option(help="Pure quote: ISO 4217 code [default: INR]")] = None,
    promo_percent: Annotated[str | None, typer.Option(help="Pure quote: --promo is N percent off")] = None,
    promo_amount: Annotated[str | None, typer.Option(
        help="Pure quote: --promo is a fixed amount off")] = None,
    wallet: Annotated[str | None, typer.Option(help="Pure quote: the wallet balance [default: 0]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Pricing as JSON")] = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Print a full price breakdown: pure (--unit-price ...) or for an item (--item --customer)."""
    _refuse_orphans(customer=customer, promo=promo, promo_percent=promo_percent,
                    promo_amount=promo_amount, item=item)
    if (unit_price is None) == (item is None):
        raise _usage("give either --unit-price (a pure quote) or --item with --customer",
                     "--unit-price / --item")
    if item is not None:
        if customer is None:
            raise _usage("--item needs --customer (their wallet and promo uses count)", "--customer")
        given = (("--currency", currency), ("--promo-percent", promo_percent),
                 ("--promo-amount", promo_amount), ("--wallet", wallet))
        extra = [name for name, value in given if value is not None]
        if extra:
            raise _usage("the item, its promo codes and the wallet come from the database",
                         " / ".join(extra))
        with open_store(database_url(ctx, database_url_option)) as store:
            pricing = quote_service(store.uow(), item_id=item, customer_id=customer, quantity=quantity,
                                    clock=SystemClock(), promo_code=promo,
                                    charges=charges(fee, tax_percent))
    else:
        with reported():
            code = ("INR" if currency is None else currency).upper()
            definition = None
            if promo is not None and (promo_percent is not None or promo_amount is not None):
                percent = promo_percent is not None
                definition = PromoCode(code=promo, kind=PromoKind.PERCENTAGE if percent else PromoKind.FIXED,
                                       value=to_decimal(promo_percent if percent else promo_amount,
                                                        field="promo"),
                                       currency=None if percent else code)
            extras = charges(fee, tax_percent)
            pricing = calculate_pricing(
                unit_price=unit_price, quantity=quantity, currency=code, now=datetime.now(UTC),
                promo_code=promo, promo=definition, fees=extras.fees, tax_percent=extras.tax_percent,
                wallet_balance=wallet or "0")
    if as_json:
        print_json(pricing)
    else:
        typer.echo(pricing_text(pricing))


def hold(
    ctx: typer.Context,
    item: Annotated[str, typer.Option(help="Inventory item id")],
    customer: Annotated[str, typer.Option(help="Customer id")],
    quantity: Annotated[int, typer.Option(min=1)] = 1,
    promo: Promo = None,
    ttl_minutes: Annotated[int, typer.Option(
        min=1, max=int(MAX_HOLD_TTL.total_seconds() // 60),
        help="How long the hold lasts")] = int(DEFAULT_HOLD_TTL.total_seconds() // 60),
    booking_id: Annotated[str | None, typer.Option(
        help="Make the hold idempotent: a retry returns the stored booking")] = None,
    fee: Fees = None,
    tax_percent: TaxPercent = "0",
    as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Hold inventory for a customer; the booking is HELD until paid, cancelled or expired."""
    clock = SystemClock()
    with open_store(database_url(ctx, database_url_option)) as store:
        result = place_hold(store.uow(), item_id=item, customer_id=customer, quantity=quantity,
                            clock=clock, promo_code=promo, charges=charges(fee, tax_percent),
                            hold_ttl=timedelta(minutes=ttl_minutes), booking_id=booking_id)
    booking = result.booking
    left = seconds_left(booking, clock.now())
    if as_json:
        print_json({**result.model_dump(mode="json"), "seconds_left": left})
        return
    typer.echo(f"{result.outcome.value}: booking {booking.id} holds {booking.item_id} x "
               f"{booking.quantity} for {booking.customer_id} until {booking.expires_at.isoformat()} "
               f"({left} s left)")
    typer.echo(pricing_text(booking.pricing))


def pay(
    ctx: typer.Context,
    booking_id: BookingId,
    key: Annotated[str, typer.Option(help="Idempotency key: a retry with the same key moves no money")],
    gateway_amount: Annotated[str, typer.Option(
        help="Amount already captured by the gateway (0 when the wallet covers the total)")],
    currency: Annotated[str | None, typer.Option(help="Currency of the gateway amount "
                                                      "[default: the booking's]")] = None,
    reference: Annotated[str | None, typer.Option(help="The gateway's payment reference")] = None,
    as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Finalize payment: the wallet part is debited, the captured gateway amount recorded."""
    clock = SystemClock()
    with open_store(database_url(ctx, database_url_option)) as store:
        # An empty --currency (often an unset shell variable) is refused, not taken as "default".
        code = currency.upper() if currency is not None else booking_details(
            store.uow(), booking_id=booking_id, clock=clock).booking.currency
        result = finalize_payment(store.uow(), booking_id=booking_id, idempotency_key=key,
                                  gateway_amount=gateway_amount, currency=code, clock=clock,
                                  gateway_reference=reference)
    if as_json:
        print_json(result)
        return
    payment = result.payment
    replay = " (replayed: this key was seen before; nothing moved)" if result.replayed else ""
    typer.echo(f"{result.outcome.value}{replay}: booking {result.booking.id} is "
               f"{result.booking.status.value}; wallet {money(payment.wallet_amount, payment.currency)}, "
               f"gateway {money(payment.gateway_amount, payment.currency)}")
    if result.refund is not None:
        refund = result.refund
        typer.echo(f"handed back: {money(refund.to_wallet, refund.currency)} to the wallet, "
                   f"{money(refund.to_gateway, refund.currency)} to refund through the gateway "
                   f"({refund.reason})")


def cancel(
    ctx: typer.Context,
    booking_id: BookingId,
    actor: Annotated[str, typer.Option(help="Who cancels: the customer's id, or a staff id with --staff")],
    staff: Annotated[bool, typer.Option(
        "--staff", help="The actor is staff (may cancel any booking)")] = False,
    refund_mode: Annotated[RefundMode, typer.Option(
        help="wallet: refund all to the wallet; original: wallet part to the wallet, the rest by "
             "gateway")] = RefundMode.WALLET,
    as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Cancel a HELD or CONFIRMED booking, release its inventory and refund what was paid."""
    with open_store(database_url(ctx, database_url_option)) as store:
        who = Actor.staff(actor) if staff else Actor.customer(actor)
        result = cancel_booking(store.uow(), booking_id=booking_id, actor=who, clock=SystemClock(),
                                refund_mode=refund_mode)
    if as_json:
        print_json(result)
        return
    refund = result.refund
    refunded = ("nothing refunded" if refund is None else
                f"refunded {money(refund.to_wallet, refund.currency)} to the wallet and "
                f"{money(refund.to_gateway, refund.currency)} to return through the gateway")
    typer.echo(f"cancelled booking {result.booking.id} (was {result.old_status.value}): released "
               f"{plural(result.released_units, 'unit')}; {refunded}")


def show(
    ctx: typer.Context, booking_id: BookingId, as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Show a booking: status, seconds left, pricing snapshot, payments and refunds."""
    with open_store(database_url(ctx, database_url_option)) as store:
        details = booking_details(store.uow(), booking_id=booking_id, clock=SystemClock())
    if as_json:
        print_json(details)
    else:
        print_booking(details)
