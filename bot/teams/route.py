"""What each Teams outbox kind does: the channel card, thread and DM posts, edits, mirrors; and
a row's message as Teams shows it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.view import SlackMessage, TeamsMention, TeamsMessage
from bot.outbox.claims import Claimed
from bot.outbox.errors import DeliveryError
from bot.outbox.pacing import PaceRule, paced
from bot.outbox.recorded import card_to_draw
from bot.outbox.route import Lane
from bot.outbox.shared import Outbox
from bot.service.views import ticket_view
from bot.teams import cards as adaptive
from bot.teams.chat import TeamsChat
from bot.teams.conversations import split_thread
from bot.teams.from_blocks import from_slack
from storage.models import Person

log = logging.getLogger(__name__)

# The outbox channel, and the name of its pace: the bot's posts per conversation.
CHANNEL = "teams"
# Teams allows a bot 7 messages a second per conversation but 60 in 30 seconds: 2 a second
# sustained; a little under it.
PACE = PaceRule(1.8, 4)


class TeamsRendering:
    """A row's message as a Teams card: rendered for Teams when written (`card`), else the
    Slack rendering translated; `ping` adds the technician channel's mention."""

    def __init__(
        self,
        *,
        reads: sessionmaker[Session],
        mention: Callable[[], TeamsMention | None] | None,
    ) -> None:
        self._reads = reads
        self._mention = mention

    def message(self, p: dict[str, Any]) -> TeamsMessage:
        if isinstance(p.get("card"), dict):
            return TeamsMessage(text=str(p.get("text") or ""), card=p["card"])
        msg = from_slack(
            SlackMessage(str(p.get("text") or ""), p.get("blocks") or []), self._names(p)
        )
        mention = self.mention() if p.get("ping") else None
        return adaptive.with_mention(msg, mention) if mention is not None else msg

    def mention(self) -> TeamsMention | None:
        """Who a critical card notifies in the technician channel (None: nobody)."""
        return self._mention() if self._mention is not None else None

    def _names(self, p: dict[str, Any]) -> dict[str, str]:
        """Slack id → name, for the Slack mentions a message carries (most carry none)."""
        if "<@" not in json.dumps(p):
            return {}
        with self._reads() as s:
            rows = s.execute(
                select(Person.slack_user_id, Person.name).where(Person.slack_user_id.is_not(None))
            ).all()
        return {sid: name for sid, name in rows if sid}


class TeamsRoute:
    def __init__(
        self,
        outbox: Outbox,
        *,
        chat: TeamsChat,
        tech_channel: str | None,
        rendering: TeamsRendering,
    ) -> None:
        self.paces: Mapping[str, PaceRule] = {CHANNEL: PACE}
        self.lanes: Mapping[str, Lane] = {}
        self._teams = chat
        self._tech_channel = tech_channel
        self._rendering = rendering
        self._paces = outbox.paces
        self._recorded = outbox.recorded("teams")
        self._reads = outbox.reads
        self._clock = outbox.clock

    def deliver(self, row: Claimed) -> dict[str, Any]:
        kind, p = row.kind, row.payload
        if row.interrupted and kind == "post":
            # The Bot Connector cannot be searched for an earlier post (a card is: it is
            # recorded, and updated in place when found).
            log.warning(
                "outbox row %s: its earlier send was interrupted; Teams may show it twice", row.id
            )
        if kind == "card":
            return self._card(row)
        if kind == "post":
            return self._post(row, self._teams)
        if kind == "replace":
            found = self._recorded.needed(row, role=p["role"])
            if found is None:
                return {"skipped": f"no {p['role']} message"}
            self._teams.update(found[0], found[1], self._rendering.message(p))
            return {"conversation": found[0], "id": found[1]}
        if kind in ("update_mirror", "delete_mirror"):
            mirror = self._recorded.needed(row, role="mirror", source=tuple(p["source"]))
            if mirror is None:
                return {"skipped": "mirror not found"}
            if kind == "update_mirror":
                self._teams.update(mirror[0], mirror[1], self._rendering.message(p))
            else:
                self._teams.delete(mirror[0], mirror[1])
            return {"conversation": mirror[0], "id": mirror[1]}
        raise DeliveryError(f"unknown Teams outbox kind {kind!r}", transient=False)

    def _card(self, row: Claimed) -> dict[str, Any]:
        """Post the card in the Teams technician channel once; then update it in place."""
        teams, channel, ticket_id = self._teams, self._tech_channel, int(row.ticket_id or 0)
        if channel is None:
            return {"skipped": "no Teams technician channel"}
        with self._reads() as s:
            drawn = card_to_draw(s, ticket_id, "teams")
            if isinstance(drawn, str):
                return {"skipped": drawn}
            view, target = ticket_view(drawn.ticket, self._clock.now()), drawn.target
        ping = bool(row.payload.get("mention")) and target is None
        mention = self._rendering.mention() if ping else None
        msg = adaptive.ticket_card(view, mention=mention)
        if target is not None:
            teams.update(target[0], target[1], msg)
            self._recorded.rendered(target[0], target[1], view.version)
            return {"conversation": target[0], "id": target[1], "version": view.version}
        posted, activity_id = paced(
            self._paces, CHANNEL, row.target, self._clock.now, lambda: teams.post(channel, msg)
        )
        self._recorded.record(
            ticket_id, "card", posted, activity_id, None, None, rendered_version=view.version
        )
        return {"conversation": posted, "id": activity_id, "version": view.version}

    def _post(self, row: Claimed, teams: TeamsChat) -> dict[str, Any]:
        p = row.payload
        msg = self._rendering.message(p)
        thread: str | None = None
        anchor = p.get("anchor")
        if anchor:
            found = self._recorded.needed(row, role=anchor, root=True)
            if found is None:
                return {"skipped": f"no {anchor} thread"}
            conversation, thread = found
        elif p.get("conversation"):
            conversation = str(p["conversation"])
        elif p.get("user"):
            conversation = teams.personal(str(p["user"]))
        else:
            raise DeliveryError("Teams post without a conversation", transient=False)
        posted, activity_id = paced(
            self._paces,
            CHANNEL,
            row.target,
            self._clock.now,
            lambda: teams.post(conversation, msg, thread=thread),
        )
        # Every message of a Teams client thread is recorded: in a 1:1 chat (no threads) a reply
        # quoting any of them is a reply about its ticket.
        role = p.get("record_role") or ("client_post" if anchor == "client_root" else None)
        if role and row.ticket_id is not None:
            root = thread or split_thread(conversation)[1]
            source = p.get("source") or (None, None)
            self._recorded.record(row.ticket_id, role, posted, activity_id, root, tuple(source))
        return {"conversation": posted, "id": activity_id}
