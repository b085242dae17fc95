"""Local Slack emulator: loopback Web API, signed HTTP / Socket Mode delivery, what Slack shows.

`SlackEmulator` is the façade over the sibling modules (what people do to the bot: `driving`; what
Slack shows: `showing`); stdlib + websockets, nothing of the bot.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import Literal

from bot.sandbox.serving import Serving
from bot.sandbox.slack import response_url
from bot.sandbox.slack.delivery import Courier
from bot.sandbox.slack.driving import Driving
from bot.sandbox.slack.faults import Faults
from bot.sandbox.slack.records import Channel, Stats, User
from bot.sandbox.slack.showing import Showing
from bot.sandbox.slack.socket_mode import SocketModeServer
from bot.sandbox.slack.web_api import WebApi
from bot.sandbox.slack.wire import LoopbackServer
from bot.sandbox.slack.workspace import Workspace


class SlackEmulator(Driving, Showing):
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
        self._http: Serving[LoopbackServer] = Serving("slack-emulator-http")
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
        if self._http.server is not None:
            return self
        server = self._http.start(
            lambda: LoopbackServer(
                self._api.handle, functools.partial(response_url.handle, self._ws)
            )
        )
        self._ws.http_url = f"http://127.0.0.1:{server.server_address[1]}"
        if self.app_token:
            self._socket.start()
        return self

    def stop(self) -> None:
        self._socket.stop()
        self._http.stop()
        self._ws.http_url = None

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
