"""`Secret`: a setting's value kept out of repr, str, f-strings and logs until `reveal()`."""

from __future__ import annotations

import hmac


class Secret:
    """A string hidden from `repr`, `str`, f-strings and logs; `reveal()` hands it to the SDK."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # os.environ may hold lone surrogates (undecodable bytes); keep them comparable.
        mine = self._value.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(mine, other._value.encode("utf-8", "surrogatepass"))

    def __hash__(self) -> int:
        return hash((Secret, self._value))
