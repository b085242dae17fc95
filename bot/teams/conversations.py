"""The Teams conversations the bot has heard from: where each is reached (its Bot Connector
service URL differs by region), whose it is, and which team a channel belongs to."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import Clock
from storage.models import TeamsConversation

THREAD_MARK = ";messageid="


def split_thread(conversation_id: str) -> tuple[str, str | None]:
    """`19:…@thread.tacv2;messageid=123` → (`19:…@thread.tacv2`, `123`)."""
    base, sep, root = conversation_id.partition(THREAD_MARK)
    return base, (root or None) if sep else None


@dataclass(frozen=True)
class ConversationRef:
    id: str  # without ;messageid=
    service_url: str
    tenant_id: str | None
    kind: str  # personal | channel | groupChat
    team_id: str | None = None
    user_aad_id: str | None = None  # personal: the person it is with


class TeamsConversations:
    """Stores what an activity says about its conversation, once per change (an in-memory copy of
    what is stored spares a write per activity)."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._known: dict[str, ConversationRef] = {}
        self._lock = threading.Lock()

    def remember(self, ref: ConversationRef) -> None:
        with self._lock:
            if self._known.get(ref.id) == ref:
                return
        values = {
            "service_url": ref.service_url,
            "tenant_id": ref.tenant_id,
            "kind": ref.kind,
            "team_id": ref.team_id,
            "user_aad_id": ref.user_aad_id,
            "updated_at": self._clock.now(),
        }
        try:
            with self._sessions.begin() as s:
                row = s.get(TeamsConversation, ref.id, with_for_update=True)
                if row is None:
                    s.add(TeamsConversation(id=ref.id, **values))
                else:
                    for key, value in values.items():
                        if value is not None or key in ("service_url", "updated_at"):
                            setattr(row, key, value)
        except IntegrityError:  # another request stored it first: it says the same
            pass
        with self._lock:
            self._known[ref.id] = ref

    def get(self, conversation_id: str) -> ConversationRef | None:
        base, _ = split_thread(conversation_id)
        with self._lock:
            known = self._known.get(base)
        if known is not None:
            return known
        with self._sessions() as s:
            row = s.get(TeamsConversation, base)
            if row is None:
                return None
            ref = _ref(row)
        with self._lock:
            self._known[base] = ref
        return ref

    def personal(self, aad_id: str) -> ConversationRef | None:
        """The 1:1 chat with a person, when they have written to the bot."""
        with self._sessions() as s:
            row = s.scalar(
                select(TeamsConversation)
                .where(
                    TeamsConversation.user_aad_id == aad_id,
                    TeamsConversation.kind == "personal",
                )
                .order_by(TeamsConversation.updated_at.desc())
                .limit(1)
            )
            return _ref(row) if row is not None else None


def _ref(row: TeamsConversation) -> ConversationRef:
    return ConversationRef(
        id=row.id,
        service_url=row.service_url,
        tenant_id=row.tenant_id,
        kind=row.kind,
        team_id=row.team_id,
        user_aad_id=row.user_aad_id,
    )
