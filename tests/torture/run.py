"""Concurrency torture: many worker processes x thousands of random operations on a handful of hot
items, with faults injected, then an audit and a reconciliation of what the workers believe.

    python -m tests.torture.run --backend postgres --workers 16 --ops 400     # needs the URL below
    python -m tests.torture.run --backend mariadb --workers 16 --ops 400      # BOOKCORE_TEST_MARIADB_URL
    python -m tests.torture.run --backend sqlite --workers 4 --ops 300

PostgreSQL and MariaDB: BOOKCORE_TEST_POSTGRES_URL / BOOKCORE_TEST_MARIADB_URL name the server; the
run uses its own database ``bookcore_torture`` on it. Faults: connections killed mid-transaction
(``pg_terminate_backend``, ``KILL``) from a separate process, exceptions thrown between the steps
of a service, short lock waits (50 ms ``lock_timeout``; MariaDB's shortest, 1 s) so lock waits fail
with real lock errors (retried by bookcore as transient), and
with ``--restart-command`` the server restarted once mid-run. Beside the workers, ``--sweepers``
processes run ``bookcore expire`` over and over, as several cron jobs would.
Prints a JSON report; exits 1 if any invariant broke.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InternalError, OperationalError

from bookcore import (
    Actor,
    BookcoreError,
    InvalidTransition,
    RefundMode,
    SqlAlchemyUnitOfWork,
    SystemClock,
    add_inventory_item,
    audit,
    cancel_booking,
    create_engine_for,
    credit_wallet,
    expire_holds,
    finalize_payment,
    migrate,
    place_hold,
)
from bookcore.errors import StorageError
from tests.torture.faults import FaultyUnitOfWork, InjectedFault

ITEMS = ("hot-1", "hot-2", "hot-3", "hot-4")
CAPACITY = 12
CUSTOMERS = 24
HOLD_TTL = timedelta(seconds=2)
DATABASE = "bookcore_torture"


@dataclass
class Belief:
    """What one worker saw committed (the call returned) and what it could not know."""

    ops: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    holds: list[str] = field(default_factory=list)
    payments: dict[str, str] = field(default_factory=dict)  # idempotency key -> booking id
    credits: int = 0
    injected: int = 0
    transactions: int = 0
    transient: int = 0


SERVER_VARIABLES = {"postgres": "BOOKCORE_TEST_POSTGRES_URL", "mariadb": "BOOKCORE_TEST_MARIADB_URL"}


def database_url(backend: str, workdir: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{os.path.join(workdir, 'torture.db')}"
    server = os.environ.get(SERVER_VARIABLES[backend])
    if not server:
        sys.exit(f"set {SERVER_VARIABLES[backend]} to torture {backend}")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    force = " WITH (FORCE)" if backend == "postgres" else ""
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE}{force}"))
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    url = make_url(server)
    return url.set(database=DATABASE).render_as_string(hide_password=False)


def engine_for(url: str, **options: Any) -> Any:
    """The run's engine; BOOKCORE_TEST_POSTGRES_ISOLATION=SERIALIZABLE tortures that mode."""
    isolation = os.environ.get("BOOKCORE_TEST_POSTGRES_ISOLATION")
    if isolation and url.startswith("postgresql"):
        options["isolation_level"] = isolation
    return create_engine_for(url, **options)


def seed(url: str) -> None:
    engine = engine_for(url)
    migrate(engine)
    uow, clock = SqlAlchemyUnitOfWork(engine), SystemClock()
    for item in ITEMS:
        add_inventory_item(uow, item_id=item, name=item, capacity=CAPACITY,
                           unit_price=Decimal("100.00"), currency="INR")
    for customer in range(CUSTOMERS):
        credit_wallet(uow, customer_id=f"c{customer}", amount=Decimal("250.00"), currency="INR",
                      reason="seed", clock=clock)
    engine.dispose()


