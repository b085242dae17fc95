"""`MappingSource`: the settings' keys read from a given mapping, never from `os.environ` itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource


def key_of(name: str, field: FieldInfo) -> str:
    """The key a field is read from: its validation alias."""
    alias = field.validation_alias
    return alias if isinstance(alias, str) else name


class MappingSource(PydanticBaseSettingsSource):
    """Each field's key, exactly as spelled, from the mapping the CLI passes (`os.environ` after
    `load_dotenv`, or `dotenv_values()`): values stripped, blank or None ones (a bare `KEY` line)
    unset, no JSON decoding, other keys ignored."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str | None]) -> None:
        super().__init__(settings_cls)
        self._env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        key = key_of(field_name, field)
        value = self._env.get(key)
        text = value.strip() if value is not None else ""
        return text or None, key, False

    def __call__(self) -> dict[str, Any]:
        """The keys that are set, with their stripped text."""
        given: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                given[key] = value
        return given
