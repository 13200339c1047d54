"""Which database driver a URL needs, and what to install or write instead when it is missing."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy.engine import URL, make_url


class Driver(NamedTuple):
    dialect: str
    """The URL's scheme for this driver, e.g. ``postgresql+psycopg``."""
    extra: str
    """The bookcore extra that installs it."""


#: The drivers bookcore's extras install, by the backend they serve.
SHIPPED: dict[str, Driver] = {
    "postgresql": Driver("postgresql+psycopg", "postgres"),
    "mysql": Driver("mysql+pymysql", "mysql"),
    "mariadb": Driver("mariadb+pymysql", "mysql"),
    "cockroachdb": Driver("cockroachdb+psycopg", "cockroachdb"),
}


def driver_hint(url: str | URL) -> str:
    """What to do when ``url``'s driver cannot be imported, e.g. for ``mysql://u@db/shop``:
    "mysql:// means the MySQLdb driver, which bookcore does not install; pip install
    'bookcore[mysql]' and use mysql+pymysql://u@db/shop"."""
    parsed = make_url(url)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    shipped = SHIPPED.get(backend)
    if shipped is None:
        return (f"the {driver} driver for {backend} is not installed; bookcore's extras install "
                f"{', '.join(d.dialect for d in SHIPPED.values())} drivers")
    install = f"pip install 'bookcore[{shipped.extra}]'"
    if parsed.drivername == shipped.dialect:
        return f"the {driver} driver is not installed; {install}"
    suggested = parsed.set(drivername=shipped.dialect).render_as_string(hide_password=True)
    return (f"{parsed.drivername}:// means the {driver} driver, which bookcore does not install; "
            f"{install} and use {suggested}")
