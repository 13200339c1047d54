"""The Django app: bookcore's tables (migrations), a read-only admin and management commands."""

from __future__ import annotations

from django.apps import AppConfig


class BookcoreConfig(AppConfig):
    name = "bookcore.contrib.django"
    label = "bookcore"
    verbose_name = "bookcore"
    default_auto_field = "django.db.models.BigAutoField"
