"""The Django app: bookcore's tables (migrations), a read-only admin and management commands."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from types import ModuleType

    from sqlalchemy.engine import Engine


class BookcoreConfig(AppConfig):
    name = "bookcore.contrib.django"
    label = "bookcore"
    verbose_name = "bookcore"
    default_auto_field = "django.db.models.BigAutoField"

    def __init__(self, app_name: str, app_module: ModuleType | None) -> None:
        super().__init__(app_name, app_module)
        self._engines: dict[str, Engine] = {}
        self._engines_lock = threading.Lock()

    def engine(self, alias: str) -> Engine:
        """The SQLAlchemy engine on Django's own connection for ``alias`` (connection.py), built
        on first use; the app registry keeps it for the life of the process."""
        from bookcore.contrib.django.connection import build_engine

        with self._engines_lock:
            engine = self._engines.get(alias)
            if engine is None:
                engine = self._engines[alias] = build_engine(alias)
            return engine
