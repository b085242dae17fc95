"""What each Slack outbox kind does: cards, thread posts, ephemerals, in-place edits, mirrors."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.outbox.claims import Claimed
from bot.outbox.errors import Deferred, DeliveryError
from bot.outbox.pacing import PaceRule, paced
from bot.outbox.recorded import card_to_draw
from bot.outbox.shared import Outbox
from bot.service.views import ticket_view
from bot.slack import card
from bot.slack import storm_rows as storm
from bot.slack.gateway import SlackGateway

log = logging.getLogger(__name__)

# The outbox channel, and the name of its pace: chat.postMessage per conversation.
CHANNEL = "slack"
# Slack allows about 1 post a second per channel; a little under it, because network jitter can
# land two posts a second apart here less than a second apart there.
POSTS = PaceRule(0.9, 3)

# Channel errors where a client-thread root may instead go to the submitter's DM.
NOT_POSTABLE = ("channel_not_found", "not_in_channel", "is_archived", "restricted_action")
# How far Slack's clock may be behind ours, when a re-send looks for its earlier post.
CLOCK_SKEW = timedelta(minutes=5)
# chat.postEphemeral errors after which the user is told in a DM instead.
EPHEMERAL_FALLBACK = ("user_not_in_channel", "channel_not_found", "not_in_channel", "is_archived")


class SlackRoute:
    def __init__(self, outbox: Outbox, *, slack: SlackGateway, tech_channel: str | None) -> None:
        self.api = slack
        self._tech_channel = tech_channel
        self._paces = outbox.paces
        self._recorded = outbox.recorded("slack")
        self._reads = outbox.reads
        self._clock = outbox.clock

    def deliver(self, row: Claimed) -> dict[str, Any]:
        ticket_id, kind, p = row.ticket_id, row.kind, row.payload
        if kind == "card":
            return self._card(row, int(ticket_id or 0), p.get("mention"), bool(p.get("storm_card")))
        if kind == "post":
            return self._post(row)
        if kind == "ephemeral":
            return self._ephemeral(row)
        if kind == "replace":
            msg = self._recorded.needed(row, role=p["role"])
            if msg is None:
                return {"skipped": f"no {p['role']} message"}
            self.api.update(msg[0], msg[1], text=p["text"], blocks=p.get("blocks"))
            return {"channel": msg[0], "ts": msg[1]}
        if kind in ("update_mirror", "delete_mirror"):
            mirror = self._recorded.needed(row, role="mirror", source=tuple(p["source"]))
            if mirror is None:
                return {"skipped": "mirror not found"}
            if kind == "update_mirror":
                self.api.update(mirror[0], mirror[1], text=p["text"], blocks=p.get("blocks"))
            else:
                self.api.delete(mirror[0], mirror[1])
            return {"channel": mirror[0], "ts": mirror[1]}
        raise DeliveryError(f"unknown Slack outbox kind {kind!r}", transient=False)

    def post_paced(
        self, channel: str, row: Claimed, *, urgent: bool = False, **message: Any
    ) -> tuple[str, str]:
        """chat.postMessage for `row` within the channel's pace; a 429 pauses the channel for
        Retry-After. An `urgent` post may use the channel's reserved tokens.

        The message carries the row's id in its metadata: a row whose earlier attempt was
        interrupted looks for it in the conversation first, and is not posted twice."""
        if row.interrupted:
            found = self._posted_before(channel, row, message.get("thread_ts"))
            if found is not None:
                log.info("outbox row %s was posted before it was interrupted: not again", row.id)
                return found
        return paced(
            self._paces,
            CHANNEL,
            channel,
            self._clock.now,
            lambda: self.api.post(channel, outbox_id=row.id, **message),
            urgent=urgent,
        )

    def _posted_before(
        self, channel: str, row: Claimed, thread_ts: str | None
    ) -> tuple[str, str] | None:
        """The post an interrupted attempt made, if Slack has it. When the conversation cannot
        be read (no history scope, or a channel the bot posts to without being in it), the row
        is posted again rather than parked."""
        since = (row.created_at - CLOCK_SKEW).timestamp()
        try:
            return self.api.find_posted(channel, row.id, thread_ts=thread_ts, since=since)
        except DeliveryError as e:
            if e.transient:
                raise
            log.warning("outbox row %s: cannot look for its earlier post (%s)", row.id, e.message)
            return None

    def _card(
        self, row: Claimed, ticket_id: int, mention: str | None, storm_card: bool = False
    ) -> dict[str, Any]:
        with self._reads() as s:
            drawn = card_to_draw(s, ticket_id, "slack")
            if isinstance(drawn, str):
                return {"skipped": drawn}
            view, target = ticket_view(drawn.ticket, self._clock.now()), drawn.target
            in_storm = storm.storm_of(s, ticket_id) if target is None else None
            if in_storm is not None and not storm_card:
                return {"skipped": "its card follows in the storm's thread"}
            if in_storm is not None and in_storm.summary_ts is None:
                raise Deferred(self._clock.now() + timedelta(seconds=0.5))
            storm_ts = in_storm.summary_ts if in_storm is not None else None
        # A storm's cards go into its summary's thread, without a ping each.
        msg = card.ticket_card(view, mention=mention if target is None and not storm_ts else None)
        if target is not None:
            self.api.update(target[0], target[1], text=msg.text, blocks=msg.blocks)
            self._recorded.rendered(target[0], target[1], view.version)
            return {"channel": target[0], "ts": target[1], "version": view.version}
        if self._tech_channel is None:
            return {"skipped": "no Slack technician channel"}
        channel, ts = self.post_paced(
            self._tech_channel, row, text=msg.text, blocks=msg.blocks, thread_ts=storm_ts
        )
        self._recorded.record(
            ticket_id, "card", channel, ts, storm_ts, None, rendered_version=view.version
        )
        return {"channel": channel, "ts": ts, "version": view.version}

    def _post(self, row: Claimed) -> dict[str, Any]:
        ticket_id, p = row.ticket_id, row.payload
        channel = p.get("channel")
        thread_ts = None
        anchor = p.get("anchor")
        if anchor:
            found = self._recorded.needed(row, role=anchor, root=True)
            if found is None:
                return {"skipped": f"no {anchor} thread"}
            channel, thread_ts = found
        if not channel:
            raise DeliveryError("post without a channel", transient=False)
        try:
            posted_channel, ts = self.post_paced(
                channel,
                row,
                text=p["text"],
                blocks=p.get("blocks"),
                thread_ts=thread_ts,
                reply_broadcast=bool(p.get("reply_broadcast")),
            )
        except DeliveryError as e:
            fallback = p.get("fallback_dm")
            if e.transient or not fallback or not any(code in e.message for code in NOT_POSTABLE):
                raise
            log.info("cannot post in %s (%s); using the submitter's DM", channel, e.message)
            posted_channel, ts = self.post_paced(
                fallback, row, text=p["text"], blocks=p.get("blocks")
            )
        role = p.get("record_role")
        if role and ticket_id is not None:
            source = p.get("source") or (None, None)
            self._recorded.record(ticket_id, role, posted_channel, ts, thread_ts, tuple(source))
        return {"channel": posted_channel, "ts": ts}

    def _ephemeral(self, row: Claimed) -> dict[str, Any]:
        """Only the user sees it; when they aren't in that channel, it goes to their DM instead."""
        p = row.payload
        try:
            self.api.ephemeral(p["channel"], p["user"], text=p["text"], blocks=p.get("blocks"))
            return {"channel": p["channel"]}
        except DeliveryError as e:
            if e.transient or not any(code in e.message for code in EPHEMERAL_FALLBACK):
                raise
        channel, ts = self.post_paced(p["user"], row, text=p["text"], blocks=p.get("blocks"))
        return {"channel": channel, "ts": ts, "fallback": "dm"}