def worker(url: str, index: int, ops: int, fault_rate: float, backend: str,
           results: multiprocessing.Queue[dict[str, Any]]) -> None:
    rng = random.Random(index)
    options: dict[str, Any] = {}
    if backend == "postgres":
        options["connect_args"] = {"options": "-c lock_timeout=50"}
    elif backend == "mariadb":
        options["connect_args"] = {"init_command": "SET SESSION innodb_lock_wait_timeout = 1"}
    engine = engine_for(url, **options)
    uow = FaultyUnitOfWork(SqlAlchemyUnitOfWork(engine), rng, fault_rate)
    clock = SystemClock()
    belief = Belief()
    for step in range(ops):
        operation = rng.choices(["hold", "pay", "retry", "cancel", "credit", "expire"],
                                weights=[35, 25, 8, 12, 10, 10])[0]
        customer = f"c{rng.randrange(CUSTOMERS)}"
        belief.ops[operation] += 1
        try:
            if operation == "hold":
                booking_id = f"w{index}-{step}"
                place_hold(uow, item_id=rng.choice(ITEMS), customer_id=customer,
                           quantity=rng.randint(1, 3), clock=clock, hold_ttl=HOLD_TTL,
                           booking_id=booking_id)
                belief.holds.append(booking_id)
            elif operation in ("pay", "retry") and belief.holds:
                booking_id = rng.choice(belief.holds)
                key = (rng.choice(list(belief.payments)) if operation == "retry" and belief.payments
                       else f"k{index}-{step}")
                booking_id = belief.payments.get(key, booking_id)
                with uow:
                    booking = uow.bookings.get(booking_id)
                if booking is None:
                    continue
                finalize_payment(uow, booking_id=booking_id, idempotency_key=key,
                                 gateway_amount=booking.pricing.gateway_payable, currency="INR",
                                 clock=clock, unplaced_money_to=rng.choice(list(RefundMode)))
                belief.payments[key] = booking_id
            elif operation == "cancel" and belief.holds:
                booking_id = rng.choice(belief.holds)
                with uow:
                    booking = uow.bookings.get(booking_id)
                if booking is None:
                    continue
                cancel_booking(uow, booking_id=booking_id, actor=Actor.customer(booking.customer_id),
                               clock=clock, refund_mode=rng.choice(list(RefundMode)))
            elif operation == "credit":
                credit_wallet(uow, customer_id=customer, amount=Decimal("10.00"), currency="INR",
                              reason="torture", clock=clock)
                belief.credits += 1
            elif operation == "expire":
                expire_holds(uow, clock=clock, batch_size=rng.choice([1, 5, 50]))
        except InjectedFault:
            belief.errors["injected_fault"] += 1
        except InvalidTransition:
            belief.errors["invalid_transition"] += 1
        except StorageError as error:
            belief.errors[error.code] += 1
        except BookcoreError as error:
            belief.errors[error.code] += 1
    belief.injected, belief.transactions, belief.transient = uow.injected, uow.transactions, uow.transient
    engine.dispose()
    results.put({"ops": dict(belief.ops), "errors": dict(belief.errors), "holds": belief.holds,
                 "payments": belief.payments, "credits": belief.credits,
                 "injected": belief.injected, "transactions": belief.transactions,
                 "transient": belief.transient})


#: Busy bookcore sessions other than the killer's own, and how to end one, per server.
SESSIONS = {
    "postgres": ("SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid() "
                 "AND state IN ('active', 'idle in transaction')", "SELECT pg_terminate_backend({})"),
    "mariadb": ("SELECT id FROM information_schema.processlist WHERE db = :db "
                "AND id <> CONNECTION_ID() AND command <> 'Sleep'", "KILL {}"),
}


