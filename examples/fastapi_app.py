"""A FastAPI app on bookcore: hold, pay, cancel and list bookings, with bookcore's errors as HTTP
statuses and their ``to_dict()`` as the body.

    BOOKCORE_DATABASE_URL=sqlite:///shop.db uvicorn fastapi_app:app   (from examples/)

The engine is built and the schema migrated when the app starts (its lifespan), not at import.
Endpoints are plain ``def``: FastAPI runs each request on a worker thread, and each request gets
its own unit of work (one thread at a time), sharing the app's engine.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bookcore import (
    Actor,
    BookcoreError,
    BookingStatus,
    InvalidInput,
    NotAuthorized,
    NotFound,
    SqlAlchemyUnitOfWork,
    StorageError,
    SystemClock,
    UnitOfWork,
    cancel_booking,
    create_engine_for,
    finalize_payment,
    list_bookings,
    migrate,
    place_hold,
)


class HoldRequest(BaseModel):
    item_id: str
    quantity: int


class PaymentRequest(BaseModel):
    idempotency_key: str  # the gateway's charge id: a retried webhook moves no money twice
    amount: str  # as text, exactly as captured ("1500.00"); bookcore refuses what it cannot keep exactly
    currency: str


def status_for(error: BookcoreError) -> int:
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotAuthorized):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, StorageError):
        return 503
    return 409  # refused by a business rule: InsufficientInventory, HoldExpired, ...


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    yield SqlAlchemyUnitOfWork(request.app.state.engine)


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
#: Stands in for the app's login: who is asking.
Customer = Annotated[str, Header(alias="X-Customer")]


def create_app(database_url: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine_for(database_url or os.environ.get("BOOKCORE_DATABASE_URL",
                                                                  "sqlite:///bookcore.db"))
        migrate(engine)
        app.state.engine = engine
        yield
        engine.dispose()

    app = FastAPI(title="bookcore shop", lifespan=lifespan)

    @app.exception_handler(BookcoreError)
    async def bookcore_error(_request: Request, error: BookcoreError) -> JSONResponse:
        return JSONResponse({"error": error.to_dict()}, status_code=status_for(error))

    @app.post("/bookings", status_code=201)
    def hold(body: HoldRequest, uow: Uow, customer: Customer) -> dict[str, Any]:
        result = place_hold(uow, item_id=body.item_id, customer_id=customer, quantity=body.quantity,
                            clock=SystemClock())
        return result.booking.model_dump(mode="json")

    @app.post("/bookings/{booking_id}/payments")
    def pay(booking_id: str, body: PaymentRequest, uow: Uow, customer: Customer) -> dict[str, Any]:
        result = finalize_payment(uow, booking_id=booking_id, idempotency_key=body.idempotency_key,
                                  gateway_amount=body.amount, currency=body.currency,
                                  clock=SystemClock(), actor=Actor.customer(customer))
        return result.model_dump(mode="json")

    @app.post("/bookings/{booking_id}/cancel")
    def cancel(booking_id: str, uow: Uow, customer: Customer) -> dict[str, Any]:
        result = cancel_booking(uow, booking_id=booking_id, actor=Actor.customer(customer),
                                clock=SystemClock())
        return result.model_dump(mode="json")

    @app.get("/bookings")
    def my_bookings(uow: Uow, customer: Customer, status: BookingStatus | None = None,
                    cursor: str | None = None) -> dict[str, Any]:
        page = list_bookings(uow, customer_id=customer, status=status, cursor=cursor)
        return page.model_dump(mode="json")

    return app


app = create_app()
