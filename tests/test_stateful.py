"""The stateful model test: ``bookcore.testing.BookcoreInvariants``, the state machine apps run
too, on every adapter: random sequences of every operation in lockstep on the in-memory reference
store and the store under test, comparing every result and checking invariants after every step.

CI (HYPOTHESIS_PROFILE=ci) runs 200 examples x 50 steps per backend; HYPOTHESIS_PROFILE=slow runs
ten times as many; the default `dev` profile of `bash scripts/test` runs 20, a quick look. The SQL
runs use an app-like configuration (fees, tax, refund tiers and staff-only cancelling after the
start); the in-memory store against itself the defaults.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bookcore.adapters.memory import InMemoryUnitOfWork
from bookcore.cancellation import AfterStart, RefundPolicy, RefundTier
from bookcore.ports import UnitOfWork
from bookcore.pricing import Charges, Fee, FeeKind
from bookcore.testing import BookcoreInvariants, InvariantRun, run_invariants

EXAMPLES = {"dev": 20, "slow": 2000}.get(os.environ.get("HYPOTHESIS_PROFILE", "dev"), 200)
STEPS = 50
APP_CHARGES = Charges(fees=(Fee(name="service", kind=FeeKind.PERCENTAGE, value=Decimal("2.5")),
                            Fee(name="booking", kind=FeeKind.FIXED, value=Decimal("10.00"), currency="INR")),
                      tax_percent=Decimal("18"))
APP_REFUNDS = RefundPolicy(tiers=(RefundTier(min_notice=timedelta(hours=48), percent=Decimal(100)),
                                  RefundTier(min_notice=timedelta(hours=24), percent=Decimal(50))),
                           after_start=AfterStart.STAFF_ONLY)


def report(run: InvariantRun, backend: str) -> None:
    """Append the run's figures for docs/reliability.md (scripts/reliability sets the path)."""
    if path := os.environ.get("BOOKCORE_STATEFUL_REPORT"):
        with open(path, "a", encoding="utf-8") as lines:
            lines.write(json.dumps({"backend": backend, "examples_asked": EXAMPLES, "max_steps": STEPS,
                                    "machines_run": run.machines, "steps_checked": run.steps,
                                    "seconds": round(run.seconds, 1)}) + "\n")


class InMemoryInvariants(BookcoreInvariants):
    def make_uow(self) -> UnitOfWork:
        return InMemoryUnitOfWork()


def test_memory_model_against_itself_is_consistent() -> None:
    run = run_invariants(InMemoryInvariants, max_examples=EXAMPLES, steps=STEPS)
    assert run.machines >= EXAMPLES and run.steps > run.machines
    report(run, "memory")


@pytest.mark.parametrize("kind", [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
])
def test_sql_backend_matches_the_model(kind: str, tmp_path: Path) -> None:
    from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
    from tests.backends import fresh_engine, reset

    engine = fresh_engine(kind, tmp_path)

    class SqlInvariants(BookcoreInvariants):
        charges = APP_CHARGES
        refund_policy = APP_REFUNDS

        def make_uow(self) -> UnitOfWork:
            reset(engine)
            return SqlAlchemyUnitOfWork(engine)

    run = run_invariants(SqlInvariants, max_examples=EXAMPLES, steps=STEPS)
    assert run.machines >= EXAMPLES
    report(run, kind)


def test_importing_bookcore_does_not_import_hypothesis() -> None:
    import subprocess
    import sys

    code = "import sys, bookcore; print('hypothesis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
