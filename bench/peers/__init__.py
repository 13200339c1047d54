"""The peers' pattern: bookcore's operations written as the seed's Django app, pretix and Saleor
write theirs (Django ORM models, ``transaction.atomic()``, ``select_for_update()``, ``.save()``),
on tables of their own (``peer_``). ``models`` is the Django app; ``orm`` configures Django in the
calling process and runs the operations."""
