"""How a settings problem is worded and reported: one line per problem, starting with its key,
never quoting a secret, every problem at once (`ConfigError`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from pydantic import ValidationError
from pydantic_core import PydanticCustomError


class ConfigError(Exception):
    """Missing or invalid configuration: `problems` has one line each, never with a secret."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(self.problems)


class Problem(NamedTuple):
    key: str  # the key it is about: problems are listed in the order of the keys
    text: str  # the whole line, starting with a key's name


def refuse(*problems: str) -> PydanticCustomError:
    """What a settings validator raises: each problem phrased to follow the key's name."""
    return PydanticCustomError("setting", "{problems}", {"problems": "\n".join(problems)})


def refused(error: ValidationError) -> list[Problem]:
    """The problems of the keys a section refused, as their validators phrased them."""
    found: list[Problem] = []
    for detail in error.errors(include_url=False, include_input=False):
        key = str(detail["loc"][0])
        found.extend(Problem(key, f"{key} {line}") for line in detail["msg"].splitlines())
    return found


def shown(value: str, limit: int = 60) -> str:
    """A non-secret value quoted for an error message: one line (repr escapes CR/LF), bounded."""
    if len(value) > limit:
        value = value[:limit] + "…"
    return repr(value)
