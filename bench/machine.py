"""What the figures ran on: hardware, Python, drivers, database versions and their durability settings."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.backends import Backend


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def describe() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(), "cpu_model": _cpu_model(), "memory_gb": _memory_gb(),
        "platform": platform.platform(), "python": sys.version.split()[0],
        "packages": {name: version(name) for name in ("sqlalchemy", "psycopg", "pydantic", "django")},
        "load_average": list(os.getloadavg()),
    }


def describe_backend(backend: Backend) -> dict[str, Any]:
    """The server or library version and the settings that decide what a commit costs."""
    return {"version": backend.version(), **backend.settings()}
