"""How fast the emulator saw posts arrive in each channel."""

from __future__ import annotations

from bot.sandbox.slack.records import ApiCall


def faster_than(calls: list[ApiCall], rate: float, burst: int) -> list[str]:
    """Channels that took more posts in some span than `burst` plus `rate` a second allow."""
    times: dict[str, list[float]] = {}
    for c in calls:
        times.setdefault(str(c.params["channel"]), []).append(c.at)
    too_fast = []
    for channel, at in times.items():
        at.sort()
        for i in range(len(at)):
            for j in range(i + 1, len(at)):
                if j - i + 1 > burst + (at[j] - at[i]) * rate + 1e-6:
                    too_fast.append(channel)
                    break
            else:
                continue
            break
    return too_fast


def most_within(calls: list[ApiCall], seconds: float) -> int:
    """The most posts one channel took within any `seconds`."""
    most = 0
    for channel in {str(c.params["channel"]) for c in calls}:
        at = sorted(c.at for c in calls if c.params["channel"] == channel)
        for i, start in enumerate(at):
            most = max(most, sum(1 for t in at[i:] if t - start < seconds))
    return most
