"""Checks every Teams card against the vendored Adaptive Card 1.5 schema and Teams' limits."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import best_match

from bot.teams.limits import MAX_ACTIONS, MAX_CARD_BYTES, card_size

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "schemas" / "adaptive-card-1.5.json").read_text("utf-8")
)
Draft6Validator.check_schema(SCHEMA)
_VALIDATOR = Draft6Validator(SCHEMA)
_BOUND_AT = re.compile(r"<at>", re.IGNORECASE)


def walk(value: Any) -> list[Any]:
    """Every dict and string inside `value`, depth first."""
    out: list[Any] = [value]
    if isinstance(value, dict):
        for item in value.values():
            out += walk(item)
    elif isinstance(value, list):
        for item in value:
            out += walk(item)
    return out


def strings(card: dict[str, Any]) -> list[str]:
    return [s for s in walk(card) if isinstance(s, str)]


def display_texts(card: dict[str, Any]) -> list[str]:
    """Every text Teams renders as markdown (where a mention could bind): TextBlocks and facts.

    Input values are excluded: Teams shows them as typed, and binds no mention there.
    """
    out: list[str] = []
    for node in walk(card):
        if isinstance(node, dict) and node.get("type") == "TextBlock":
            out.append(node["text"])
        elif isinstance(node, dict) and node.get("type") == "FactSet":
            out += [s for fact in node["facts"] for s in (fact["title"], fact["value"])]
    return out


def _version(kind: str) -> tuple[int, ...]:
    definition = SCHEMA["definitions"].get(kind, {})
    return tuple(int(p) for p in str(definition.get("version", "1.0")).split("."))


def validate_card(card: dict[str, Any], *, mentions: int = 0) -> None:
    """Schema-valid, within MAX_CARD_BYTES, 1.5 elements only, ≤ 6 actions a set, unique input ids,
    and exactly `mentions` mention entities in `msteams` (Teams' extension, outside the schema)."""
    content = {k: v for k, v in card.items() if k != "msteams"}
    error = best_match(_VALIDATOR.iter_errors(content))
    assert error is None, f"{error.message} at {list(error.absolute_path)}"
    assert card["version"] == "1.5"
    assert card_size(card) <= MAX_CARD_BYTES
    nodes = [n for n in walk(content) if isinstance(n, dict)]
    for node in nodes:
        kind = node.get("type")
        if isinstance(kind, str) and kind in SCHEMA["definitions"]:
            assert _version(kind) <= (1, 5), kind
        if kind == "ActionSet":
            assert len(node["actions"]) <= MAX_ACTIONS
    assert len(card.get("actions", [])) <= MAX_ACTIONS
    input_ids = [n["id"] for n in nodes if str(n.get("type", "")).startswith("Input.")]
    assert len(input_ids) == len(set(input_ids)), input_ids
    assert all(input_ids)
    msteams = card.get("msteams", {})
    assert set(msteams) <= {"width", "entities"}
    entities = msteams.get("entities", [])
    assert len(entities) == mentions
    bound = sum(len(_BOUND_AT.findall(s)) for s in display_texts(content))
    assert bound == mentions, "an <at> tag that an entity could bind"
    for entity in entities:
        assert entity["type"] == "mention"
        assert entity["mentioned"]["type"] in ("channel", "team", "tag")
        assert any(entity["text"] in s for s in strings(content))
