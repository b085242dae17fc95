"""What the sections share: their model config, how a key's text becomes a value (`parsed`), and
the value kinds several sections use (secrets, durations, delays)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from bot.config.parsers import CONTROL, parse_delay, parse_duration
from bot.config.problems import refuse, shown
from bot.config.secret import Secret

MODEL_CONFIG = ConfigDict(
    frozen=True,  # hashable, like the values it holds
    validate_by_name=True,  # Settings(port=8080) in code; the keys (PORT) from a mapping
    validate_by_alias=True,
    arbitrary_types_allowed=True,  # Secret, FrozenMap, …: checked with isinstance
    hide_input_in_errors=True,  # a ValidationError never quotes a value (it may be a secret)
    extra="forbid",
)


class Section(BaseModel):
    """One concern's keys: each field's alias is its key, and its annotation says how it is read."""

    model_config = MODEL_CONFIG


def parsed(parse: Callable[[str], Any], expected: str, *, echo: bool = True) -> BeforeValidator:
    """A key's text through `parse`, whose `ValueError` becomes "KEY {expected}, got 'text'" (the
    text left out unless `echo`: it may hold a password). Values built in code pass as they are."""

    def validate(value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return parse(value)
        except ValueError:
            raise refuse(f"{expected}, got {shown(value)}" if echo else expected) from None

    return BeforeValidator(validate)


def _secret(value: object) -> object:
    return Secret(value) if isinstance(value, str) else value


SecretText = Annotated[Secret, BeforeValidator(_secret)]


def _header_token(value: object) -> object:
    if isinstance(value, str) and CONTROL.search(value):
        raise refuse("must not contain control characters")
    return _secret(value)


# A token compared with an HTTP header: a control character could never match (or would inject).
HeaderToken = Annotated[Secret, BeforeValidator(_header_token)]
Duration = Annotated[
    timedelta, parsed(parse_duration, "must be a positive duration such as 90s, 5m, 2h or 1d")
]
# A reminder's or auto-close's delay: `0` turns it off (timedelta(0)).
Delay = Annotated[
    timedelta,
    parsed(parse_delay, "must be a duration such as 90s, 5m, 2h or 1d, or 0 to turn it off"),
]
