"""What a route is: how the rows of one outbox channel are delivered. Each surface builds its
own; the dispatcher is handed them as a {channel: route} map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.outbox.claims import Claimed, Claims
from bot.outbox.pacing import PaceRule


class Lane(Protocol):
    """Delivers the rows of one kind in a lane (a thread) of their own, so that a pass through
    the channel's other rows never holds them up. Their rows name no target."""

    def deliver(self, row: Claimed, claims: Claims) -> None:
        """Deliver `row` and finish it with `claims` (in the transaction that records what it
        did); raises as Route.deliver does, for the dispatcher to finish the row."""


class Route(Protocol):
    """Delivers the claimed rows of one outbox channel."""

    @property
    def paces(self) -> Mapping[str, PaceRule]:
        """The paces its sends take from, by name: the one named after its channel paces the
        rows' targets (no such pace: the channel's rows are not paced)."""

    @property
    def lanes(self) -> Mapping[str, Lane]:
        """The kinds of row delivered in a lane of their own, each by its Lane."""

    def deliver(self, row: Claimed) -> dict[str, Any]:
        """Deliver `row`; returns what it did (kept as the row's result). Raises DeliveryError
        (retried when transient, else parked), Deferred (not now; no attempt counted) or
        Orphaned (parked: a message it needs is in a parked row)."""
