"""docs/testing.md's snippets run as written."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from bookcore.testing import BookcoreInvariants, run_invariants

SNIPPETS = re.findall(r"```python\n(.*?)```",
                      (Path(__file__).parents[1] / "docs" / "testing.md").read_text(encoding="utf-8"),
                      re.S)


def run(snippet: str) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "docs_testing"}
    exec(snippet, namespace)
    return namespace


def test_the_apps_invariants_run_on_its_configuration() -> None:
    namespace = run(SNIPPETS[0])
    machine = namespace["ShopInvariants"]
    assert isinstance(machine, type) and issubclass(machine, BookcoreInvariants)
    assert namespace["TestShopInvariants"] is machine.TestCase
    result = run_invariants(machine, max_examples=5, steps=15)
    assert result.machines >= 5 and result.steps > 0


def test_the_property_test_with_the_strategies_passes() -> None:
    test = run(SNIPPETS[1])["test_our_quotes_add_up"]
    assert callable(test)
    check: Callable[[], None] = test
    check()
