"""`ticketbot report` in each format on SQLite and PostgreSQL, to stdout and to a file; a bad
client or month is a clear message and exit code 2."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.main import main
from tests.reports.month_fixture import ACME, MONTH, TZ, write_month


@pytest.fixture
def month_env(
    database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> str:
    with sessions.begin() as s:
        write_month(s)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TICKETBOT_TIMEZONE", TZ)
    return database_url


def test_text_of_every_client_and_the_overall(
    month_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--month", MONTH]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Ticket report, November 2026 (Europe/Berlin)")
    for name in (ACME, "Globex", "No client", "Overall"):
        assert f"\n{name}\n" in out
    assert "Tickets opened            7 (1 cancelled)" in out


def test_csv_of_one_client(month_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--client", "GLOBEX", "--month", MONTH, "--format", "csv"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["client"], row["opened"], row["resolve_sla_hits"]) == ("Globex", "1", "0")
    assert row["resolve_mean_minutes"] == "2880.0"


def test_html_to_a_file(month_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "acme.html"
    args = ["--client", ACME, "--month", MONTH, "--format", "html", "--output", str(out)]
    assert main(["report", *args]) == 0
    assert capsys.readouterr().out == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "Acme &lt;b&gt;Corp&lt;/b&gt; &amp; &quot;Sons&quot; &lt;!channel&gt;" in page
    assert (
        "<b>" not in page
        and "<script" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


def test_an_unknown_client_exits_2_naming_it(
    month_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--client", "Initech", "--month", MONTH]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "ticketbot: There is no client named 'Initech'.\n"


@pytest.mark.parametrize("month", ["2026-13", "Nov-2026"])
def test_a_bad_month_exits_2_saying_what_a_month_looks_like(
    month: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    assert main(["report", "--month", month]) == 2
    assert capsys.readouterr().err == f"ticketbot: --month: {month!r} is not a month like 2026-11\n"


def test_a_bad_format_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "--format", "pdf"])
    assert exc.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err
