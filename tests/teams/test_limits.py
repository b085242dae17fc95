from __future__ import annotations

import pytest

from bot.messages.escape import TRUNCATION_MARKER
from bot.teams.limits import card_size, cut_to, encoded_size, fit_card


def _card(*texts: str, **extra: object) -> dict[str, object]:
    body: list[object] = [{"type": "TextBlock", "text": t} for t in texts]
    return {"type": "AdaptiveCard", "version": "1.5", "body": body, **extra}


def test_a_card_within_the_limit_is_unchanged() -> None:
    card = _card("short", "x" * 500)
    assert fit_card(_card("short", "x" * 500), 10_000) == card


def test_the_longest_text_is_cut_first_and_visibly() -> None:
    card = fit_card(_card("keep me " * 10, "a" * 5000, "b" * 2000), 3000)
    texts = [b["text"] for b in card["body"]]  # type: ignore[index, union-attr]
    assert texts[0] == "keep me " * 10
    assert texts[1].endswith(TRUNCATION_MARKER)
    assert card_size(card) <= 3000


def test_sizes_count_escaped_characters() -> None:
    assert encoded_size("🔥") == 12  # \\ud83d\\ude4f
    assert encoded_size("é") == 6
    card = fit_card(_card("🔥" * 5000), 2000)
    assert card_size(card) <= 2000


def test_data_values_and_mentions_are_never_cut() -> None:
    data = {"ticket": 1, "value": "v" * 3000}
    card = _card(
        "<at>Technicians</at> " + "m" * 3000,
        "t" * 3000,
        actions=[{"type": "Action.Execute", "verb": "x", "data": data, "title": "Go"}],
    )
    fitted = fit_card(card, 7000)
    assert fitted["body"][0]["text"].startswith("<at>Technicians</at> m")  # type: ignore[index]
    assert fitted["body"][0]["text"].endswith("m")  # type: ignore[index]
    assert fitted["actions"][0]["data"] == data  # type: ignore[index]


def test_a_card_that_cannot_fit_is_an_error() -> None:
    with pytest.raises(ValueError, match="nothing left to cut"):
        fit_card(_card(*(["short"] * 1000)), 2000)


def test_cut_to_keeps_what_fits() -> None:
    assert cut_to("abc", 10) == "abc"
    assert cut_to("abcdefghij", 8, "…") == "ab…"  # "…" counts 6 when escaped
    assert cut_to("abcdefghij", 0, "…") == "a…"
