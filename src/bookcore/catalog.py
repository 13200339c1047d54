"""Setting up what can be booked and the promo codes that apply."""

from __future__ import annotations

from datetime import datetime

from bookcore.errors import InvalidInput
from bookcore.logs import Event, event
from bookcore.model import InventoryItem, check_id
from bookcore.money import check_currency, in_money_context, parse_amount
from bookcore.ports import UnitOfWork
from bookcore.promos import PromoCode
from bookcore.transactions import in_transaction


@in_money_context
def add_inventory_item(uow: UnitOfWork, *, item_id: str, name: str, capacity: int,
                       unit_price: object, currency: str,
                       starts_at: datetime | None = None) -> InventoryItem:
    """Create a bookable item with all of its capacity free. ``AlreadyExists`` if the id is taken."""
    check_id(item_id, field="item_id")
    price = parse_amount(unit_price, check_currency(currency), field="unit_price")
    item = InventoryItem(id=item_id, name=name, capacity=capacity, available=capacity,
                         unit_price=price, currency=currency, starts_at=starts_at)

    def work(uow: UnitOfWork, events: list[Event]) -> InventoryItem:
        uow.inventory.add(item)
        events.append(event("INVENTORY_ADDED", item_id=item.id, capacity=item.capacity,
                            unit_price=item.unit_price, currency=item.currency))
        return item

    return in_transaction(uow, work)


@in_money_context
def add_promo_code(uow: UnitOfWork, promo: PromoCode) -> PromoCode:
    """Store a promo code definition. ``AlreadyExists`` if the code is taken."""
    if not isinstance(promo, PromoCode):
        raise InvalidInput("promo must be a PromoCode", field="promo", value=promo)

    def work(uow: UnitOfWork, events: list[Event]) -> PromoCode:
        uow.promos.add(promo)
        events.append(event("PROMO_ADDED", code=promo.code, kind=promo.kind.value, value=promo.value))
        return promo

    return in_transaction(uow, work)
