"""The dispatcher knows no surface: it hands each row to its channel's route, the kinds a route
delivers in a lane of their own to that lane's thread, and parks a row whose channel has no
route."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.outbox.claims import Claimed, Claims
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.pacing import PaceRule
from bot.outbox.route import Lane
from bot.outbox.shared import Outbox
from bot.sandbox.stack import wait_until
from tests.outbox.rows import add_row, outbox_row


class Flock:
    """A lane: finishes its rows itself, and notes the thread each was delivered on."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def deliver(self, row: Claimed, claims: Claims) -> None:
        self.threads.append(threading.current_thread().name)
        result = {"flock": row.payload["n"]}
        claims.finish(row.id, status="done", result=result, count_attempt=True)


class Pigeons:
    """The route of a made-up channel, paced per loft, with a lane for its flocks."""

    def __init__(self) -> None:
        self.flock = Flock()
        self.paces: Mapping[str, PaceRule] = {"pigeon": PaceRule(100.0, 10)}
        self.lanes: Mapping[str, Lane] = {"flock": self.flock}
        self.threads: list[str] = []

    def deliver(self, row: Claimed) -> dict[str, Any]:
        self.threads.append(threading.current_thread().name)
        return {"coo": row.payload["n"]}


def test_each_row_goes_to_its_channels_route_or_lane(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    now = clock.now()
    posts = [
        add_row(
            sessions,
            now,
            channel="pigeon",
            kind="post",
            stream=f"pigeon:{n}",
            payload={"n": n},
            target="loft",
        )
        for n in range(3)
    ]
    flock = add_row(sessions, now, channel="pigeon", kind="flock", stream="flock", payload={"n": 9})
    owl = add_row(sessions, now, channel="owl", kind="post", stream="owl", payload={})
    pigeons = Pigeons()
    dispatcher = Dispatcher(Outbox(sessions, clock=clock), {"pigeon": pigeons}, worker_id="birds")
    dispatcher.start()
    try:
        wait_until(
            lambda: all(
                outbox_row(sessions, i).status in ("done", "parked") for i in [*posts, flock, owl]
            ),
            10,
            lambda: "the rows were never finished",
        )
    finally:
        dispatcher.stop()

    assert [outbox_row(sessions, i).result for i in posts] == [{"coo": n} for n in range(3)]
    assert set(pigeons.threads) == {"birds"}
    assert outbox_row(sessions, flock).result == {"flock": 9}
    assert pigeons.flock.threads == ["birds-flock"]
    parked = outbox_row(sessions, owl)
    assert parked.status == "parked"
    assert parked.last_error == "no route for outbox channel 'owl'"
    assert dispatcher.metrics.value("ticketbot_outbox_delivered_total", channel="pigeon") == 3
