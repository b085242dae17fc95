from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.messages.escape import (
    TRUNCATION_MARKER,
    ZWSP,
    mrkdwn,
    neutralise_encoded,
    one_line,
    slack_to_plain,
    truncate,
)

LITERAL_BROADCAST = re.compile(r"@(?:here|channel|everyone)", re.IGNORECASE)
# Text biased towards the characters that matter, plus anything at all.
nasty = st.lists(
    st.one_of(
        st.sampled_from(list("<>&@!|^;#\r\n\t\x00\x1b\u2028\u202e\u200b")),
        st.sampled_from(["here", "channel", "everyone", "HeRe", "amp;", "lt;", "subteam^S1", "U1"]),
        st.characters(),
    ),
    max_size=80,
).map("".join)


def test_mrkdwn_escapes_control_characters_of_mrkdwn() -> None:
    assert mrkdwn("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"
    assert mrkdwn("&lt;") == "&amp;lt;"


def test_mrkdwn_makes_typed_mentions_literal() -> None:
    assert mrkdwn("<!channel> hi <@U123>") == "&lt;!channel&gt; hi &lt;@U123&gt;"


def test_mrkdwn_neutralises_literal_broadcasts_case_insensitively() -> None:
    assert mrkdwn("ping @here and @Channel and @EVERYONE") == (
        f"ping @{ZWSP}here and @{ZWSP}Channel and @{ZWSP}EVERYONE"
    )


def test_mrkdwn_strips_control_characters_but_keeps_newline_and_tab() -> None:
    assert mrkdwn("a\x00b\x1b[31mc\r\nd\te\u202ef") == "ab[31mc\nd\tef"


def test_mrkdwn_control_character_cannot_hide_a_broadcast() -> None:
    assert mrkdwn("@\x00here") == f"@{ZWSP}here"


@given(nasty)
def test_mrkdwn_output_never_pings_or_breaks_markup(text: str) -> None:
    out = mrkdwn(text)
    assert "<" not in out and ">" not in out
    assert "<!" not in out
    assert not LITERAL_BROADCAST.search(out)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", out)


@given(nasty)
def test_mrkdwn_is_stable_on_already_neutralised_broadcasts(text: str) -> None:
    once = mrkdwn(text)
    assert not LITERAL_BROADCAST.search(mrkdwn(once))


def test_neutralise_encoded_keeps_user_channel_mentions_and_links() -> None:
    text = (
        "Cc <@U0TECH0002> in <#C0TECHS001|techs>, see <https://status.example/x?a=1&amp;b=2|status>"
    )
    assert neutralise_encoded(text) == text


def test_neutralise_encoded_keeps_encoded_text_as_is() -> None:
    text = "On my way. &lt;!here&gt; is literal &amp; fine"
    assert neutralise_encoded(text) == text


def test_neutralise_encoded_disarms_broadcasts_and_groups() -> None:
    out = neutralise_encoded(
        "<!here> <!channel|channel> <!everyone> <!subteam^S0TECHGRP1|@oncall-techs> <!subteam^S1>"
    )
    assert out == (f"@{ZWSP}here @{ZWSP}channel @{ZWSP}everyone @{ZWSP}oncall-techs @{ZWSP}group")


def test_neutralise_encoded_disarms_literal_broadcast_text_and_labels() -> None:
    assert neutralise_encoded("@here <https://x.example|@channel>") == (
        f"@{ZWSP}here <https://x.example|@{ZWSP}channel>"
    )


def test_neutralise_encoded_keeps_dates_and_escapes_unknown_sequences() -> None:
    assert (
        neutralise_encoded("<!date^1767225600^{date}|Jan 1>") == "<!date^1767225600^{date}|Jan 1>"
    )
    assert neutralise_encoded("<script>") == "&lt;script&gt;"
    assert neutralise_encoded("a < b & c") == "a &lt; b &amp; c"


@given(nasty)
def test_neutralise_encoded_never_leaves_a_live_broadcast(text: str) -> None:
    out = neutralise_encoded(text)
    assert not re.search(r"<!(?!date\^)", out)
    assert not LITERAL_BROADCAST.search(re.sub(r"<(?:https?|mailto|tel|ftp):[^|>]*", "", out))


def test_slack_to_plain_converts_for_email() -> None:
    names = {"U1": "Sam Tech"}
    text = (
        "<@U1> and <@U2> in <#C1|general>: see <https://x.example/a|the page> or "
        "<https://y.example> &lt;3 &amp; <!here> <mailto:a@b.example|a@b.example> "
        "<!subteam^S1|@oncall>"
    )
    assert slack_to_plain(text, names) == (
        "@Sam Tech and @U2 in #general: see the page (https://x.example/a) or "
        "https://y.example <3 & @here a@b.example @oncall"
    )


def test_slack_to_plain_decodes_amp_last() -> None:
    assert slack_to_plain("&amp;lt;", {}) == "&lt;"


def test_one_line_removes_header_breaking_characters() -> None:
    assert one_line("Printer\r\nBcc: x@example.com\u2028\x85 jams\t\x00 now ", 200) == (
        "Printer Bcc: x@example.com jams now"
    )


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_one_line_is_one_line_within_limit(text: str, limit: int) -> None:
    out = one_line(text, limit)
    assert len(out) <= limit
    assert out.splitlines() in ([], [out])
    assert "\r" not in out and "\n" not in out


def test_one_line_truncates_with_ellipsis() -> None:
    assert one_line("abcdefghij", 5) == "abcd…"


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate("short", 10) == "short"


def test_truncate_marks_visibly() -> None:
    out = truncate("x" * 100, 50)
    assert len(out) <= 50 and out.endswith(TRUNCATION_MARKER)


def test_truncate_does_not_cut_an_entity() -> None:
    text = "a" * 30 + "&amp;" + "b" * 30
    for limit in range(30 + len(TRUNCATION_MARKER), 36 + len(TRUNCATION_MARKER)):
        out = truncate(text, limit)
        body = out.removesuffix(TRUNCATION_MARKER)
        assert body.count("&") == body.count("&amp;"), out


def test_truncate_does_not_cut_a_mention_or_link() -> None:
    text = "see " + "<https://example.com/" + "p" * 40 + "|page>" + " tail" * 20
    for limit in range(20, 90):
        body = truncate(text, limit).removesuffix(TRUNCATION_MARKER)
        assert body.count("<") == body.count(">"), body


@given(nasty, st.integers(min_value=0, max_value=400))
def test_truncate_stays_within_limit_and_marks(text: str, limit: int) -> None:
    escaped = mrkdwn(text)
    out = truncate(escaped, limit)
    assert len(out) <= limit
    if len(escaped) > limit and limit >= len(TRUNCATION_MARKER):
        assert out.endswith(TRUNCATION_MARKER)
        body = out.removesuffix(TRUNCATION_MARKER)
        assert not re.search(r"&[a-z]{0,3}$", body)
    elif len(escaped) <= limit:
        assert out == escaped
