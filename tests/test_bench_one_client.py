"""The one-client profile runs end to end: both implementations run the operation, the rows they
wrote are checked, and bookcore's run is profiled, for payments and holds, on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from bench import one_client
from tests.backends import server_url

_LISTED = {"payments": ("payments.py", "(finalize_payment)"), "holds": ("holds.py", "(place_hold)")}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("operation", ["payments", "holds"])
def test_the_profile_times_both_implementations_and_lists_bookcores_function(
        operation: str, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    if backend == "postgres":
        server_url("postgres")  # skips when unset; the tool reads the same variable
    one_client.main(["--operation", operation, "--backend", backend, "--count", "5", "--top", "5"])
    out = capsys.readouterr().out
    unit = operation.removesuffix("s")
    assert out.count("baseline  wall") == 2 and out.count("bookcore  wall") == 2
    assert out.count(f"µs per {unit}\n") == 5
    assert "bookcore under cProfile" in out
    module, function = _LISTED[operation]
    assert module in out and function in out


def test_the_old_spelling_of_the_count_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    one_client.main(["--payments", "3", "--top", "0"])
    assert capsys.readouterr().out.count("µs per payment\n") == 5


@pytest.mark.parametrize("argument", [["--count", "0"], ["--payments", "0"], ["--top", "-1"],
                                      ["--operation", "refunds"]])
def test_bad_arguments_are_refused_before_anything_runs(argument: list[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        one_client.main(argument)
    assert refused.value.code == 2


def test_postgres_without_a_url_is_refused_with_the_variable_to_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import backends

    for name in backends.URL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="BOOKCORE_TEST_POSTGRES_URL"):
        one_client.main(["--backend", "postgres"])
