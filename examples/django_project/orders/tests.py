"""The shop's order view: the order and its hold commit together or not at all."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.test import TestCase
from django.urls import reverse

from bookcore import add_inventory_item, inventory_items
from bookcore.contrib.django import DjangoUnitOfWork
from orders.models import Order


class OrderViewTests(TestCase):
    def setUp(self) -> None:
        add_inventory_item(DjangoUnitOfWork(), item_id="room-101", name="Room 101", capacity=2,
                           unit_price=Decimal("1500.00"), currency="INR")

    def order(self, **changes: Any) -> Any:
        body = {"reference": "order-1", "customer_id": "asha", "item_id": "room-101",
                "quantity": 1, "expected_total": "1500.00", **changes}
        return self.client.post(reverse("place-order"), json.dumps(body),
                                content_type="application/json")

    def available(self) -> int:
        return inventory_items(DjangoUnitOfWork())[0].available

    def test_an_order_and_its_hold_commit_together(self) -> None:
        response = self.order()
        self.assertEqual(response.status_code, 201)
        order = Order.objects.get(reference="order-1")
        self.assertEqual((order.booking_id, order.total), (response.json()["booking_id"], Decimal("1500.00")))
        self.assertEqual(self.available(), 1)

    def test_a_refused_hold_leaves_no_order(self) -> None:
        response = self.order(quantity=3, expected_total="4500.00")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["error"]["code"], "insufficient_inventory")
        self.assertEqual(response.json()["error"]["field"], "quantity")
        self.assertFalse(Order.objects.exists())

    def test_an_order_refused_after_the_hold_leaves_no_hold(self) -> None:
        response = self.order(expected_total="1400.00")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["error"]["code"], "price_changed")
        self.assertFalse(Order.objects.exists())
        self.assertEqual(self.available(), 2)

    def test_bad_input_is_422_naming_the_field(self) -> None:
        response = self.order(quantity="two")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["error"]["field"], "quantity")
        self.assertFalse(Order.objects.exists())

    def test_a_booking_is_shown_to_its_customer_only(self) -> None:
        booking_id = self.order().json()["booking_id"]
        url = reverse("booking", args=[booking_id])
        mine = self.client.get(url, headers={"X-Customer": "asha"})
        self.assertEqual((mine.status_code, mine.json()["booking"]["status"]), (200, "held"))
        self.assertEqual(self.client.get(url, headers={"X-Customer": "ravi"}).status_code, 403)
        missing = self.client.get(reverse("booking", args=["nope"]), headers={"X-Customer": "asha"})
        self.assertEqual(missing.status_code, 404)

