"""The documentation as a newcomer meets it: every Python snippet runs as pasted, and every public
name is documented with its signature."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bookcore

ROOT = Path(__file__).resolve().parents[1]
# docs/benchmarks*.md describe the benchmark harness and are checked with it.
DOCUMENTS = [ROOT / "README.md", *sorted(path for path in (ROOT / "docs").glob("*.md")
                                         if not path.name.startswith("benchmarks"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def snippets() -> list[object]:
    found: list[object] = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(pytest.param(match[1], id=f"{document.relative_to(ROOT)}:{line}"))
    return found


def test_the_docs_have_python_snippets_to_check() -> None:
    assert len(snippets()) >= 3


@pytest.mark.parametrize("code", snippets())
def test_every_python_snippet_runs_as_written(code: str, tmp_path: Path) -> None:
    # A fresh interpreter in an empty directory: what pasting it into a new file does.
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_every_public_name_is_in_the_api_reference() -> None:
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", api))
    assert sorted(set(bookcore.__all__) - documented) == []


PUBLIC_FUNCTIONS = sorted(name for name in bookcore.__all__ if inspect.isfunction(getattr(bookcore, name)))


def test_there_are_public_functions_to_check() -> None:
    assert {"place_hold", "migrate", "quantize"} <= set(PUBLIC_FUNCTIONS)


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_public_functions_are_documented_with_every_parameter(name: str) -> None:
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = re.search(rf"`{name}\(([^`]*)\)", api)
    assert documented, f"docs/api.md has no `{name}(...)` signature"
    parameters = inspect.signature(getattr(bookcore, name)).parameters
    assert [p for p in parameters if not re.search(rf"\b{p}\b", documented[1])] == [], name


GONE = ("turnstile", "group commit", "group_commit", "fair_after", "shared writer", "prepared")
# "session" alone is fine (a database session); a numbered or "this" session is project history.
HISTORY = re.compile(r"\b(this|that|previous|last|next|\w+(st|nd|rd|th)) session\b")


def test_the_docs_describe_the_product_not_how_it_was_built() -> None:
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8").lower()
        assert [word for word in GONE if word in text] == [], document.name
        assert HISTORY.search(text) is None, (document.name, HISTORY.search(text))
