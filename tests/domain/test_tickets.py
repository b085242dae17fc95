from __future__ import annotations

import pytest

from bot.domain.tickets import (
    OPEN_STATES,
    RULES,
    Event,
    InvalidStateError,
    MissingInputError,
    NotAllowedError,
    Role,
    State,
    TransitionError,
    allowed,
    apply,
    is_open,
)

# Short names so the expected table below reads like the one in the brief.
NEW, ASG, WIP, AWAIT, CLOSED, CANCELLED = (
    State.NEW,
    State.ASSIGNED,
    State.IN_PROGRESS,
    State.AWAITING_CONFIRMATION,
    State.CLOSED,
    State.CANCELLED,
)
EMP, SUB, CON, TEC, ASE, HLP, MGR, MON, SYS = (
    Role.EMPLOYEE,
    Role.SUBMITTER,
    Role.CONTACT,
    Role.TECHNICIAN,
    Role.ASSIGNEE,
    Role.HELPER,
    Role.MANAGER,
    Role.MONITORING,
    Role.SYSTEM,
)

# Written out by hand from the spec, deliberately not derived from RULES.
# event: (roles that may act, states it may act from, new state; None = unchanged)
EXPECTED: dict[Event, tuple[set[Role], set[State], State | None]] = {
    Event.ASSIGN: ({MGR}, {NEW, ASG, WIP}, ASG),
    Event.START: ({ASE, HLP, MGR}, {ASG}, WIP),
    Event.UPDATE: ({TEC, MGR, MON}, {NEW, ASG, WIP, AWAIT}, None),
    Event.INTERNAL_NOTE: ({TEC, MGR}, {NEW, ASG, WIP, AWAIT, CLOSED}, None),
    Event.CLIENT_REPLY: ({SUB, CON, EMP, TEC, MGR}, {NEW, ASG, WIP, AWAIT, CLOSED}, None),
    Event.CHANGE_PRIORITY: ({TEC, MGR, MON}, {NEW, ASG, WIP, AWAIT}, None),
    Event.REQUEST_HELP: ({ASE, HLP, TEC, MGR}, {NEW, ASG, WIP}, None),
    Event.OFFER_HELP: ({TEC, MGR}, {NEW, ASG, WIP}, None),
    Event.DISPATCH_ONSITE: ({ASE, HLP, TEC, MGR}, {ASG, WIP}, None),
    Event.RESOLVE: ({ASE, HLP, MGR}, {ASG, WIP}, AWAIT),
    Event.CONFIRM: ({SUB, CON, MGR}, {AWAIT}, CLOSED),
    Event.REOPEN: ({SUB, CON, MGR}, {AWAIT}, ASG),
    Event.CANCEL: ({SUB, MGR}, {NEW, ASG}, CANCELLED),
    Event.AUTO_CLOSE: ({SYS}, {AWAIT}, CLOSED),
}

ROLE_SETS = [frozenset({role}) for role in Role] + [
    frozenset(),
    frozenset({ASE, TEC}),
    frozenset({HLP, TEC}),
    frozenset({ASE, MGR}),
    frozenset({SUB, EMP}),
    frozenset({SUB, CON}),
]
NEEDS_NOTE = {Event.RESOLVE, Event.REOPEN}


def expected(state: State, event: Event, roles: frozenset[Role]) -> State | type[TransitionError]:
    who, states, to = EXPECTED[event]
    if not roles & who:
        return NotAllowedError
    if state not in states:
        return InvalidStateError
    if event is Event.UPDATE and state is ASG and roles & {ASE, HLP}:
        return WIP  # the first update by the assignee or a helper starts work
    return to or state


CASES = [
    pytest.param(state, event, roles, id=f"{state}-{event}-{'+'.join(sorted(roles)) or 'nobody'}")
    for state in State
    for event in Event
    for roles in ROLE_SETS
]


@pytest.mark.parametrize(("state", "event", "roles"), CASES)
def test_apply_matches_expected_table(state: State, event: Event, roles: frozenset[Role]) -> None:
    want = expected(state, event, roles)
    note = "Tested with the user." if event in NEEDS_NOTE else None
    if isinstance(want, State):
        assert apply(7, state, event, roles, note=note) is want
        assert allowed(state, event, roles)
    else:
        with pytest.raises(TransitionError) as caught:
            apply(7, state, event, roles, note=note)
        assert type(caught.value) is want
        assert allowed(state, event, roles) is False


