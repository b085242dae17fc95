from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.messages.escape import ZWSP
from bot.teams.text import paragraphs, slack_to_teams, teams_md

NAMES = {"U0TECH0001": "Sam Tech", "U0EVIL0001": "<at>Technicians</at> [x](https://e.vil)"}
# A markdown link or image, an autolink, a reference definition, or a bindable <at> tag.
_LIVE_MARKUP = re.compile(r"\]\(|\]\[|\]:|<[a-z/!]|\$\{", re.IGNORECASE)


@pytest.mark.parametrize(
    ("slack", "teams"),
    [
        ("*bold*", "**bold**"),
        ("a *bold move* b", "a **bold move** b"),
        ("_italic_", "_italic_"),
        ("~gone~", "gone"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("snake_case_name", "snake_case_name"),
        ("<https://example.com|the docs>", "the docs (https://example.com)"),
        ("<https://example.com>", "https://example.com"),
        ("<https://example.com|example.com>", "https://example.com"),
        ("<https://e.com/?a=1&amp;b=2|q>", "q (https://e.com/?a=1&b=2)"),
        ("<mailto:a@b.example|a@b.example>", "a@b.example"),
        ("<@U0TECH0001> is on it", "Sam Tech is on it"),
        ("<@U0NOBODY01> is on it", "someone is on it"),
        ("<@U0TECH0001|sam> hi", "Sam Tech hi"),
        ("in <#C0123|ops>", "in #ops"),
        ("in <#C0123>", "in #channel"),
        ("<!here> 🔴 down", " 🔴 down"),
        ("<!channel> <!everyone> x", "  x"),
        ("<!subteam^S0123|@oncall> x", " x"),
        (
            "at <!date^1700000000^{date_short_pretty}|2023-11-14 22:13 UTC>",
            "at 2023-11-14 22:13 UTC",
        ),
        ("&lt;b&gt; &amp; co", f"<{ZWSP}b> & co"),
        ("&lt;at&gt;Technicians&lt;/at&gt;", f"<{ZWSP}at>Technicians<{ZWSP}/at>"),
        ("[x](https://e.vil)", f"]{ZWSP}(".join(["[x", "https://e.vil)"])),
        ("![img](https://e.vil/a.png)", f"![img]{ZWSP}(https://e.vil/a.png)"),
        ("@{ZWSP}here".replace("{ZWSP}", ZWSP), f"@{ZWSP}here"),
        ("${user.secret}", f"${ZWSP}{{user.secret}}"),
        ("<weird thing>", f"<{ZWSP}weird thing>"),
        ("line 1\nline 2", "line 1\nline 2"),
    ],
)
def test_mrkdwn_translation(slack: str, teams: str) -> None:
    assert slack_to_teams(slack, NAMES) == teams


def test_names_from_the_mapping_are_inert_too() -> None:
    out = slack_to_teams("<@U0EVIL0001>", NAMES)
    assert not _LIVE_MARKUP.search(out)


def test_labels_of_links_cannot_carry_markup() -> None:
    out = slack_to_teams("<https://ok.example|[a](https://e.vil)>", NAMES)
    assert not _LIVE_MARKUP.search(out)
    assert "(https://ok.example)" in out


def test_teams_md_keeps_text_visible() -> None:
    assert teams_md("a < b and [c] (d)") == f"a <{ZWSP} b and [c]{ZWSP} (d)"
    assert teams_md("tab\there\r\nnew\x00") == "tab\there\nnew"


def test_paragraphs_double_every_line_break() -> None:
    assert paragraphs("\na\nb\n\n\nc\n") == "a\n\nb\n\nc"


@given(st.text())
def test_teams_md_never_leaves_live_markup(raw: str) -> None:
    assert not _LIVE_MARKUP.search(teams_md(raw))


@given(st.text(alphabet=st.sampled_from(list("<>|&;!@#^*_~[]()$:{}abUC01 \n"))))
def test_slack_to_teams_never_leaves_live_markup(slack: str) -> None:
    assert not _LIVE_MARKUP.search(slack_to_teams(slack, NAMES))
