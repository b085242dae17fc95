"""LOG_FORMAT=json: one JSON object per line, with the ticket a line is about."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import pytest

from bot.cli.main import main
from bot.telemetry.logs import about_ticket


@pytest.fixture
def json_lines(json_log: Callable[[str], io.StringIO]) -> io.StringIO:
    return json_log("test.logs")


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_inside_about_ticket_carries_it_with_its_traceback(json_lines: io.StringIO) -> None:
    log = logging.getLogger("test.logs")
    with about_ticket(42):
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            log.exception("row %s crashed", 7)
    log.warning("no ticket here")
    log.warning("named one", extra={"ticket": 9})
    crashed, plain, named = _lines(json_lines)
    assert crashed["ticket"] == 42 and crashed["message"] == "row 7 crashed"
    assert crashed["level"] == "ERROR" and crashed["logger"] == "test.logs"
    assert isinstance(crashed["exc_info"], str)
    assert crashed["exc_info"].startswith("Traceback") and "ValueError: boom" in crashed["exc_info"]
    assert str(crashed["time"]).endswith("+00:00")
    assert "ticket" not in plain and "exc_info" not in plain
    assert named["ticket"] == 9


def test_the_ticket_does_not_leak_past_its_block(json_lines: io.StringIO) -> None:
    log = logging.getLogger("test.logs")
    with about_ticket(1):
        with about_ticket(2):
            log.warning("inner")
        log.warning("outer")
    log.warning("after")
    assert [line.get("ticket") for line in _lines(json_lines)] == [2, 1, None]


def test_an_unknown_log_format_is_a_configuration_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "LOG_FORMAT must be text (the default) or json" in err and "yaml" in err
