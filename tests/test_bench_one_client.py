"""The one-client payment profile runs end to end: both implementations pay, and it profiles bookcore's."""

from __future__ import annotations

import pytest

from bench import one_client


def test_the_profile_times_both_implementations_and_lists_finalize_payment(
        capsys: pytest.CaptureFixture[str]) -> None:
    one_client.main(["--payments", "5", "--top", "5"])
    out = capsys.readouterr().out
    assert out.count("baseline  wall") == 2
    assert out.count("bookcore  wall") == 2
    assert "bookcore under cProfile" in out
    assert "payments.py" in out and "(finalize_payment)" in out


def test_a_batch_of_no_payments_is_refused_before_anything_runs() -> None:
    with pytest.raises(SystemExit) as refused:
        one_client.main(["--payments", "0"])
    assert refused.value.code == 2
