"""Reading a Slack `message` event leniently: who sent it and its attachments, blocks and text.

Never raises on odd shapes (missing or mistyped keys are skipped). Imports only the standard library
and `bot.alerts.*`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.alerts.payload import VALUE_MAX, clean, clip, http_url

MESSAGE_SUBTYPES = (None, "bot_message")
MAX_ATTACHMENTS = 20
MAX_FIELDS = 50
MAX_BLOCKS = 50
_MAX_DEPTH = 6
# <https://x|label>, <https://x>, <@U123>, <!here>: Slack's mrkdwn references.
_REFERENCE = re.compile(r"<([^<>|\n]*)(?:\|([^<>\n]*))?>")
_MENTION = re.compile(r"!(?:here|channel|everyone|group|subteam\^)", re.IGNORECASE)
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


@dataclass(frozen=True)
class Attachment:
    title: str
    fallback: str
    pretext: str
    text: str
    fields: tuple[tuple[str, str], ...]  # (title, value)
    color: str  # lower-case, without "#"
    footer: str
    title_link: str | None
    button_urls: tuple[str, ...]


@dataclass(frozen=True)
class SlackMessage:
    ts: str | None
    text: str
    attachments: tuple[Attachment, ...]
    block_texts: tuple[str, ...]
    block_urls: tuple[str, ...]
    bot_id: str
    senders: tuple[str, ...]  # bot id, app id, bot user id, username, bot profile name
    is_bot: bool
    is_human: bool


def read_message(event: Mapping[str, object], *, legacy: bool = False) -> SlackMessage | None:
    """The posted (or, for `message_changed`, the edited) message; None for other subtypes.

    `legacy`: mentions read as words, as releases before mention stripping read them (only to
    find the alert groups those releases keyed).
    """
    if event.get("type", "message") != "message":
        return None
    subtype = event.get("subtype")
    message: Mapping[str, object] = event
    if subtype == "message_changed":
        message = _map(event.get("message"))
        subtype = message.get("subtype")
    if subtype not in MESSAGE_SUBTYPES:
        return None
    profile = _map(message.get("bot_profile"))
    bot_id = _str(message.get("bot_id"))
    user = _str(message.get("user"))
    senders = (
        bot_id,
        _str(message.get("app_id")),
        user,
        _str(message.get("username")),
        _str(profile.get("name")),
    )
    blocks = _list(message.get("blocks"))
    for attachment in _list(message.get("attachments"))[:MAX_ATTACHMENTS]:
        blocks = blocks + _list(_map(attachment).get("blocks"))  # Uptime Kuma puts them there
    blocks = blocks[:MAX_BLOCKS]
    is_bot = bool(bot_id) or subtype == "bot_message"
    return SlackMessage(
        ts=_str(message.get("ts")) or None,
        text=plain(_str(message.get("text")), legacy=legacy),
        attachments=tuple(
            _attachment(_map(raw), legacy)
            for raw in _list(message.get("attachments"))[:MAX_ATTACHMENTS]
        ),
        block_texts=tuple(
            text for block in blocks for text in _block_texts(block, 0, legacy) if text
        ),
        block_urls=tuple(url for block in blocks for url in _block_urls(block, 0)),
        bot_id=bot_id,
        senders=tuple(sender for sender in senders if sender),
        is_bot=is_bot,
        is_human=not is_bot and bool(user),
    )


def plain(text: str, *, legacy: bool = False) -> str:
    """mrkdwn references shown as their labels (`<url|label>` → label), mentions (`<!here>`,
    `<@U1>`, `<!subteam^S1|@team>`) dropped, entities decoded. `legacy`: see `read_message`."""
    text = _REFERENCE.sub(lambda m: _label(m, legacy), clip(text, VALUE_MAX))
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def _label(match: re.Match[str], legacy: bool) -> str:
    target, label = match.group(1), match.group(2)
    if not legacy and (target.startswith("@") or _MENTION.match(target)):
        return " "
    return label or target.lstrip("!@#")


def _attachment(raw: Mapping[str, object], legacy: bool) -> Attachment:
    fields = []
    for field in _list(raw.get("fields"))[:MAX_FIELDS]:
        item = _map(field)
        title = plain(_str(item.get("title")), legacy=legacy)
        value = plain(_str(item.get("value")), legacy=legacy)
        if title.strip() or value.strip():
            fields.append((title.strip(), value.strip()))
    buttons = (http_url(_str(_map(action).get("url"))) for action in _list(raw.get("actions")))
    return Attachment(
        title=plain(_str(raw.get("title")), legacy=legacy),
        fallback=plain(_str(raw.get("fallback")), legacy=legacy),
        pretext=plain(_str(raw.get("pretext")), legacy=legacy),
        text=plain(_str(raw.get("text")), legacy=legacy),
        fields=tuple(fields),
        color=_str(raw.get("color")).strip().lstrip("#").lower(),
        footer=plain(_str(raw.get("footer")), legacy=legacy),
        title_link=http_url(_str(raw.get("title_link"))),
        button_urls=tuple(url for url in buttons if url),
    )


def _block_texts(value: object, depth: int, legacy: bool) -> Iterator[str]:
    """Texts of header, section (text and fields), context and rich_text blocks; not buttons."""
    node = _map(value)
    if depth > _MAX_DEPTH or node.get("type") in ("actions", "button", "image"):
        return
    text = node.get("text")
    if isinstance(text, str):
        yield plain(text, legacy=legacy)
    elif isinstance(text, Mapping):
        yield from _block_texts(text, depth + 1, legacy)
    for key in ("fields", "elements"):
        for item in _list(node.get(key))[:MAX_FIELDS]:
            yield from _block_texts(item, depth + 1, legacy)


def _block_urls(value: object, depth: int) -> Iterator[str]:
    """URLs of link buttons, in actions blocks and section accessories."""
    node = _map(value)
    if depth > _MAX_DEPTH:
        return
    if node.get("type") == "button":
        url = http_url(_str(node.get("url")))
        if url:
            yield url
        return
    for item in [node.get("accessory"), *_list(node.get("elements"))[:MAX_FIELDS]]:
        yield from _block_urls(item, depth + 1)


def _str(value: object) -> str:
    return clean(value) if isinstance(value, str) else ""


def _map(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
