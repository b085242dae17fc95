"""`ticketbot manifest --teams`: the app package zip, its manifest.json and its two icons."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.cli.main import main
from bot.teams.manifest import MANIFEST_VERSION, SCHEMA_URL, PackageSpec, package

APP_ID = "0a1b2c3d-1111-2222-3333-444455556666"
SCHEMA = Path(__file__).parents[1] / "schemas" / f"teams-manifest-v{MANIFEST_VERSION}.schema.json"


def _build(tmp_path: Path, *extra: str) -> zipfile.ZipFile:
    out = tmp_path / "app.zip"
    argv = ["manifest", "--teams", "--url", "https://helpdesk.msp.example", "--out", str(out)]
    assert main(argv + list(extra)) == 0
    return zipfile.ZipFile(out)


def _manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    data = json.loads(zf.read("manifest.json"))
    assert isinstance(data, dict)
    return data


def _png(data: bytes) -> tuple[int, int, int, int, list[bytes]]:
    """(width, height, bit depth, color type, rows of pixels) after checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + width * 4
    assert len(raw) == height * stride
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)  # filter None: the bytes are the pixels
    return width, height, depth, color, [row[1:] for row in rows]


def _pixels(rows: list[bytes]) -> set[tuple[int, ...]]:
    return {tuple(row[i : i + 4]) for row in rows for i in range(0, len(row), 4)}


def test_package_holds_the_manifest_and_both_icons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zf = _build(tmp_path, "--app-id", APP_ID)

    assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert zf.testzip() is None
    assert "wrote" in capsys.readouterr().out


def test_manifest_validates_against_the_teams_schema(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    data = _manifest(_build(tmp_path, "--app-id", APP_ID))

    # The schema says draft-04 but relies on `const` (draft 6+); draft 7 enforces both.
    jsonschema.Draft7Validator(schema).validate(data)
    assert data["$schema"] == SCHEMA_URL
    assert (
        data["manifestVersion"]
        == MANIFEST_VERSION
        == schema["properties"]["manifestVersion"]["const"]
    )


def test_manifest_declares_the_bot_its_commands_and_the_rsc_permission(tmp_path: Path) -> None:
    data = _manifest(_build(tmp_path, "--app-id", APP_ID.upper()))

    [bot] = data["bots"]
    assert bot["botId"] == APP_ID == data["id"] == data["webApplicationInfo"]["id"]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["supportsFiles"] is False
    for command_list in bot["commandLists"]:
        titles = [c["title"] for c in command_list["commands"]]
        assert titles == ["ticket", "list", "status", "help"]
        assert all(c["description"] for c in command_list["commands"])
    assert sorted(s for cl in bot["commandLists"] for s in cl["scopes"]) == sorted(bot["scopes"])
    assert data["validDomains"] == ["helpdesk.msp.example"]
    assert data["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"}
    ]
    assert data["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_app_id_comes_from_teams_app_id_when_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)

    assert _manifest(_build(tmp_path))["bots"][0]["botId"] == APP_ID


def test_color_icon_is_a_192_pixel_rgba_png(tmp_path: Path) -> None:
    zf = _build(tmp_path, "--app-id", APP_ID)

    width, height, depth, color, rows = _png(zf.read("color.png"))

    assert (width, height, depth, color) == (192, 192, 8, 6)
    pixels = _pixels(rows)
    assert (255, 255, 255, 255) in pixels and len(pixels) == 2
    assert all(p[3] == 255 for p in pixels)  # opaque, full bleed


def test_outline_icon_is_32_pixels_white_on_transparent(tmp_path: Path) -> None:
    zf = _build(tmp_path, "--app-id", APP_ID)

    width, height, depth, color, rows = _png(zf.read("outline.png"))

    assert (width, height, depth, color) == (32, 32, 8, 6)
    assert _pixels(rows) == {(255, 255, 255, 255), (0, 0, 0, 0)}
    assert rows[0] == bytes(32 * 4)  # a transparent border


def test_the_same_settings_give_the_same_package() -> None:
    spec = PackageSpec(app_id=APP_ID, base_url="https://helpdesk.msp.example")

    assert package(spec) == package(spec)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--url", "https://h.example"], "TEAMS_APP_ID"),
        (["--url", "https://h.example", "--app-id", "my-bot"], "GUID"),
        (["--url", "http://h.example", "--app-id", APP_ID], "https://"),
        (["--app-id", APP_ID], "--url"),
        (["--url", "https://h.example", "--app-id", APP_ID, "--app-version", "2"], "1.0.0"),
    ],
)
def test_bad_settings_are_refused_in_plain_words_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    out = tmp_path / "app.zip"

    assert main(["manifest", "--teams", "--out", str(out), *argv]) == 2

    assert says in capsys.readouterr().err
    assert not out.exists()


def test_unwritable_output_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing-dir" / "app.zip"
    argv = ["manifest", "--teams", "--url", "https://h.example", "--app-id", APP_ID]

    assert main([*argv, "--out", str(out)]) == 2

    assert "cannot write" in capsys.readouterr().err


def test_slack_manifest_is_unchanged_without_teams(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--url", "https://bot.example.net"]) == 0
    assert "https://bot.example.net/slack/events" in capsys.readouterr().out
