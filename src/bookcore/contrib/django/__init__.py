"""bookcore inside a Django project: add ``"bookcore.contrib.django"`` to ``INSTALLED_APPS``.

Services then run on Django's own database connection with ``DjangoUnitOfWork``, inside the
caller's ``transaction.atomic()`` (docs/integration.md). Nothing here is imported by ``bookcore``.
"""

from bookcore.contrib.django.unit_of_work import DjangoUnitOfWork

__all__ = ["DjangoUnitOfWork"]
