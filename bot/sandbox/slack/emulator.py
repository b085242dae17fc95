"""Local Slack emulator: loopback Web API, signed HTTP / Socket Mode delivery, what Slack shows.

`SlackEmulator` is the façade over the sibling modules; stdlib + websockets, nothing of the bot.
"""

from __future__ import annotations

import copy
import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

from bot.sandbox.slack import events, interactions, response_url
from bot.sandbox.slack.blocks import block_errors, view_errors
from bot.sandbox.slack.delivery import USER_AGENT, Courier
from bot.sandbox.slack.faults import Faults
from bot.sandbox.slack.records import (
    JSON,
    ApiCall,
    Channel,
    Delivery,
    DeliveryKind,
    Ephemeral,
    Message,
    ResponsePost,
    Stats,
    User,
    View,
)
from bot.sandbox.slack.render import render_text
from bot.sandbox.slack.response_url import RESPONSE_URL_MAX_USES
from bot.sandbox.slack.socket_mode import SocketModeServer
from bot.sandbox.slack.web_api import PERMALINK_HOST, TRIGGER_TTL, WebApi
from bot.sandbox.slack.wire import LoopbackServer, sign
from bot.sandbox.slack.workspace import VIEW_STACK_MAX, Workspace
from bot.sandbox.waiting import wait_for_change

__all__ = [
    "JSON",
    "PERMALINK_HOST",
    "RESPONSE_URL_MAX_USES",
    "TRIGGER_TTL",
    "USER_AGENT",
    "VIEW_STACK_MAX",
    "ApiCall",
    "Channel",
    "Delivery",
    "DeliveryKind",
    "Ephemeral",
    "Faults",
    "Message",
    "ResponsePost",
    "SlackEmulator",
    "Stats",
    "User",
    "View",
    "block_errors",
    "render_text",
    "sign",
    "view_errors",
]

T = TypeVar("T")