@pytest.mark.parametrize(("state", "event", "roles"), CASES)
def test_refusal_message_is_plain_words(state: State, event: Event, roles: frozenset[Role]) -> None:
    try:
        apply(4321, state, event, roles, note=None)
    except TransitionError as exc:
        message = exc.message
        assert str(exc) == message
        assert "#4321" in message
        assert message[0].isupper() and message.endswith(".")
        for internal in ("Error", "Traceback", "State.", "Role.", "Event.", "<", "_", "None"):
            assert internal not in message
    else:
        assert isinstance(expected(state, event, roles), State)


def test_rules_cover_every_event_and_match_expected_table() -> None:
    assert set(RULES) == set(Event)
    for event, (who, states, to) in EXPECTED.items():
        rule = RULES[event]
        assert (set(rule.roles), set(rule.states), rule.to) == (who, states, to)


def test_role_is_checked_before_state_and_note() -> None:
    with pytest.raises(NotAllowedError):
        apply(7, CLOSED, Event.RESOLVE, frozenset({EMP}), note=None)


def test_state_is_checked_before_note() -> None:
    with pytest.raises(InvalidStateError):
        apply(7, CLOSED, Event.RESOLVE, frozenset({ASE}), note=None)


@pytest.mark.parametrize("note", [None, "", "   ", "\n\t"])
@pytest.mark.parametrize(
    ("state", "event", "roles"),
    [(WIP, Event.RESOLVE, frozenset({ASE})), (AWAIT, Event.REOPEN, frozenset({SUB}))],
)
def test_blank_note_is_refused_when_a_note_is_needed(
    state: State, event: Event, roles: frozenset[Role], note: str | None
) -> None:
    with pytest.raises(MissingInputError) as caught:
        apply(7, state, event, roles, note=note)
    assert "#7" in caught.value.message


@pytest.mark.parametrize(("event", "roles"), [(Event.START, {ASE}), (Event.CANCEL, {SUB})])
def test_note_is_optional_for_other_events(event: Event, roles: set[Role]) -> None:
    assert apply(7, ASG, event, frozenset(roles), note="   ") in State


@pytest.mark.parametrize(
    ("state", "event", "roles", "note", "message"),
    [
        (NEW, Event.ASSIGN, {TEC}, None, "Only a manager can assign ticket #7 — it is unchanged."),
        (
            ASG,
            Event.START,
            {TEC},
            None,
            "Only the assignee, a helper or a manager can start work on ticket #7"
            " — it is unchanged.",
        ),
        (CLOSED, Event.RESOLVE, {ASE}, "ok", "Ticket #7 is closed, so you can't resolve it."),
        (
            NEW,
            Event.START,
            {ASE},
            None,
            "Ticket #7 isn't assigned yet; a manager has to assign it before work starts.",
        ),
        (NEW, Event.CONFIRM, {SUB}, None, "Ticket #7 isn't assigned yet, so you can't confirm it."),
        (
            WIP,
            Event.RESOLVE,
            {ASE},
            " ",
            "Please say how the fix for ticket #7 was verified"
            " (for example: ISP confirmed service restored).",
        ),
        (AWAIT, Event.REOPEN, {SUB}, "", "Please say what is still broken on ticket #7."),
    ],
)
def test_refusal_message_wording(
    state: State, event: Event, roles: set[Role], note: str | None, message: str
) -> None:
    with pytest.raises(TransitionError) as caught:
        apply(7, state, event, frozenset(roles), note=note)
    assert caught.value.message == message


def test_full_lifecycle_with_a_reopen() -> None:
    tech, client, boss = frozenset({ASE, TEC}), frozenset({SUB, EMP}), frozenset({MGR})
    state = apply(1, NEW, Event.ASSIGN, boss)
    state = apply(1, state, Event.UPDATE, tech)
    assert state is WIP
    state = apply(1, state, Event.RESOLVE, tech, note="Printed a test page.")
    state = apply(1, state, Event.REOPEN, client, note="Tray 2 still jams.")
    assert state is ASG
    state = apply(1, state, Event.START, tech)
    state = apply(1, state, Event.RESOLVE, tech, note="Replaced the roller; 50 pages, no jam.")
    assert apply(1, state, Event.CONFIRM, client) is CLOSED


def test_open_states_are_all_but_closed_and_cancelled() -> None:
    assert {NEW, ASG, WIP, AWAIT} == OPEN_STATES
    assert [state for state in State if is_open(state)] == [NEW, ASG, WIP, AWAIT]
