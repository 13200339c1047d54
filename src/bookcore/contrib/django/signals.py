"""bookcore's events as a Django signal, sent once the transaction that produced them commits.

    from django.dispatch import receiver
    from bookcore.contrib.django.signals import event_committed

    @receiver(event_committed)
    def on_bookcore_event(sender, name, booking_id, payload, **kwargs):
        if name == "BOOKING_CONFIRMED":
            send_confirmation(booking_id)

``name`` is the event's name (``BOOKING_HELD``, ``BOOKING_CONFIRMED``, ``BOOKING_EXPIRED``,
``BOOKING_CANCELLED``, ``PAYMENT_FINALIZED``, …), ``payload`` the same JSON data the outbox stores
(amounts as strings), ``sender`` the ``DjangoUnitOfWork`` class.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.dispatch import Signal

from bookcore.logs import Event
from bookcore.stored_events import booking_of, payload_json

event_committed = Signal()


def send_events(sender: type, events: Sequence[Event]) -> None:
    for item in events:
        event_committed.send(sender=sender, name=item.tag, booking_id=booking_of(item),
                             payload=json.loads(payload_json(item.fields)))
