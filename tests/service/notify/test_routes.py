"""Which stream each Slack row of a ticket joins: the card's conversation, the client thread's,
or the recipient's DMs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.service.actor import Actor
from bot.service.notify.matrix import Notifier
from bot.service.notify.settings import NotifySettings
from bot.service.notify.streams import stream
from bot.service.use_cases import TicketService
from storage.models import ChatMessage, OutboxRow
from tests.fakes import EMPLOYEE, MANAGER, TECHNICIAN

TECH, CLIENT = "CTECHS", "CACME"
CARD_TS, ROOT_TS, UPDATE_TS, REPLY_TS = "1.000100", "1.000200", "1.000300", "1.000400"


def test_each_slack_row_joins_the_stream_of_the_conversation_it_lands_in(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    settings = NotifySettings(tech_channel=TECH, critical_mention="<!here>", email_domain=None)
    notifier = Notifier(settings, directory, OutboxWriter(clock))
    service = TicketService(
        session_factory=sessions, directory=directory, notifier=notifier, clock=clock
    )
    tid = service.open_ticket(
        Actor(EMPLOYEE), title="Internet down", priority="critical", origin_channel=CLIENT
    )
    with sessions.begin() as s:  # what the dispatcher records once the card and root are posted
        for role, channel, ts in (("card", TECH, CARD_TS), ("client_root", CLIENT, ROOT_TS)):
            s.add(
                ChatMessage(
                    ticket_id=tid, role=role, channel=channel, ts=ts, created_at=clock.now()
                )
            )
    service.assign(Actor(MANAGER), tid, TECHNICIAN)
    service.thread_message(
        Actor(TECHNICIAN),
        channel=TECH,
        thread_ts=CARD_TS,
        ts=UPDATE_TS,
        text="on it",
        delivery_key="1",
    )
    service.thread_message(
        Actor(EMPLOYEE),
        channel=CLIENT,
        thread_ts=ROOT_TS,
        ts=REPLY_TS,
        text="thanks",
        delivery_key="2",
    )
    for n, (channel, ts) in enumerate(((TECH, UPDATE_TS), (CLIENT, REPLY_TS))):
        service.message_edited(channel=channel, ts=ts, text="edited", delivery_key=f"e{n}")
        service.message_deleted(channel=channel, ts=ts, delivery_key=f"d{n}")
    service.request_help(Actor(TECHNICIAN), tid)
    service.resolve(Actor(TECHNICIAN), tid, "tested from two desks")
    service.reopen(Actor(EMPLOYEE), tid, "still down")

    with sessions() as s:
        rows = s.scalars(
            select(OutboxRow).where(OutboxRow.channel == "slack").order_by(OutboxRow.id)
        ).all()
    seen = [(row.kind, _conversation(row.kind, row.payload), row.stream) for row in rows]
    assert {kind for kind, _, _ in seen} == {
        "card",
        "post",
        "replace",
        "update_mirror",
        "delete_mirror",
    }
    assert {dm for _, dm, _ in seen if dm.startswith("dm:")} == {
        f"dm:{MANAGER}",
        f"dm:{TECHNICIAN}",
    }
    expected = {
        "card": stream("slack", "card", tid),
        "client": stream("slack", "client", tid),
        f"dm:{MANAGER}": stream("slack", "dm", MANAGER),
        f"dm:{TECHNICIAN}": stream("slack", "dm", TECHNICIAN),
    }
    assert [stream for _, _, stream in seen] == [expected[where] for _, where, _ in seen], seen


def _conversation(kind: str, p: dict[str, object]) -> str:
    """Where a row's message lands, read from what it is."""
    if kind == "card" or p.get("anchor") == "card" or p.get("channel") == TECH:
        return "card"
    if kind in ("update_mirror", "delete_mirror"):  # a mirror lives in the other conversation
        source = p["source"]
        assert isinstance(source, list)
        return "client" if source[0] == TECH else "card"
    if (
        kind == "replace"
        or p.get("anchor") == "client_root"
        or p.get("record_role") == "client_root"
    ):
        return "client"
    return f"dm:{p['channel']}"
