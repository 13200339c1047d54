"""The core knows no web framework: only ``bookcore.contrib`` may import one, and importing
bookcore (every public name, and the CLI) loads none."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "bookcore"
FRAMEWORKS = frozenset({"django", "fastapi", "starlette", "flask", "werkzeug", "httpx", "asgiref"})


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.partition(".")[0])
    return roots


def test_no_module_outside_contrib_imports_a_web_framework() -> None:
    core = [path for path in PACKAGE.rglob("*.py") if "contrib" not in path.relative_to(PACKAGE).parts]
    assert len(core) > 20
    offenders = {str(path.relative_to(PACKAGE)): sorted(imported_roots(path) & FRAMEWORKS)
                 for path in core if imported_roots(path) & FRAMEWORKS}
    assert offenders == {}


def test_the_django_integration_is_where_django_is_imported() -> None:
    assert "django" in imported_roots(PACKAGE / "contrib" / "django" / "unit_of_work.py")


def test_importing_bookcore_loads_no_web_framework() -> None:
    code = ("import json, sys, bookcore, bookcore.cli\n"
            "[getattr(bookcore, name) for name in bookcore.__all__]\n"
            "print(json.dumps(sorted(name for name in sys.modules\n"
            f"                        if name.partition('.')[0] in {sorted(FRAMEWORKS)!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=120)
    assert json.loads(done.stdout) == []
