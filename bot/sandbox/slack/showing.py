"""What the emulated Slack shows and recorded: messages, threads, DMs, ephemerals, modals and
Homes, the Web API calls and deliveries; and waiting until it shows something. A part of
`SlackEmulator`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bot.sandbox.slack.records import ApiCall, Delivery, Ephemeral, Message, ResponsePost, View
from bot.sandbox.slack.render import render_text
from bot.sandbox.slack.workspace import Workspace
from bot.sandbox.waiting import wait_for_change

T = TypeVar("T")


class Showing:
    """The emulator's read side; `SlackEmulator` sets `_ws`."""

    _ws: Workspace

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
