"""The dispatcher's per-channel pace: a token bucket, Retry-After pauses, and the technician
channel's token kept for an alert storm's summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.delivery.pacing import ChannelPacer

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TECH = "CTECH"


def test_ordinary_posts_leave_the_reserved_token_for_an_urgent_one() -> None:
    pacer = ChannelPacer(rate=0.9, burst=3, reserved={TECH: 1.0})
    assert pacer.take(TECH, T0) is None
    assert pacer.take(TECH, T0) is None
    retry_at = pacer.take(TECH, T0)  # the third token is kept
    assert retry_at is not None and retry_at > T0
    assert TECH in pacer.blocked(T0)
    assert pacer.available(TECH, T0) == 0.0
    assert pacer.available(TECH, T0, urgent=True) == 1.0
    assert pacer.take(TECH, T0, urgent=True) is None  # the storm summary goes at once
    assert pacer.take(TECH, T0, urgent=True) is not None


def test_the_reserve_refills_before_ordinary_posts_go_again() -> None:
    pacer = ChannelPacer(rate=1.0, burst=3, reserved={TECH: 1.0})
    for _ in range(3):
        assert pacer.take(TECH, T0, urgent=True) is None
    # Ordinary posts need two tokens (one to send, one kept): two seconds from empty.
    assert pacer.next_token_in(T0) == 2.0
    assert pacer.take(TECH, T0 + timedelta(seconds=1.5)) == T0 + timedelta(seconds=2)
    assert pacer.take(TECH, T0 + timedelta(seconds=2)) is None


def test_other_channels_keep_their_whole_burst() -> None:
    pacer = ChannelPacer(rate=0.9, burst=3, reserved={TECH: 1.0})
    assert [pacer.take("CCLIENT", T0) for _ in range(3)] == [None, None, None]
    assert pacer.take("CCLIENT", T0) is not None
    assert pacer.blocked(T0) == ["CCLIENT"]


def test_a_retry_after_pause_stops_urgent_posts_too() -> None:
    pacer = ChannelPacer(rate=0.9, burst=3, reserved={TECH: 1.0})
    until = T0 + timedelta(seconds=30)
    pacer.pause(TECH, until)
    assert pacer.take(TECH, T0, urgent=True) == until
    assert pacer.available(TECH, T0, urgent=True) == 0.0
    assert pacer.next_token_in(T0) == 30.0
