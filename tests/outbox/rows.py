"""Outbox rows as the notifier writes them, or as a process killed mid-send leaves them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from bot.outbox.writer import OutboxWriter
from storage.models import OutboxRow, outbox_table


def add_row(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    channel: str,
    kind: str,
    stream: str,
    payload: dict[str, Any],
    ticket_id: int | None = None,
    target: str | None = None,
    held_until: datetime | None = None,
) -> int:
    """A pending row; with `held_until`, one claimed (`sending`) under a lease until then, by a
    process that is gone."""
    with sessions.begin() as s:
        return int(
            s.execute(
                insert(outbox_table)
                .values(
                    ticket_id=ticket_id,
                    stream=stream,
                    channel=channel,
                    kind=kind,
                    payload=payload,
                    target=target,
                    status="sending" if held_until is not None else "pending",
                    locked_until=held_until,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
                .returning(outbox_table.c.id)
            ).scalar_one()
        )


def outbox_row(sessions: sessionmaker[Session], row_id: int) -> OutboxRow:
    with sessions() as s:
        row = s.get(OutboxRow, row_id)
        assert row is not None
        return row


def pending_posts(
    s: Session, writer: OutboxWriter, channels: Iterable[str], per_channel: int
) -> list[str]:
    """`per_channel` posts to each channel, each a stream of its own; returns their texts."""
    texts = []
    for i in range(per_channel):
        for channel in channels:
            text = f"{channel} {i}"
            writer.add(
                s,
                channel="slack",
                kind="post",
                stream=f"test:{channel}:{i}",
                payload={"channel": channel, "text": text, "blocks": []},
                target=channel,
            )
            texts.append(text)
    return texts


def pending_mails(s: Session, writer: OutboxWriter, count: int, tag: str) -> set[str]:
    """`count` mails to different people; returns their Message-IDs."""
    ids = set()
    for i in range(count):
        message_id = f"<{tag}-{i}@msp.example>"
        writer.add(
            s,
            channel="email",
            kind="email",
            stream=f"email:{tag}:{i}",
            payload={
                "to": f"person{i}@acme.example",
                "subject": f"mail {i}",
                "text": "text",
                "html": "<p>html</p>",
                "message_id": message_id,
            },
        )
        ids.add(message_id)
    return ids
