"""The benchmark's databases: a second table size gets a database of its own beside the first,
removed when it is closed, so both sizes can be loaded at once and measured in the same minutes."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.backends import Backend, PostgresBackend, SqliteBackend
from bench.fixtures import load_catalog
from tests.backends import server_url


def _backend(kind: str) -> Backend:
    return SqliteBackend() if kind == "sqlite" else PostgresBackend(server_url("postgres"))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_sibling_is_a_separate_database_removed_on_close(kind: str) -> None:
    backend = _backend(kind)
    sibling = backend.sibling("pytest")
    try:
        assert sibling.url != backend.url
        sibling.reset()
        load_catalog(sibling, spread=2, occupied=Counter())
        assert sibling.scalar("SELECT count(*) FROM inventory_items") == 3
        other = backend.sibling("pytest-other")
        try:
            other.reset()
            assert other.scalar("SELECT count(*) FROM inventory_items") == 0  # nothing shared
        finally:
            other.close()
    finally:
        sibling.close()
    if isinstance(sibling, SqliteBackend):
        assert not sibling.path.exists()
    else:
        assert backend.scalar("SELECT count(*) FROM pg_database WHERE datname = ?",
                              "bookcore_bench_pytest") == 0
    backend.close()
