"""The state of one emulated Slack workspace, shared by the Web API, delivery and the façade."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.slack.elements import state_values, with_block_ids
from bot.sandbox.slack.records import (
    JSON,
    ApiCall,
    Channel,
    Delivery,
    Ephemeral,
    Message,
    ResponsePost,
    User,
    View,
)

VIEW_STACK_MAX = 3


@dataclass
class Trigger:
    user: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseTarget:
    user: str
    channel: str
    message_ts: str | None
    ephemeral: bool
    uses: int = 0


class Workspace:
    """Identity, clocks and everything Slack holds or recorded; access it with `cond` held.

    `now` drives ts values, trigger expiry and rate pacing; `wall` is the real time, for request
    signatures and action_ts (Bolt's verifier uses the real time).
    """

    def __init__(
        self,
        *,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        team_id: str,
        team_domain: str,
        verification_token: str,
        now: Callable[[], float],
        wall: Callable[[], float],
    ) -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_id = team_id
        self.team_domain = team_domain
        self.verification_token = verification_token
        self.now = now
        self.wall = wall

        self.cond = threading.Condition(threading.RLock())
        self.generation = 0  # bumped on every change; wait_for watches it
        self.http_url: str | None = None  # set while the HTTP server runs
        self._counter = itertools.count(1)
        self._last_ts = 0

        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.dm_by_user: dict[str, str] = {}
        self.messages: dict[str, list[Message]] = {}
        self.by_key: dict[tuple[str, str], Message] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}  # modals
        self.homes: dict[str, View] = {}  # Home tabs by user
        self.triggers: dict[str, Trigger] = {}
        self.response_targets: dict[str, ResponseTarget] = {}
        self.responses: list[ResponsePost] = []
        self.calls: list[ApiCall] = []
        self.deliveries: list[Delivery] = []

    @property
    def base_url(self) -> str:
        if self.http_url is None:
            raise RuntimeError("the emulator is not started")
        return self.http_url

    def changed(self) -> None:
        """Wake `wait_for` callers; call with the lock held."""
        self.generation += 1
        self.cond.notify_all()

    def notify(self) -> None:
        """`changed`, taking the lock (for callbacks from other threads)."""
        with self.cond:
            self.changed()

    # -- ids --------------------------------------------------------------------------------

    def next_ts(self) -> str:
        micros = max(int(self.now() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}0EMU{next(self._counter):05d}"

    def new_hash(self) -> str:
        return f"{int(self.now())}.{uuid.uuid4().hex[:8]}"

    def issue_trigger(self, user: str) -> str:
        n = next(self._counter)
        trigger_id = f"{7311000000 + n}.{int(self.now())}.{uuid.uuid4().hex[:16]}"
        self.triggers[trigger_id] = Trigger(user, self.now())
        return trigger_id

    # -- people, channels, messages ---------------------------------------------------------

    def dm_for(self, user: str) -> Channel:
        """The bot's DM with `user`, opened now if it was never used."""
        channel_id = self.dm_by_user.get(user)
        if channel_id is None:
            channel_id = self.next_id("D")
            self.channels[channel_id] = Channel(
                channel_id, user, [user, self.bot_user_id], is_private=True, im_user=user
            )
            self.messages[channel_id] = []
            self.dm_by_user[user] = channel_id
        return self.channels[channel_id]

    def user_or_raise(self, user: str) -> User:
        """For test drivers: an unknown user is a mistake in the test (AssertionError)."""
        found = self.users.get(user)
        if found is None:
            raise AssertionError(f"unknown user {user!r}; add it with emu.add_user()")
        return found

    def channel_or_raise(self, channel: str) -> Channel:
        """For test drivers: a channel id, or a user id meaning the bot's DM with them."""
        if channel in self.users:
            return self.dm_for(channel)
        found = self.channels.get(channel)
        if found is None:
            raise AssertionError(f"unknown channel {channel!r}; add it with emu.add_channel()")
        return found

    def store(self, message: Message) -> Message:
        self.messages.setdefault(message.channel, []).append(message)
        self.by_key[(message.channel, message.ts)] = message
        return message

    # -- views ------------------------------------------------------------------------------

    def api_view(self, view: View, *, with_state: bool = True) -> JSON:
        return view.to_api(
            team_id=self.team_id, app_id=self.app_id, bot_id=self.bot_id, with_state=with_state
        )

    def top_view(self, user: str) -> View | None:
        open_views = [v for v in self.views.values() if v.user == user and v.is_open]
        return open_views[-1] if open_views else None

    def stack(self, view: View) -> list[View]:
        """The open modals of `view`'s stack (root first)."""
        return [v for v in self.views.values() if v.root_view_id == view.root_view_id and v.is_open]

    def open_view(self, user: str, definition: JSON, previous: View | None) -> View:
        """A new modal; on top of `previous` (same stack) when given."""
        view_id = self.next_id("V")
        view = View(
            id=view_id,
            user=user,
            view=definition,
            hash=self.new_hash(),
            root_view_id=previous.root_view_id if previous else view_id,
            previous_view_id=previous.id if previous else None,
            external_id=str(definition.get("external_id") or ""),
        )
        definition["blocks"] = with_block_ids(definition.get("blocks") or [], view_id)
        view.state = state_values(definition["blocks"])
        self.views[view_id] = view
        return view

    def replace_view(self, view: View, definition: JSON) -> None:
        """`view` now shows `definition` (new hash, fresh state, errors cleared)."""
        definition["blocks"] = with_block_ids(definition.get("blocks") or [], view.hash)
        view.updates.append(view.view)
        view.view = definition
        view.hash = self.new_hash()
        view.external_id = str(definition.get("external_id") or view.external_id)
        view.state = state_values(definition["blocks"])
        view.errors = {}
