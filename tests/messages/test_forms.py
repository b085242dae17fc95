from __future__ import annotations

from bot.messages import forms, ids
from bot.messages.forms import ChoiceField, TextField
from bot.messages.view import PRIORITIES, PersonRef


def _tech(i: int) -> PersonRef:
    return PersonRef(f"Tech {i}", f"U{i:04d}")


def _key(person: PersonRef) -> str | None:
    return person.slack_id


def _title(person: PersonRef, suffix: str) -> str:
    return person.name + suffix


def test_new_ticket_asks_title_description_priority_and_affected() -> None:
    form = forms.new_ticket("  printer\njammed ")
    assert form.verb == ids.VIEW_CREATE and form.submit == "Create"
    assert [f.key for f in form.fields] == [
        ids.IN_TITLE,
        ids.IN_DESCRIPTION,
        ids.IN_PRIORITY,
        ids.IN_AFFECTED,
    ]
    title, description, priority, affected = form.fields
    assert isinstance(title, TextField) and title.required and title.initial == "printer jammed"
    assert isinstance(description, TextField) and not description.required
    assert isinstance(priority, ChoiceField) and priority.initial == "medium"
    assert [c.value for c in priority.choices] == list(PRIORITIES)
    assert all(c.help for c in priority.choices)
    assert isinstance(affected, ChoiceField) and not affected.required


def test_technicians_offers_each_once_in_the_order_given() -> None:
    offered = forms.technicians(
        [(_tech(1), 3), (_tech(2), 0), (_tech(1), 3), (PersonRef("No id"), 1)], _tech(2), _key, 10
    )
    assert offered is not None
    assert [key for *_, key in offered.offered] == ["U0001", "U0002"]
    assert offered.initial == "U0002" and offered.note == ""


def test_technicians_over_the_cap_keeps_the_least_busy_and_the_current_one() -> None:
    pool = [(_tech(i), 10 - i) for i in range(10)]
    offered = forms.technicians(pool, _tech(0), _key, 3)
    assert offered is not None
    assert [key for *_, key in offered.offered] == ["U0000", "U0008", "U0009"]
    assert offered.note == "Showing the 3 least busy of 10 technicians."
    assert offered.initial == "U0000"


def test_technicians_is_none_when_nobody_can_be_offered() -> None:
    assert forms.technicians([(PersonRef("No id"), 1)], None, _key, 3) is None


def test_assign_without_technicians_has_no_field() -> None:
    assert forms.assign(None, _title).fields == ()
    offered = forms.technicians([(_tech(1), 2)], None, _key, 3)
    assert offered is not None
    (field,) = forms.assign(offered, _title).fields
    assert isinstance(field, ChoiceField)
    assert [(c.value, c.label) for c in field.choices] == [("U0001", "Tech 1 — 2 open")]
    assert field.initial is None