class SlackEmulator:
    """A one-workspace Slack on 127.0.0.1: Web API for the bot, delivery methods for tests.

    `now` drives ts values, trigger expiry and rate pacing; request signatures always use the
    real time (`wall_clock`) because Bolt's verifier does.
    """

    def __init__(
        self,
        signing_secret: str,
        bot_token: str,
        *,
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        bot_name: str = "ticketdesk",
        app_token: str | None = None,
        app_id: str = "A0EMU",
        team_id: str = "T0EMU",
        team_domain: str = "emulator",
        verification_token: str = "emulatorVerifTok",
        now: Callable[[], float] = time.time,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.app_token = app_token

        # Settings a test may change at any time; the Web API and delivery read them per use.
        self.bot_url: str | None = None
        self.delivery_mode: Literal["http", "socket"] = "http"
        self.delivery_timeout = 10.0  # HTTP: how long to wait for the bot's response
        self.socket_ack_timeout = 5.0  # Socket Mode: how long to wait for an ack frame
        self.enforce_rate_limits = False
        self.app_mention_events = True
        self.keep_events = 500
        self.faults = Faults()
        self.stats = Stats()

        self._ws = Workspace(
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            team_id=team_id,
            team_domain=team_domain,
            verification_token=verification_token,
            now=now,
            wall=wall_clock,
        )
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self._socket = SocketModeServer(app_id=app_id, on_change=self._ws.notify)
        self._api = WebApi(self._ws, self._socket, self)
        self._courier = Courier(self._ws, self._socket, self)
        self.add_user(bot_user_id, bot_name, is_bot=True)

    # -- identity (fixed at construction) -------------------------------------------------

    @property
    def bot_user_id(self) -> str:
        return self._ws.bot_user_id

    @property
    def bot_id(self) -> str:
        return self._ws.bot_id

    @property
    def app_id(self) -> str:
        return self._ws.app_id

    @property
    def team_id(self) -> str:
        return self._ws.team_id

    @property
    def team_domain(self) -> str:
        return self._ws.team_domain

    @property
    def verification_token(self) -> str:
        return self._ws.verification_token

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        if self._server is not None:
            return self
        self._server = LoopbackServer(
            self._api.handle, functools.partial(response_url.handle, self._ws)
        )
        self._ws.http_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # keeps stop() fast
            name="slack-emulator-http",
            daemon=True,
        )
        self._thread.start()
        if self.app_token:
            self._socket.start()
        return self

    def stop(self) -> None:
        self._socket.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._ws.http_url = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._ws.base_url

    @property
    def api_url(self) -> str:
        """`base_url` for `WebClient` (trailing slash included)."""
        return f"{self.base_url}/api/"

    # -- workspace setup ------------------------------------------------------------------

    def add_user(
        self,
        id: str,  # noqa: A002 - mirrors Slack's field name
        name: str,
        email: str | None = None,
        tz: str = "Europe/London",
        is_bot: bool = False,
        *,
        real_name: str | None = None,
        guest: Literal["multi", "single"] | None = None,
    ) -> User:
        """`guest`: a multi-channel or single-channel guest account."""
        user = User(
            id,
            name,
            real_name or name,
            email,
            tz,
            is_bot,
            is_restricted=guest is not None,
            is_ultra_restricted=guest == "single",
        )
        with self._ws.cond:
            self._ws.users[id] = user
        return user

    def add_channel(
        self,
        id: str,  # noqa: A002 - mirrors Slack's field name
        name: str,
        members: Iterable[str] = (),
        is_private: bool = False,
        *,
        bot_member: bool = True,
    ) -> Channel:
        member_list = list(dict.fromkeys(members))
        if bot_member and self.bot_user_id not in member_list:
            member_list.append(self.bot_user_id)
        channel = Channel(id, name, member_list, is_private)
        with self._ws.cond:
            self._ws.channels[id] = channel
            self._ws.messages.setdefault(id, [])
        return channel

    def set_members(self, channel: str, members: Iterable[str]) -> None:
        """Change who is in `channel` without any event (as when the bot missed them)."""
        with self._ws.cond:
            where = self._ws.channel_or_raise(channel)
            where.members[:] = list(dict.fromkeys(members))
            self._ws.changed()

    def members(self, channel: str) -> list[str]:
        with self._ws.cond:
            return list(self._ws.channel_or_raise(channel).members)

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

    # -- Socket Mode ----------------------------------------------------------------------

    def wait_socket_connected(self, timeout: float = 5.0) -> None:
        if not self._socket.running:
            raise AssertionError("Socket Mode is off: construct the emulator with app_token=...")
        if not self._socket.wait_connected(timeout):
            raise AssertionError(f"no Socket Mode client connected within {timeout}s")

    @property
    def socket_connections(self) -> int:
        """Open Socket Mode connections now."""
        return self._socket.connection_count

    @property
    def socket_connects(self) -> int:
        """Socket Mode connections accepted so far (reconnects included)."""
        return self._socket.connections_opened

    def disconnect_sockets(self, reason: str = "refresh_requested") -> int:
        """Send Slack's `disconnect` frame to every Socket Mode connection."""
        return self._socket.disconnect(reason)

    # -- what Slack shows -----------------------------------------------------------------

    def messages(self, channel: str, *, include_deleted: bool = False) -> list[Message]:
        """Top-level messages of `channel` (a user id means the bot's DM), oldest first."""
        with self._ws.cond:
            channel_id = self._ws.dm_by_user.get(channel, channel)
            return [
                copy.deepcopy(m)
                for m in self._ws.messages.get(channel_id, [])
                if (not m.is_reply or m.reply_broadcast) and (include_deleted or not m.deleted)
            ]

    def replies(
        self, channel: str, thread_ts: str, *, include_deleted: bool = False
    ) -> list[Message]:
        with self._ws.cond:
            channel_id = self._ws.dm_by_user.get(channel, channel)
            return [
                copy.deepcopy(m)
                for m in self._ws.messages.get(channel_id, [])
                if m.thread_ts == thread_ts and m.is_reply and (include_deleted or not m.deleted)
            ]

    def message(self, channel: str, ts: str) -> Message:
        with self._ws.cond:
            channel_id = self._ws.dm_by_user.get(channel, channel)
            found = self._ws.by_key.get((channel_id, ts))
            if found is None:
                raise AssertionError(f"no message {ts} in {channel_id}")
            return copy.deepcopy(found)

    def dm_channel(self, user: str) -> str:
        """The id of the bot's DM with `user` (opened now if it was never used)."""
        with self._ws.cond:
            return self._ws.dm_for(self._ws.user_or_raise(user).id).id

    def dms(self, user: str) -> list[Message]:
        """Top-level messages in the bot's DM with `user`."""
        return self.messages(self.dm_channel(user))

    def ephemerals(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        with self._ws.cond:
            return [
                copy.deepcopy(e)
                for e in self._ws.ephemerals
                if e.user == user and (channel is None or e.channel == channel) and not e.deleted
            ]

    def views(self, user: str) -> list[View]:
        """Modals opened for `user` (open and closed), in opening order."""
        with self._ws.cond:
            return [copy.deepcopy(v) for v in self._ws.views.values() if v.user == user]

    def view(self, view_id: str) -> View:
        with self._ws.cond:
            found = self._ws.views.get(view_id) or next(
                (h for h in self._ws.homes.values() if h.id == view_id), None
            )
            if found is None:
                raise AssertionError(f"no view {view_id}")
            return copy.deepcopy(found)

    def home_view(self, user: str) -> View | None:
        with self._ws.cond:
            home = self._ws.homes.get(user)
            return copy.deepcopy(home) if home else None

    @property
    def responses(self) -> list[ResponsePost]:
        with self._ws.cond:
            return list(self._ws.responses)

    @property
    def calls(self) -> list[ApiCall]:
        with self._ws.cond:
            return list(self._ws.calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    @property
    def deliveries(self) -> list[Delivery]:
        with self._ws.cond:
            return list(self._ws.deliveries)

    def user_names(self) -> dict[str, str]:
        with self._ws.cond:
            return {u.id: u.name for u in self._ws.users.values()}

    def render(self, message: Message | Ephemeral | Mapping[str, Any]) -> str:
        """`render_text` with this workspace's user names."""
        return render_text(message, names=self.user_names())

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, *, description: str | None = None
    ) -> T:
        """Wait until `predicate()` is truthy (re-checked after every API call/delivery); return it.

        The predicate runs without the emulator's lock, so it may query the bot's database.
        Raises AssertionError after `timeout` seconds, naming the predicate and the last calls.
        """
        ws = self._ws

        def describe() -> str:
            recent = ", ".join(f"{c.method}={'ok' if c.ok else c.error}" for c in ws.calls[-8:])
            what = description or getattr(predicate, "__qualname__", repr(predicate))
            return f"{what}; last API calls: [{recent or 'none'}]"

        return wait_for_change(ws.cond, lambda: ws.generation, predicate, timeout, describe)
