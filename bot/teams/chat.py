"""Teams delivery: outbox messages as Bot Connector activities, sent to the right conversation,
thread and regional service URL; 1:1 chats opened on first use."""

from __future__ import annotations

from collections.abc import Callable

from bot.messages.view import TeamsMessage
from bot.outbox.errors import DeliveryError
from bot.teams.cards import CONTENT_TYPE
from bot.teams.connector import BotConnectorGateway
from bot.teams.conversations import ConversationRef, TeamsConversations, split_thread

# A person's Teams ids as stored: (Bot Framework id 29:…, tenant id), None when never seen.
PersonLookup = Callable[[str], tuple[str, str | None] | None]


def has_threads(conversation: str) -> bool:
    """Channel conversations have threads; 1:1 and group chats do not."""
    return conversation.endswith(("@thread.tacv2", "@thread.skype"))


def activity(msg: TeamsMessage) -> dict[str, object]:
    """A message activity carrying the card. Text only with a mention: Teams binds a mention to
    `<at>…</at>` in the text, and would otherwise show the text above the card."""
    body: dict[str, object] = {
        "type": "message",
        "summary": msg.text,
        "attachments": [{"contentType": CONTENT_TYPE, "content": msg.card}],
    }
    if msg.entities:
        body["text"] = msg.text
        body["entities"] = msg.entities
    return body


class TeamsChat:
    """Posts, updates and deletes in Teams conversations, by conversation id alone."""

    def __init__(
        self,
        gateway: BotConnectorGateway,
        conversations: TeamsConversations,
        people: PersonLookup,
        *,
        service_url: str,
        tenant_id: str,
    ) -> None:
        self._gateway = gateway
        self._conversations = conversations
        self._people = people
        self._service_url = service_url
        self._tenant_id = tenant_id

    def post(
        self, conversation: str, msg: TeamsMessage, *, thread: str | None = None
    ) -> tuple[str, str]:
        """A new message (in `thread`, or the thread named in `conversation`, where the
        conversation has threads); returns (conversation without thread, activity id)."""
        base, root = split_thread(conversation)
        root = thread or root
        url = self._url(base)
        if root and has_threads(base):
            return base, self._gateway.reply(base, root, activity(msg), service_url=url)
        return base, self._gateway.send(base, activity(msg), service_url=url)

    def update(self, conversation: str, activity_id: str, msg: TeamsMessage) -> None:
        base, _ = split_thread(conversation)
        self._gateway.update(base, activity_id, activity(msg), service_url=self._url(base))

    def delete(self, conversation: str, activity_id: str) -> None:
        base, _ = split_thread(conversation)
        self._gateway.delete(base, activity_id, service_url=self._url(base))

    def personal(self, aad_id: str) -> str:
        """The 1:1 chat with a person (the app must be installed for them: Teams refuses
        otherwise, and the row is parked with Teams' reason)."""
        known = self._conversations.personal(aad_id)
        if known is not None:
            return known.id
        found = self._people(aad_id)
        if found is None:
            raise DeliveryError(
                "cannot open a Teams chat with a person the bot has never seen in Teams",
                transient=False,
            )
        user_id, tenant = found
        tenant = tenant or self._tenant_id
        conversation = self._gateway.create_personal(
            user_id, tenant_id=tenant, service_url=self._service_url
        )
        self._conversations.remember(
            ConversationRef(
                id=conversation,
                service_url=self._service_url,
                tenant_id=tenant,
                kind="personal",
                user_aad_id=aad_id,
            )
        )
        return conversation

    def _url(self, conversation: str) -> str:
        """Where the conversation is served: as its last activity said; else the configured
        service URL (a conversation the bot starts itself)."""
        ref = self._conversations.get(conversation)
        return ref.service_url if ref is not None else self._service_url
