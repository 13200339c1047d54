"""examples/fastapi_app.py, through FastAPI's TestClient: bookcore's errors as HTTP statuses."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bookcore import SqlAlchemyUnitOfWork, add_inventory_item, create_engine_for, migrate

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fastapi_app.py"
ASHA, RAVI = {"X-Customer": "asha"}, {"X-Customer": "ravi"}


def create_app() -> Callable[[str], FastAPI]:
    spec = importlib.util.spec_from_file_location("fastapi_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return cast(Callable[[str], FastAPI], module.create_app)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = create_engine_for(url)
    migrate(engine)
    add_inventory_item(SqlAlchemyUnitOfWork(engine), item_id="room-101", name="Room 101", capacity=2,
                       unit_price=Decimal("1500.00"), currency="INR")
    engine.dispose()
    with TestClient(create_app()(url)) as test_client:
        yield test_client


def hold(client: TestClient, quantity: int = 1) -> str:
    response = client.post("/bookings", json={"item_id": "room-101", "quantity": quantity}, headers=ASHA)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_hold_pay_and_list(client: TestClient) -> None:
    booking_id = hold(client)
    payment = {"idempotency_key": "ch_1", "amount": "1500.00", "currency": "INR"}
    paid = client.post(f"/bookings/{booking_id}/payments", json=payment, headers=ASHA)
    assert (paid.status_code, paid.json()["booking"]["status"]) == (200, "confirmed")
    replayed = client.post(f"/bookings/{booking_id}/payments", json=payment, headers=ASHA)
    assert replayed.json()["payment"]["id"] == paid.json()["payment"]["id"]
    page = client.get("/bookings", params={"status": "confirmed"}, headers=ASHA).json()
    assert [booking["id"] for booking in page["bookings"]] == [booking_id]


def test_a_refusal_is_409_with_the_error_as_json(client: TestClient) -> None:
    response = client.post("/bookings", json={"item_id": "room-101", "quantity": 3}, headers=ASHA)
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["field"], error["details"]["available"]) == (
        "insufficient_inventory", "quantity", 2)


def test_bad_input_is_422_naming_the_field(client: TestClient) -> None:
    booking_id = hold(client)
    response = client.post(f"/bookings/{booking_id}/payments", headers=ASHA,
                           json={"idempotency_key": "ch_1", "amount": "1500.001", "currency": "INR"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "gateway_amount"


def test_another_customers_booking_is_403_and_an_unknown_one_404(client: TestClient) -> None:
    booking_id = hold(client)
    assert client.post(f"/bookings/{booking_id}/cancel", headers=RAVI).status_code == 403
    assert client.post("/bookings/nope/cancel", headers=ASHA).status_code == 404
    cancelled = client.post(f"/bookings/{booking_id}/cancel", headers=ASHA)
    assert (cancelled.status_code, cancelled.json()["booking"]["status"]) == (200, "cancelled")
    assert client.post(f"/bookings/{booking_id}/cancel", headers=ASHA).status_code == 409
