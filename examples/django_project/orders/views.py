"""An order and its hold in one transaction; bookcore's errors as HTTP statuses."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bookcore import (
    Actor,
    BookcoreError,
    InvalidInput,
    NotAuthorized,
    NotFound,
    StorageError,
    SystemClock,
    booking_details,
    place_hold,
)
from bookcore.contrib.django import DjangoUnitOfWork
from orders.models import Order


class PriceChanged(BookcoreError):
    """The hold's total is not what the customer was shown: nothing is kept."""

    code = "price_changed"


def status_for(error: BookcoreError) -> int:
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotAuthorized):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, StorageError):
        return 503
    return 409  # refused by a business rule: InsufficientInventory, HoldExpired, PriceChanged, ...


def error_response(error: BookcoreError) -> JsonResponse:
    return JsonResponse({"error": error.to_dict()}, status=status_for(error))


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body)
    except ValueError:
        raise InvalidInput("the body must be JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def _amount(value: object) -> Decimal:
    try:
        return Decimal(str(value)) if isinstance(value, str) else Decimal("NaN")
    except InvalidOperation:
        return Decimal("NaN")


@csrf_exempt
@require_POST
def place_order(request: HttpRequest) -> JsonResponse:
    """``{"reference", "customer_id", "item_id", "quantity", "expected_total"}``: the order and
    its hold commit together, or neither does."""
    try:
        body = _body(request)
        with transaction.atomic():
            order = Order.objects.create(reference=str(body.get("reference", "")),
                                         customer_id=str(body.get("customer_id", "")))
            hold = place_hold(DjangoUnitOfWork(), item_id=body.get("item_id", ""),
                              customer_id=order.customer_id, quantity=body.get("quantity", 0),
                              clock=SystemClock())
            total = hold.booking.pricing.total_amount
            if total != _amount(body.get("expected_total")):
                raise PriceChanged("the total changed since it was shown", field="expected_total",
                                   total=total, expected=body.get("expected_total"))
            order.booking_id, order.total = hold.booking.id, total
            order.save(update_fields=["booking_id", "total"])
    except BookcoreError as error:
        return error_response(error)
    return JsonResponse({"order": order.reference, "booking_id": hold.booking.id,
                         "total": str(total), "expires_at": hold.booking.expires_at.isoformat()},
                        status=201)


@require_GET
def booking(request: HttpRequest, booking_id: str) -> JsonResponse:
    """The booking, for its customer only (``X-Customer`` stands in for the app's login)."""
    try:
        actor = Actor.customer(request.headers.get("X-Customer", ""))
        details = booking_details(DjangoUnitOfWork(), booking_id=booking_id, actor=actor,
                                  clock=SystemClock())
    except BookcoreError as error:
        return error_response(error)
    return JsonResponse(details.model_dump(mode="json"))
