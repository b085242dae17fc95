"""What people and integrations do in the emulated Slack, delivered to the bot as Slack would:
raw and repeated deliveries, slash commands, clicks, modal submissions, messages and edits,
joins and leaves. A part of `SlackEmulator`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.slack import events, interactions
from bot.sandbox.slack.delivery import Courier
from bot.sandbox.slack.records import JSON, Delivery, DeliveryKind
from bot.sandbox.slack.workspace import Workspace


class Driving:
    """The emulator's methods that drive the bot; `SlackEmulator` sets the attributes below."""

    _ws: Workspace
    _courier: Courier
    app_mention_events: bool

    # -- delivery -------------------------------------------------------------------------

    def send_raw(
        self,
        body: bytes,
        content_type: str = "application/json",
        *,
        signature: str | None = None,
        timestamp: str | int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Delivery:
        """POST exactly `body` to the bot (HTTP); signed correctly unless `signature` is given.

        `signature=""` / `timestamp=""` leave that header out.
        """
        return self._courier.send_raw(
            body,
            content_type,
            signature=signature,
            timestamp=None if timestamp is None else str(timestamp),
            headers=headers,
        )

    def redeliver(
        self, delivery_or_event_id: Delivery | str, retry_num: int = 1, reason: str = "http_timeout"
    ) -> Delivery:
        """Send an earlier event again, byte for byte, marked as Slack retry `retry_num`."""
        event_id = (
            delivery_or_event_id.event_id
            if isinstance(delivery_or_event_id, Delivery)
            else delivery_or_event_id
        )
        return self._courier.redeliver(event_id, retry_num, reason)

    def _deliver(self, kind: DeliveryKind, payload: JSON) -> Delivery:
        return self._courier.deliver(kind, payload)

    def _deliver_events(self, outbound: events.Outbound) -> Delivery:
        """The first event's delivery; Slack sends nothing when the bot is not in the channel."""
        if not outbound.payloads:
            return events.not_member(outbound.channel)
        first, *rest = outbound.payloads
        delivery = self._deliver("events_api", first)
        for payload in rest:
            self._deliver("events_api", payload)
        return delivery

    # -- driving the bot like Slack does --------------------------------------------------

    def slash_command(
        self, user: str, channel: str, text: str = "", command: str = "/ticket"
    ) -> Delivery:
        """`user` types `{command} {text}` in `channel`; fresh trigger_id and response_url."""
        with self._ws.cond:
            payload = interactions.slash_command(self._ws, user, channel, text, command)
        return self._deliver("slash_commands", payload)

    def click(
        self, user: str, channel: str, ts: str, action_id: str, *, value: str | None = None
    ) -> Delivery:
        """`user` clicks the button `action_id` (and `value`, if given) on message `ts`.

        Raises AssertionError unless the message's current blocks contain that button.
        """
        with self._ws.cond:
            payload = interactions.click(self._ws, user, channel, ts, action_id, value)
        return self._deliver("interactive", payload)

    def select(
        self, user: str, channel: str, ts: str, action_id: str, option_value: str
    ) -> Delivery:
        """`user` picks `option_value` in the select `action_id` on message `ts`.

        static/radio/overflow: the option must exist; users_select: `option_value` is a user id.
        """
        with self._ws.cond:
            payload = interactions.select(self._ws, user, channel, ts, action_id, option_value)
        return self._deliver("interactive", payload)

    def submit_view(
        self, user: str, view_id: str | None = None, values: Mapping[str, Any] | None = None
    ) -> Delivery:
        """`user` fills in and submits their top open modal (or `view_id`).

        `values` maps input block_id → raw value (or → {action_id: raw value}); raw values are
        turned into the state shape Slack sends for each element type. Required inputs left empty
        and unknown block/action ids raise AssertionError (Slack's client would not submit).
        """
        with self._ws.cond:
            view, payload = interactions.view_submission(self._ws, user, view_id, values)
        delivery = self._deliver("interactive", payload)
        if delivery.status == 200:
            with self._ws.cond:
                interactions.apply_view_response(self._ws, view, delivery)
                self._ws.changed()
        return delivery

    def click_view(
        self, user: str, action_id: str, *, value: str | None = None, view_id: str | None = None
    ) -> Delivery:
        """`user` clicks a button in their top open modal (or `view_id`, e.g. the Home tab)."""
        with self._ws.cond:
            payload = interactions.view_click(self._ws, user, action_id, value, view_id)
        return self._deliver("interactive", payload)

    def open_home(self, user: str) -> Delivery:
        """`user` opens the app's Home tab (`app_home_opened`)."""
        with self._ws.cond:
            payload = events.app_home_opened(self._ws, user)
        return self._deliver("events_api", payload)

    def post_message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> tuple[str, Delivery]:
        """A person posts `text` (Slack-encoded: `<@U…>`, `&lt;`) in `channel` or a thread.

        Returns the new ts and the delivery of its `message` event (status 0 if the bot is not
        in the channel, as Slack would not send it). Mentions of the bot also send `app_mention`.
        """
        with self._ws.cond:
            outbound = events.user_message(
                self._ws,
                user,
                channel,
                text,
                thread_ts=thread_ts,
                broadcast=broadcast,
                app_mention=self.app_mention_events,
            )
        return outbound.ts, self._deliver_events(outbound)

    def post_bot_message(
        self,
        channel: str,
        *,
        text: str = "",
        attachments: list[JSON] | None = None,
        blocks: list[JSON] | None = None,
        bot_id: str = "BALERT",
        username: str = "Alertmanager",
        subtype: str | None = "bot_message",
        thread_ts: str | None = None,
    ) -> tuple[str, Delivery]:
        """A monitoring integration posts (webhook shape; subtype=None gives a modern app's)."""
        with self._ws.cond:
            outbound = events.bot_message(
                self._ws,
                channel,
                text=text,
                attachments=attachments,
                blocks=blocks,
                bot_id=bot_id,
                username=username,
                subtype=subtype,
                thread_ts=thread_ts,
            )
        return outbound.ts, self._deliver_events(outbound)

    def edit_bot_message(
        self, channel: str, ts: str, *, text: str = "", attachments: list[JSON] | None = None
    ) -> Delivery:
        """An integration edits its own message (as Zabbix does on recovery)."""
        with self._ws.cond:
            outbound = events.bot_message_changed(
                self._ws, channel, ts, text=text, attachments=attachments
            )
        return self._deliver_events(outbound)

    def join_channel(self, user: str, channel: str) -> Delivery:
        """`user` joins `channel` → `member_joined_channel` (if the bot is in the channel)."""
        with self._ws.cond:
            outbound = events.member_joined(self._ws, user, channel)
        return self._deliver_events(outbound)

    def leave_channel(self, user: str, channel: str) -> Delivery:
        """`user` leaves `channel` → `member_left_channel` (if the bot is in the channel)."""
        with self._ws.cond:
            outbound = events.member_left(self._ws, user, channel)
        return self._deliver_events(outbound)

    def deactivate_user(self, user: str) -> Delivery:
        """An admin deactivates `user`'s account → `user_change` with `deleted: true`."""
        with self._ws.cond:
            self._ws.user_or_raise(user).deleted = True
            payload = events.user_change(self._ws, user)
        return self._deliver("events_api", payload)

    def edit_message(self, user: str, channel: str, ts: str, new_text: str) -> Delivery:
        """`user` edits their message → `message_changed`."""
        with self._ws.cond:
            outbound = events.message_changed(self._ws, user, channel, ts, new_text)
        return self._deliver_events(outbound)

    def delete_message(self, user: str, channel: str, ts: str) -> Delivery:
        """`user` deletes their message → `message_deleted`."""
        with self._ws.cond:
            outbound = events.message_deleted(self._ws, user, channel, ts)
        return self._deliver_events(outbound)