def killer(url: str, backend: str, stop: Any, results: multiprocessing.Queue[dict[str, Any]]) -> None:
    """Terminates a random busy bookcore connection every few milliseconds."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    rng, killed = random.Random(99), 0
    find, kill = SESSIONS[backend]
    while not stop.is_set():
        try:
            with engine.connect() as connection:
                sessions = connection.execute(text(find), {"db": DATABASE}).scalars().all()
                if sessions:
                    connection.execute(text(kill.format(int(rng.choice(sessions)))))
                    killed += 1
        except (OperationalError, InternalError):  # restarting, or the session ended by itself
            pass
        stop.wait(0.02)
    results.put({"killed": killed})


def sweeper(url: str, stop: Any, results: multiprocessing.Queue[dict[str, Any]]) -> None:
    """Runs the real ``bookcore expire`` CLI in a loop, as a cron job on another host would."""
    codes: Counter[int] = Counter()
    while not stop.is_set():
        completed = subprocess.run([sys.executable, "-m", "bookcore", "expire", "--batch-size", "5",
                                    "--database-url", url], capture_output=True, text=True,
                                   timeout=300, check=False)
        codes[completed.returncode] += 1
    results.put({"sweeper_exit_codes": dict(codes)})


def restarter(command: str, after: float, stop: Any, results: multiprocessing.Queue[dict[str, Any]]) -> None:
    """Restarts the database server once, ``after`` seconds into the run."""
    restarted = 0
    if not stop.wait(after):
        restarted = int(subprocess.run(command, shell=True, check=False).returncode == 0)
    results.put({"restarted": restarted})


def reconcile(url: str, beliefs: list[dict[str, Any]]) -> dict[str, Any]:
    engine = engine_for(url)
    uow = SqlAlchemyUnitOfWork(engine)
    clock = SystemClock()
    expire_holds(uow, clock=clock)
    report = audit(uow, clock=clock, sweep_interval=timedelta(days=1))
    lost = 0
    with uow:
        for belief in beliefs:
            lost += sum(1 for booking_id in belief["holds"] if uow.bookings.get(booking_id) is None)
            lost += sum(1 for key in belief["payments"] if uow.payments.get_by_key(key) is None)
        money = list(uow.audit.booking_money())
        debits: Counter[str] = Counter()
        for customer in range(CUSTOMERS):
            for entry in uow.wallets.entries(f"c{customer}", "INR"):
                if entry.kind.value == "debit" and entry.booking_id:
                    debits[entry.booking_id] += 1
    rules = Counter(v.rule for v in report.violations)
    engine.dispose()
    return {
        "oversells": rules["capacity_conservation"],
        "double_debits": sum(1 for count in debits.values() if count > 1),
        "double_refunds": rules["no_double_refund"],
        "unpaid_confirmations": rules["confirmed_is_paid"],
        "wallet_ledger_mismatches": rules["wallet_matches_ledger"] + rules["wallet_not_negative"],
        "lost_writes": lost,
        "bookings_with_money": len(money),
        "violations": [v.model_dump() for v in report.violations],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["postgres", "mariadb", "sqlite"], default="postgres")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--ops", type=int, default=400, help="operations per worker")
    parser.add_argument("--fault-rate", type=float, default=0.02,
                        help="chance that a repository call is followed by an injected exception")
    parser.add_argument("--no-kill", action="store_true", help="do not terminate connections")
    parser.add_argument("--sweepers", type=int, default=3,
                        help="processes running `bookcore expire` in a loop beside the workers")
    parser.add_argument("--restart-command",
                        help="a shell command that restarts the database server; run once mid-run")
    parser.add_argument("--restart-after", type=float, default=5.0,
                        help="seconds into the run before --restart-command runs")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp()
    url = database_url(args.backend, workdir)
    seed(url)
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[dict[str, Any]] = context.Queue()
    stop = context.Event()
    started = time.monotonic()
    kill = args.backend != "sqlite" and not args.no_kill
    killers = [context.Process(target=killer, args=(url, args.backend, stop, results))] if kill else []
    killers += [context.Process(target=sweeper, args=(url, stop, results)) for _ in range(args.sweepers)]
    if args.restart_command:
        killers.append(context.Process(target=restarter, args=(args.restart_command,
                                                               args.restart_after, stop, results)))
    workers = [context.Process(target=worker, args=(url, i, args.ops, args.fault_rate, args.backend, results))
               for i in range(args.workers)]
    for process in killers + workers:
        process.start()
    collected = [results.get(timeout=1800) for _ in workers]
    stop.set()
    collected += [results.get(timeout=60) for _ in killers]
    for process in killers + workers:
        process.join(timeout=60)
    elapsed = time.monotonic() - started
    beliefs = [r for r in collected if "ops" in r]
    killed = sum(r.get("killed", 0) for r in collected)
    sweeper_codes: Counter[str] = Counter()
    for r in collected:
        sweeper_codes.update({str(code): n for code, n in r.get("sweeper_exit_codes", {}).items()})
    operations = sum(sum(b["ops"].values()) for b in beliefs)
    errors: Counter[str] = Counter()
    for belief in beliefs:
        errors.update(belief["errors"])
    transactions = sum(b["transactions"] for b in beliefs)
    outcome = reconcile(url, beliefs)
    # The same check ops would run: the real CLI in its own process, reading what the workers left.
    cli_audit = subprocess.run([sys.executable, "-m", "bookcore", "audit", "--json", "--database-url", url],
                               capture_output=True, text=True, timeout=600)
    outcome["cli_audit_exit_code"] = cli_audit.returncode
    report = {
        "backend": args.backend, "workers": args.workers, "operations": operations,
        "seconds": round(elapsed, 1),
        "faults_injected": {"exceptions": sum(b["injected"] for b in beliefs),
                            "connections_killed": killed,
                            "server_restarts": sum(r.get("restarted", 0) for r in collected)},
        "sweeper_exit_codes": dict(sweeper_codes),
        "transactions_started": transactions,
        "transactions_aborted_and_retried": sum(b["transient"] for b in beliefs),
        "errors_seen_by_workers": dict(errors),
        **outcome,
    }
    print(json.dumps(report, indent=2, default=str))
    broken = sum(outcome[k] for k in ("oversells", "double_debits", "double_refunds",
                                      "unpaid_confirmations", "wallet_ledger_mismatches", "lost_writes"))
    return 1 if broken or cli_audit.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
