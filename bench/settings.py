"""How big and how long each benchmark runs: the full settings for the docs, the quick ones for CI."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Settings:
    quick: bool
    #: Client processes per throughput point; each builds its own engine and connections.
    client_counts: tuple[int, ...]
    #: Seconds each implementation runs in each round of a point; completed calls are counted.
    seconds_per_round: float
    #: Rounds of every point; each round runs the three implementations back to back, and the
    #: one that goes first turns from round to round. A ratio is the median of the rounds' ratios.
    rounds: int
    #: Lapsed holds each expiry sweep expires (live holds beside them must stay).
    expire_sizes: tuple[int, ...]
    #: ``batch_size`` given to ``expire_holds`` (one transaction per batch); the ORM sweep's too.
    expire_batch_size: int
    #: Items the "spread" shape rotates over (and as many paying customers).
    spread_items: int = 1000
    #: Paid bookings (with payments and ledger lines) in each table set before any point runs,
    #: analyzed: a live app's tables are neither empty nor planned as if they were.
    background_bookings: int = 50_000
    #: Calls each client makes before the timed window (pools, statement caches, imports).
    warmup_calls: int = 5
    #: Live holds loaded beside the lapsed ones, as a share of them.
    live_share: float = 0.1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Settings(quick=False, client_counts=(1, 4, 16), seconds_per_round=2.0, rounds=3,
                expire_sizes=(100_000, 1_000_000), expire_batch_size=10_000)

QUICK = Settings(quick=True, client_counts=(1, 4), seconds_per_round=0.3, rounds=1,
                 expire_sizes=(2_000,), expire_batch_size=500, spread_items=50, warmup_calls=2,
                 background_bookings=2_000)
