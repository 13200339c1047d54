"""The benchmark's databases: a second table size gets a database of its own beside the first,
removed when it is closed, so both sizes can be loaded at once and measured in the same minutes."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

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


def test_each_implementation_goes_first_as_often_at_each_size_and_after_each_switch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Whoever runs first after a switch of database warms its caches alone: that must not always
    # be the same implementation at the same size.
    from bench import throughput
    from bench.settings import FULL

    holds: list[tuple[int, str]] = []

    def holds_point(_backend: Backend, _settings: object, scale: int, _shape: str, _clients: int,
                    implementation: str, _log: object) -> dict[str, float]:
        holds.append((scale, implementation))
        return {"ops_per_s": 1.0}

    monkeypatch.setattr(throughput, "_holds_point", holds_point)
    monkeypatch.setattr(throughput, "_finalize_point", lambda *_args: {"ops_per_s": 1.0})
    tables: dict[int, Backend] = {10_000: SqliteBackend(), 1_000_000: SqliteBackend()}
    throughput.run_points(tables, FULL, FULL.client_counts, throughput.IMPLEMENTATIONS, print)
    firsts = holds[::2]  # each visit runs both implementations back to back
    after_switch = [now for before, now in pairwise(firsts) if before[0] != now[0]]
    every = [(size, name) for size in tables for name in throughput.IMPLEMENTATIONS]
    # Equal shares whatever the rounds and client counts of the full settings.
    assert len(firsts) == len(tables) * FULL.rounds * len(FULL.client_counts) * len(throughput.SHAPES)
    assert Counter(firsts) == dict.fromkeys(every, len(firsts) // len(every))
    assert len(after_switch) >= len(every)
    assert Counter(after_switch) == dict.fromkeys(every, len(after_switch) // len(every))
    for backend in tables.values():
        backend.close()
