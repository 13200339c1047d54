from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# `dev`, the default, keeps `bash scripts/test` to a few minutes; CI (.ci/run) runs `ci`, at least
# 1,000 examples per property; `slow` is for a long look.
settings.register_profile("dev", max_examples=50, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("slow", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# ---- the storage backends every behaviour test runs on ------------------------------------------

from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bookcore.adapters.memory import InMemoryUnitOfWork  # noqa: E402
from bookcore.auditing import audit  # noqa: E402
from bookcore.clock import ManualClock  # noqa: E402
from bookcore.ports import UnitOfWork  # noqa: E402
from tests.backends import SQL_KINDS, fresh_engine  # noqa: E402

START = datetime(2026, 1, 20, 5, 45, 36, tzinfo=UTC)
SERVER_BACKENDS = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
SQL_BACKENDS = [pytest.param("sqlite"), *SERVER_BACKENDS]
BACKENDS = [pytest.param("memory"), *SQL_BACKENDS]


def make_uow(kind: str, tmp_path: Path) -> UnitOfWork:
    if kind == "memory":
        return InMemoryUnitOfWork()
    assert kind in SQL_KINDS
    from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork

    return SqlAlchemyUnitOfWork(fresh_engine(kind, tmp_path))


@pytest.fixture(params=SQL_BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """A migrated, empty SQL database of each kind."""
    return fresh_engine(request.param, tmp_path)


@pytest.fixture(params=SERVER_BACKENDS)
def server_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    return fresh_engine(request.param, tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=BACKENDS)
def uow(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[UnitOfWork]:
    """A unit of work on an empty store; after the test, the store must still be consistent."""
    unit = make_uow(request.param, tmp_path)
    yield unit
    # Tests move the clock freely, so lapsed-but-unswept holds are not a violation here.
    report = audit(unit, clock=clock, sweep_interval=timedelta(days=36500))
    assert report.violations == (), report.violations


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skips as one line of counts by reason (server tests without their URL); -rs lists each."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) else "skipped"
        reasons[reason.removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.write_line("skipped: " + "; ".join(
            f"{count} ({reason})" for reason, count in reasons.most_common()))
