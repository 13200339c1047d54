"""Start-up stays cheap: importing bookcore, or asking the CLI for help, loads only what it uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bookcore.adapters.sqlalchemy.drivers import driver_hint


def modules_after(code: str, cwd: Path | None = None) -> set[str]:
    """Every module a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd,
                          timeout=60, check=True)
    return set(done.stdout.split())


def loaded_after(code: str, cwd: Path | None = None) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running ``code``."""
    return {name.split(".")[0] for name in modules_after(code, cwd)}


def expire_on(url: str) -> str:
    return (f"import sys\nsys.argv = ['bookcore', '--database-url', {url!r}, 'expire']\n"
            "from bookcore.cli import main\ntry:\n    main()\nexcept SystemExit as stop:\n"
            "    assert not stop.code, stop.code")


def test_pricing_imports_no_database_library() -> None:
    assert loaded_after("import bookcore.pricing") & {"sqlalchemy", "alembic"} == set()


def test_import_bookcore_loads_neither_sqlalchemy_nor_alembic() -> None:
    assert loaded_after("import bookcore") & {"sqlalchemy", "alembic"} == set()


def test_the_storage_names_load_sqlalchemy_but_not_alembic() -> None:
    loaded = loaded_after("import bookcore\nbookcore.SqlAlchemyUnitOfWork\nbookcore.create_engine_for")
    assert "sqlalchemy" in loaded and "alembic" not in loaded


def test_every_public_name_resolves_lazily() -> None:
    import bookcore

    assert all(getattr(bookcore, name) is not None for name in bookcore.__all__)
    assert set(bookcore.__all__) <= set(dir(bookcore))
    with pytest.raises(AttributeError):
        bookcore.no_such_name  # noqa: B018


def test_cli_help_loads_no_database_library() -> None:
    code = ("import sys\nsys.argv = ['bookcore', '--help']\nfrom bookcore.cli import app\n"
            "try:\n    app(prog_name='bookcore')\nexcept SystemExit:\n    pass")
    assert loaded_after(code) & {"sqlalchemy", "alembic", "rich"} == set()


def test_migrate_keeps_alembic_out_of_an_app_log_at_info(tmp_path: Path) -> None:
    code = ("import logging\nlogging.basicConfig(level=logging.INFO)\n"
            "from bookcore import create_engine_for, current_revision, migrate\n"
            "engine = create_engine_for('sqlite:///app.db')\nmigrate(engine)\n"
            "assert current_revision(engine) is not None")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60, check=True)
    assert "alembic" not in done.stderr + done.stdout


def test_an_app_that_asks_for_alembic_logs_gets_them(tmp_path: Path) -> None:
    code = ("import logging\nlogging.basicConfig(level=logging.INFO)\n"
            "logging.getLogger('alembic').setLevel(logging.INFO)\n"
            "from bookcore import create_engine_for, migrate\nmigrate(create_engine_for('sqlite:///app.db'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60, check=True)
    assert "Running upgrade" in done.stderr


@pytest.mark.parametrize(("url", "hint"), [
    ("mysql://ops:pw@db/shop",
     "mysql:// means the mysqldb driver, which bookcore does not install; "
     "pip install 'bookcore[mysql]' and use mysql+pymysql://ops:***@db/shop"),
    ("postgresql+psycopg2://ops@db/shop",
     "postgresql+psycopg2:// means the psycopg2 driver, which bookcore does not install; "
     "pip install 'bookcore[postgres]' and use postgresql+psycopg://ops@db/shop"),
    ("postgresql+psycopg://ops@db/shop",
     "the psycopg driver is not installed; pip install 'bookcore[postgres]'"),
    ("mysql+pymysql://ops@db/shop", "the pymysql driver is not installed; pip install 'bookcore[mysql]'"),
])
def test_a_missing_driver_is_explained_with_the_url_to_use(url: str, hint: str) -> None:
    assert driver_hint(url) == hint


def test_expire_loads_neither_alembic_nor_rich_nor_a_server_driver(tmp_path: Path) -> None:
    from tests.cli_db import fresh_database

    loaded = loaded_after(expire_on(fresh_database("sqlite", tmp_path)))
    assert "sqlalchemy" in loaded
    assert loaded & {"alembic", "rich", "psycopg", "pymysql"} == set()


def test_expire_on_sqlite_loads_sqlite_but_not_postgresqls_dialect(tmp_path: Path) -> None:
    from tests.cli_db import fresh_database

    loaded = modules_after(expire_on(fresh_database("sqlite", tmp_path)))
    assert "sqlalchemy.dialects.sqlite" in loaded
    assert "sqlalchemy.dialects.postgresql" not in loaded


def test_no_public_name_is_shadowed_by_a_submodule_of_the_same_name() -> None:
    """Importing ``bookcore.x`` sets the package's attribute ``x`` to that module, so a public name
    loaded lazily must never share its name with a submodule."""
    import pkgutil

    import bookcore

    submodules = {module.name for module in pkgutil.iter_modules(bookcore.__path__)}
    assert submodules.isdisjoint(bookcore.__all__)
