from __future__ import annotations

from bot.messages.encoded import (
    Channel,
    Link,
    Special,
    Text,
    Unknown,
    User,
    decode,
    link_text,
    parts,
)


def test_parts_reads_every_kind_of_sequence_in_order() -> None:
    text = "hi <@U1|bob> in <#C2|general>: <https://x.io|docs> <!here> <!subteam^S9|@ops> <b> &amp;"
    assert list(parts(text)) == [
        Text("hi "),
        User("U1", "bob"),
        Text(" in "),
        Channel("C2", "general"),
        Text(": "),
        Link("https://x.io", "docs"),
        Text(" "),
        Special("here", "", ""),
        Text(" "),
        Special("subteam", "^S9", "@ops"),
        Text(" "),
        Unknown("b"),
        Text(" &amp;"),
    ]


def test_parts_lowercases_the_kind_of_a_special_and_keeps_values_encoded() -> None:
    assert list(parts("<!DATE^1^{time}|a &amp; b>")) == [
        Text(""),
        Special("date", "^1^{time}", "a &amp; b"),
        Text(""),
    ]


def test_decode_turns_the_three_entities_back() -> None:
    assert decode("&lt;b&gt; &amp;amp;") == "<b> &amp;"


def test_link_text_shows_the_address_unless_the_label_adds_nothing() -> None:
    assert link_text("https://x.io/a", "docs") == "docs (https://x.io/a)"
    assert link_text("https://x.io/a", "x.io/a") == "https://x.io/a"
    assert link_text("https://x.io/a", "") == "https://x.io/a"
    assert link_text("mailto:a@b.c", "a@b.c") == "a@b.c"
    assert link_text("mailto:a@b.c", "Ann") == "Ann (mailto:a@b.c)"
