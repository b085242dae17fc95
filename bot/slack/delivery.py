"""The route of the Slack outbox channel: posts, cards, edits and mirrors, the App Home publish,
and the storm summaries in a lane of their own, with the paces they keep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.home.reader import HomeReader
from bot.home.refresh import KIND as HOME_KIND
from bot.outbox.claims import Claimed
from bot.outbox.pacing import PaceRule
from bot.outbox.route import Lane
from bot.outbox.shared import Outbox
from bot.slack.gateway import SlackGateway
from bot.slack.home_route import HomeRoute
from bot.slack.route import CHANNEL, POSTS, SlackRoute
from bot.slack.storm_summary import KIND as STORM_KIND
from bot.slack.storm_summary import UPDATES, UPDATES_PACE, StormSummaries


class SlackDelivery:
    def __init__(
        self,
        outbox: Outbox,
        *,
        slack: SlackGateway,
        tech_channel: str | None,
        home: HomeReader,
    ) -> None:
        # One post of the technician channel's burst is kept for an alert storm's summary, so
        # that it shows at once even when the storm's first cards have just gone out.
        reserve = {tech_channel: 1.0} if tech_channel and POSTS.burst > 1 else {}
        self.paces: Mapping[str, PaceRule] = {
            CHANNEL: replace(POSTS, reserved=reserve),
            UPDATES: UPDATES_PACE,
        }
        self._posts = SlackRoute(outbox, slack=slack, tech_channel=tech_channel)
        self._home = HomeRoute(slack=slack, reader=home, reads=outbox.reads)
        self.lanes: Mapping[str, Lane] = {STORM_KIND: StormSummaries(outbox, slack=self._posts)}

    def deliver(self, row: Claimed) -> dict[str, Any]:
        if row.kind == HOME_KIND:
            return self._home.deliver(row)
        return self._posts.deliver(row)
