"""The Teams app package for `ticketbot manifest --teams`: manifest.json (schema v1.30) and the
two icons it names, zipped ready to upload. Reads no settings itself: the CLI passes them in."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.teams import png

MANIFEST_VERSION = "1.30"
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
ACCENT = (0x1F, 0x5F, 0xA8)  # the color icon's background, and accentColor
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SCOPES = ("personal", "team", "groupChat")
COMMANDS = (
    ("ticket", "ticket <title> opens a ticket at once; ticket alone opens the New ticket form"),
    ("list", "Your company's open tickets"),
    ("status", "status <id>: where a ticket stands, and who is on it"),
    ("help", "What I can do, and how to reach a technician"),
)
# Lets the bot receive every message in the channels of a team it is installed in, not only the
# ones that @mention it: technicians reply in a ticket card's thread without mentioning the bot.
RSC_PERMISSIONS = ({"name": "ChannelMessage.Read.Group", "type": "Application"},)
# Zip entries get a fixed timestamp so the same settings always give the same package.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


class PackageError(ValueError):
    """The package cannot be built from these settings; the message says which one and why."""


@dataclass(frozen=True)
class PackageSpec:
    app_id: str  # the Azure Bot's Microsoft App ID (TEAMS_APP_ID)
    base_url: str  # https://HOST, where /api/messages is served
    app_version: str = "1.0.0"
    name: str = "ticketbot"


def check(spec: PackageSpec) -> list[str]:
    """Every problem with `spec`, in plain words (empty when it can be built)."""
    problems = []
    if not GUID.match(spec.app_id.strip()):
        problems.append(
            "the bot's app id must be the Azure Bot's Microsoft App ID, a GUID like "
            "0a1b2c3d-1111-2222-3333-444455556666 (set TEAMS_APP_ID or give --app-id)"
        )
    parts = urlsplit(spec.base_url.strip())
    if parts.scheme != "https" or not parts.hostname:
        problems.append(
            "--url must be the bot's public https:// address (Teams posts to "
            "https://HOST/api/messages and accepts no plain http)"
        )
    if not re.fullmatch(r"\d+\.\d+\.\d+", spec.app_version):
        problems.append(f"--app-version {spec.app_version!r} must look like 1.0.0")
    if not spec.name.strip() or len(spec.name.strip()) > 30:
        problems.append("the app name must be 1 to 30 characters")
    return problems


def manifest(spec: PackageSpec) -> dict[str, Any]:
    """manifest.json for `spec` (raises PackageError when `check` finds problems)."""
    problems = check(spec)
    if problems:
        raise PackageError("\n".join(problems))
    app_id = spec.app_id.strip().lower()
    base = spec.base_url.strip().rstrip("/")
    host = urlsplit(base).hostname or ""
    name = spec.name.strip()
    commands = [{"title": title, "description": text} for title, text in COMMANDS]
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": spec.app_version,
        "id": app_id,
        "developer": {
            "name": name,
            "websiteUrl": base,
            "privacyUrl": base,
            "termsOfUseUrl": base,
        },
        "name": {"short": name, "full": f"{name}: IT helpdesk"},
        "description": {
            "short": "Open and follow IT tickets with your managed-service provider",
            "full": (
                "Open IT tickets in a chat with the bot or by mentioning it in your company's "
                "channel, and follow every update, onsite visit and resolution there. "
                "Technicians get each ticket as a card in their own channel, claim it, "
                "dispatch help and resolve it without leaving Teams."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": list(SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": [scope], "commands": commands} for scope in SCOPES],
            }
        ],
        # Clients' employees often reach the MSP through a shared channel (Teams Connect).
        # Private channels are left out: bots cannot post in them.
        "supportedChannelTypes": ["sharedChannels"],
        "validDomains": [host],
        # RSC needs webApplicationInfo with the app id; Teams ignores `resource` for RSC but
        # rejects the manifest without one.
        "webApplicationInfo": {"id": app_id, "resource": f"api://{host}/{app_id}"},
        "authorization": {"permissions": {"resourceSpecific": [dict(p) for p in RSC_PERMISSIONS]}},
    }


def package(spec: PackageSpec) -> bytes:
    """The zip to upload: manifest.json, color.png (192×192) and outline.png (32×32)."""
    files = {
        "manifest.json": json.dumps(manifest(spec), indent=2).encode() + b"\n",
        "color.png": color_icon(),
        "outline.png": outline_icon(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.external_attr = 0o644 << 16  # rw-r--r-- when unzipped
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def color_icon(size: int = 192) -> bytes:
    """A white ticket on the accent color, full bleed (Teams rounds the corners itself)."""
    white, background = (255, 255, 255, 255), (*ACCENT, 255)
    return png.encode(size, size, lambda x, y: white if _ticket(x, y, size) else background)


def outline_icon(size: int = 32) -> bytes:
    """The same ticket, white on transparent: Teams accepts only those two in an outline icon."""
    white, clear = (255, 255, 255, 255), (0, 0, 0, 0)
    return png.encode(size, size, lambda x, y: white if _ticket(x, y, size) else clear)


def _ticket(x: int, y: int, size: int) -> bool:
    """Is pixel (x, y) inside the glyph: a ticket with a notch in each side and a perforation."""
    u, v = (x + 0.5) / size, (y + 0.5) / size
    if not (0.16 <= u <= 0.84 and 0.28 <= v <= 0.72):
        return False
    for cx in (0.16, 0.84):
        if (u - cx) ** 2 + (v - 0.5) ** 2 <= 0.09**2:
            return False
    perforation = 0.39 <= u <= 0.43 and int((v - 0.28) / 0.055) % 2 == 1
    return not perforation
