"""Quotes per second of ``calculate_pricing`` next to a bare-Decimal baseline, in one process.

``python -m bench.pricing [--quick] [--json]``

The quote is a realistic one: INR, 3 x 1499.00, a 10% promo capped at 500.00, a 2% convenience fee
and a 25.00 fixed fee on the discounted amount, 18% tax, a 700.00 wallet. The baseline is the same
arithmetic as a plain function on ``Decimal`` with ``quantize(ROUND_HALF_UP)``, returning a tuple;
it is checked once against bookcore (same total and gateway payable) before anything is timed.

Both run in alternating rounds of a fixed number of calls, sized so a round takes about
``round_seconds``; the best round of each is reported. Single process, single core. Missing a
target is printed, never an error: benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bookcore.pricing import Fee, FeeKind, calculate_pricing
from bookcore.promos import PromoCode, PromoKind

#: Targets from the issue: quotes per second on one core, and bookcore time / baseline time.
TARGET_QUOTES_PER_S = 100_000
TARGET_SLOWDOWN = 4.0

FULL_ROUNDS, FULL_ROUND_SECONDS = 5, 0.5
QUICK_ROUNDS, QUICK_ROUND_SECONDS = 2, 0.1

CURRENCY = "INR"
UNIT_PRICE = Decimal("1499.00")
QUANTITY = 3
PROMO = PromoCode(code="SAVE10", kind=PromoKind.PERCENTAGE, value=Decimal("10"),
                  max_discount=Decimal("500.00"), currency=CURRENCY)
FEES = (
    Fee(name="convenience", kind=FeeKind.PERCENTAGE, value=Decimal("2")),
    Fee(name="handling", kind=FeeKind.FIXED, value=Decimal("25.00"), currency=CURRENCY),
)
TAX_PERCENT = Decimal("18")
WALLET_BALANCE = Decimal("700.00")
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def baseline_quote(*, unit_price: Decimal, quantity: int, promo_percent: Decimal, promo_cap: Decimal,
                   fee_percent: Decimal, fixed_fee: Decimal, tax_percent: Decimal,
                   wallet_balance: Decimal) -> tuple[Decimal, ...]:
    """The same quote by hand: every line rounded half up to the paisa as it is computed."""
    subtotal = unit_price * quantity
    discount = min((subtotal * promo_percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP),
                   promo_cap, subtotal)
    net = subtotal - discount
    fees = (net * fee_percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP) \
        + fixed_fee.quantize(CENT, rounding=ROUND_HALF_UP)
    tax = ((net + fees) * tax_percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    total = net + fees + tax
    wallet_applied = min(wallet_balance, total)
    return subtotal, discount, fees, tax, total, wallet_applied, total - wallet_applied


def _bookcore_batch(n: int) -> float:
    """Seconds for ``n`` bookcore quotes."""
    calculate, fees = calculate_pricing, FEES
    started = time.perf_counter()
    for _ in range(n):
        calculate(unit_price=UNIT_PRICE, quantity=QUANTITY, currency=CURRENCY, now=NOW,
                  promo_code="save10", promo=PROMO, fees=fees, tax_percent=TAX_PERCENT,
                  wallet_balance=WALLET_BALANCE)
    return time.perf_counter() - started


def _baseline_batch(n: int) -> float:
    """Seconds for ``n`` baseline quotes (the same call shape: keyword arguments, module constants)."""
    quote = baseline_quote
    promo_percent, promo_cap = Decimal("10"), Decimal("500.00")
    fee_percent, fixed_fee = Decimal("2"), Decimal("25.00")
    started = time.perf_counter()
    for _ in range(n):
        quote(unit_price=UNIT_PRICE, quantity=QUANTITY, promo_percent=promo_percent,
              promo_cap=promo_cap, fee_percent=fee_percent, fixed_fee=fixed_fee,
              tax_percent=TAX_PERCENT, wallet_balance=WALLET_BALANCE)
    return time.perf_counter() - started


def check_baseline() -> None:
    """The baseline must compute what bookcore computes, or its speed means nothing."""
    ours = calculate_pricing(unit_price=UNIT_PRICE, quantity=QUANTITY, currency=CURRENCY, now=NOW,
                             promo_code="save10", promo=PROMO, fees=FEES, tax_percent=TAX_PERCENT,
                             wallet_balance=WALLET_BALANCE)
    *_, total, _wallet, payable = baseline_quote(
        unit_price=UNIT_PRICE, quantity=QUANTITY, promo_percent=Decimal("10"),
        promo_cap=Decimal("500.00"), fee_percent=Decimal("2"), fixed_fee=Decimal("25.00"),
        tax_percent=TAX_PERCENT, wallet_balance=WALLET_BALANCE)
    if ours.promo_code != "SAVE10" or (ours.total_amount, ours.gateway_payable) != (total, payable):
        raise AssertionError(f"baseline disagrees with bookcore: total {total} vs {ours.total_amount}, "
                             f"gateway_payable {payable} vs {ours.gateway_payable}")


def _calls_per_round(batch: Callable[[int], float], seconds: float) -> int:
    """How many calls take about ``seconds``: grow a trial batch until it is long enough to time."""
    n = 100
    while (elapsed := batch(n)) < 0.02:
        n *= 4
    return max(1, round(n * seconds / elapsed))


def run(*, quick: bool = False) -> dict[str, Any]:
    """Measure both, alternating which goes first each round; return the figures (no printing)."""
    rounds, seconds = (QUICK_ROUNDS, QUICK_ROUND_SECONDS) if quick else (FULL_ROUNDS, FULL_ROUND_SECONDS)
    check_baseline()
    batches = {"bookcore": _bookcore_batch, "baseline": _baseline_batch}
    calls = {name: _calls_per_round(batch, seconds) for name, batch in batches.items()}  # also warms up
    rates: dict[str, list[float]] = {name: [] for name in batches}
    for index in range(rounds):
        order = list(batches) if index % 2 == 0 else list(reversed(batches))
        for name in order:
            gc.collect()
            rates[name].append(calls[name] / batches[name](calls[name]))
    bookcore, baseline = max(rates["bookcore"]), max(rates["baseline"])
    slowdown = baseline / bookcore
    return {
        "bookcore_quotes_per_s": round(bookcore),
        "baseline_quotes_per_s": round(baseline),
        "slowdown": round(slowdown, 2),
        "rounds": rounds,
        "python": platform.python_version(),
        "quick": quick,
        "calls_per_round": calls,
        "all_rounds_quotes_per_s": {name: [round(rate) for rate in values] for name, values in rates.items()},
        "cpus": os.cpu_count(),
        "targets": {
            "quotes_per_s": {"target": TARGET_QUOTES_PER_S, "met": bookcore >= TARGET_QUOTES_PER_S},
            "slowdown": {"target": TARGET_SLOWDOWN, "met": slowdown <= TARGET_SLOWDOWN},
        },
    }


def table(result: dict[str, Any]) -> str:
    targets = result["targets"]

    def verdict(met: bool) -> str:
        return "met" if met else "MISSED"

    lines = [
        f"pricing: {result['rounds']} rounds, best of each; Python {result['python']}, "
        f"{result['cpus']} CPUs, {'quick' if result['quick'] else 'full'}",
        f"{'':<10} {'quotes/s':>12} {'us/quote':>10}",
    ]
    for name in ("bookcore", "baseline"):
        rate = result[f"{name}_quotes_per_s"]
        lines.append(f"{name:<10} {rate:>12,} {1e6 / rate:>10.2f}")
    lines += [
        f"slowdown (bookcore time / baseline time): {result['slowdown']:.2f}x",
        f"target >= {TARGET_QUOTES_PER_S:,} quotes/s: {verdict(targets['quotes_per_s']['met'])}",
        f"target slowdown <= {TARGET_SLOWDOWN:g}x: {verdict(targets['slowdown']['met'])}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pricing", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of ~0.1 s instead of 5 of ~0.5 s")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    arguments = parser.parse_args(argv)
    result = run(quick=arguments.quick)
    print(json.dumps(result) if arguments.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
