"""Whether the client sees a recorded thread reply now, derived from its immutable timeline rows.

Pure: imports only the standard library. A reply's rows share its Slack message: the original first.
"""

from __future__ import annotations

from collections.abc import Iterable

# Originals the client sees: a technician's update, and the client's own reply.
PUBLIC_ORIGINALS = frozenset({"update", "client_reply"})
# Originals whose author decides by the internal marker, edit by edit.
CARD_REPLIES = frozenset({"update", "internal_note"})
EDITED = "edited"  # the client's view follows the edit: the mirror is updated
MADE_INTERNAL = "made_internal"  # an update edited into an internal note: the mirror is deleted
MADE_PUBLIC = "made_public"  # an internal note edited into an update: mirrored and emailed
INTERNAL_EDIT = "internal_edit"  # an edit the client never sees
DELETED = "deleted"


def after(public: bool | None, kind: str) -> bool:
    """The reply's visibility after a row of `kind`; `public` is None before its original."""
    if public is None:
        return kind in PUBLIC_ORIGINALS
    if kind == MADE_PUBLIC:
        return True
    if kind == MADE_INTERNAL:
        return False
    return public


def is_public(kinds: Iterable[str]) -> bool:
    """Whether the client sees the reply whose rows, oldest first, have these kinds."""
    public: bool | None = None
    for kind in kinds:
        public = after(public, kind)
    return bool(public)
