"""The forms both surfaces show — new ticket, assign, dispatch onsite, resolve, still broken — each
one spec: fields, labels, help, limits, choices. bot/slack/modals.py renders them as modals,
bot/teams/dialogs.py as dialogs. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.messages import ids
from bot.messages.blocks import priority_label
from bot.messages.escape import one_line
from bot.messages.view import AFFECTED_CHOICES, PRIORITIES, PRIORITY_HELP, PersonRef

TITLE_LENGTH = 150
DESCRIPTION_LENGTH = 3000
NO_TECHNICIANS = "No technicians are known yet. Set {setting} or invite them."


@dataclass(frozen=True)
class TextField:
    key: tuple[str, str]  # ids.IN_*: Slack's (block_id, action_id); Teams names the input by [0]
    label: str
    max_length: int
    placeholder: str = ""
    required: bool = True
    multiline: bool = False
    hint: str = ""
    initial: str = ""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    help: str = ""  # what choosing it means (each priority's explanation)


@dataclass(frozen=True)
class ChoiceField:
    key: tuple[str, str]
    label: str
    choices: tuple[Choice, ...]
    missing: str = ""  # what to say when a required choice was not made
    required: bool = True
    expanded: bool = False  # every choice on show (radio buttons), else a drop-down
    placeholder: str = ""
    hint: str = ""
    initial: str | None = None  # the value chosen at first


Field = TextField | ChoiceField


@dataclass(frozen=True)
class Form:
    verb: str  # ids.VIEW_*: Slack's callback_id, the verb of Teams' submit
    title: str  # a ticket's form adds ` #id`
    submit: str
    fields: tuple[Field, ...]


PRIORITY_CHOICES = tuple(Choice(p, priority_label(p), PRIORITY_HELP[p]) for p in PRIORITIES)
AFFECTED = tuple(Choice(key, label) for key, label in AFFECTED_CHOICES.items())


def new_ticket(initial_title: str = "") -> Form:
    """The create form; `initial_title` (raw text) pre-fills the title."""
    fields: tuple[Field, ...] = (
        TextField(
            ids.IN_TITLE,
            "Title",
            TITLE_LENGTH,
            "e.g. Internet down at the main office",
            initial=one_line(initial_title, TITLE_LENGTH),
        ),
        TextField(
            ids.IN_DESCRIPTION,
            "Description",
            DESCRIPTION_LENGTH,
            "What happened, since when, what you already tried",
            required=False,
            multiline=True,
        ),
        ChoiceField(
            ids.IN_PRIORITY,
            "Priority",
            PRIORITY_CHOICES,
            "Choose a priority.",
            expanded=True,
            hint="Critical: " + PRIORITY_HELP["critical"],
            initial="medium",
        ),
        ChoiceField(
            ids.IN_AFFECTED,
            "How many people are affected?",
            AFFECTED,
            required=False,
            placeholder="Choose…",
        ),
    )
    return Form(ids.VIEW_CREATE, "New ticket", "Create", fields)


def assign(technicians: Technicians | None, title: NameFit) -> Form:
    """Whom to assign; without `technicians`, a form with no field (surfaces say NO_TECHNICIANS)."""
    fields: tuple[Field, ...] = ()
    if technicians is not None:
        fields = (technicians.field(ids.IN_ASSIGNEE, "Technician", title),)
    return Form(ids.VIEW_ASSIGN, "Assign", "Assign", fields)


def dispatch(technicians: Technicians | None, title: NameFit) -> Form:
    """Who goes onsite, when, and a note; like `assign` without `technicians`."""
    fields: tuple[Field, ...] = ()
    if technicians is not None:
        fields = (
            technicians.field(ids.IN_ONSITE_WHO, "Who goes onsite", title),
            TextField(ids.IN_ONSITE_ETA, "ETA", 100, "e.g. 30 min, or 14:00"),
            TextField(
                ids.IN_ONSITE_NOTE,
                "Note for the client",
                1000,
                "e.g. Please have the server room open",
                required=False,
                multiline=True,
            ),
        )
    return Form(ids.VIEW_DISPATCH, "Dispatch", "Dispatch", fields)


RESOLVE = Form(
    ids.VIEW_RESOLVE,
    "Resolve",
    "Resolve",
    (
        TextField(
            ids.IN_VERIFICATION,
            "How did you verify the fix?",
            2000,
            "e.g. ISP confirmed service restored; tested from two PCs",
            multiline=True,
            hint="The submitter sees this and is asked to confirm the fix.",
        ),
    ),
)
STILL_BROKEN = Form(
    ids.VIEW_STILL_BROKEN,
    "Still broken",
    "Reopen",
    (
        TextField(
            ids.IN_REASON,
            "What is still not working?",
            2000,
            "e.g. Still no internet on floor 2",
            multiline=True,
        ),
    ),
)


# A technician's choice label: their name, fitted by the surface, then `suffix` (" — 3 open").
NameFit = Callable[[PersonRef, str], str]


@dataclass(frozen=True)
class Technicians:
    """The technicians a form offers, in the order given, with their open tickets; `note` says
    when some were left out; `initial` is the current one's key when they are offered."""

    offered: tuple[tuple[PersonRef, int, str], ...]  # (person, open tickets, key)
    note: str
    initial: str | None

    def field(self, key: tuple[str, str], label: str, title: NameFit) -> ChoiceField:
        choices = tuple(
            Choice(found, title(person, f" — {count} open"))
            for person, count, found in self.offered
        )
        return ChoiceField(
            key,
            label,
            choices,
            "Choose a technician.",
            placeholder="Choose a technician",
            hint=self.note,
            initial=self.initial,
        )


def technicians(
    candidates: Sequence[tuple[PersonRef, int]],
    current: PersonRef | None,
    key: Callable[[PersonRef], str | None],
    cap: int,
) -> Technicians | None:
    """Whom to offer (people `key` names, each once): over `cap`, the least busy ones, and always
    the current one. None when there is nobody to offer."""
    seen: set[str] = set()
    pool: list[tuple[PersonRef, int, str]] = []
    for person, count in candidates:
        found = key(person)
        if found and found not in seen:
            seen.add(found)
            pool.append((person, count, found))
    if not pool:
        return None
    current_key = key(current) if current else None
    note = ""
    if len(pool) > cap:
        ranked = sorted(range(len(pool)), key=lambda i: (pool[i][2] != current_key, pool[i][1]))
        keep = set(ranked[:cap])
        note = f"Showing the {cap} least busy of {len(pool)} technicians."
        pool = [item for i, item in enumerate(pool) if i in keep]
    initial = current_key if any(found == current_key for *_, found in pool) else None
    return Technicians(tuple(pool), note, initial)
