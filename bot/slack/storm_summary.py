"""The storm lane: an alert storm's summary, posted once, then kept current in place."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.messages import alerts
from bot.outbox.claims import Claimed, Claims
from bot.outbox.errors import Deferred
from bot.outbox.pacing import PaceRule
from bot.outbox.shared import Outbox
from bot.slack import storm_rows as storm
from bot.slack.route import CHANNEL, SlackRoute
from storage.models import AlertStorm

# The outbox kind of a storm's summary: delivered in a lane of its own.
KIND = "storm"
# The shortest gap between two renders of a storm summary while tickets keep joining it.
STORM_REFRESH = timedelta(seconds=0.3)

# The pace (bot.outbox.pacing) of chat.update of storm summaries: Slack's Tier 3 (about 50 a
# minute, bursts).
UPDATES = "slack_update"
UPDATES_PACE = PaceRule(50 / 60, 20)


class StormSummaries:
    def __init__(self, outbox: Outbox, *, slack: SlackRoute) -> None:
        self._slack = slack
        self._sessions = outbox.sessions
        self._reads = outbox.reads
        self._clock = outbox.clock
        self._metrics = outbox.metrics
        self._row_locks = outbox.postgres
        self._updated: dict[int, datetime] = {}  # storm id → its summary's last chat.update
        self._paces = outbox.paces

    def deliver(self, row: Claimed, claims: Claims) -> None:
        """Post the summary once, then keep it current (coalescing updates).

        The row is finished in the transaction that locks the storm: a delivery adding tickets
        to it (AlertService._close_storms) either commits first, and this row renders again, or
        comes after and finds the row done, and queues a new one.
        """
        row_id, storm_id = row.id, int(row.payload["storm_id"])
        mention = str(row.payload.get("mention") or "")
        with self._reads() as s:
            snap = storm.snapshot(s, storm_id)
        if snap is None:
            claims.finish(
                row_id, status="done", result={"skipped": "storm gone"}, count_attempt=True
            )
            return
        ts, shown = snap.summary_ts, snap.rendered
        result: dict[str, Any] = {"skipped": "summary already current"}
        if ts is None or shown < snap.total:
            msg = alerts.storm_summary(snap.lines, snap.total, snap.started_at, mention)
            if ts is None:
                _, ts = self._slack.post_paced(
                    snap.channel, row, urgent=True, text=msg.text, blocks=msg.blocks
                )
            else:
                self._update(storm_id, snap.channel, ts, msg.text, msg.blocks)
            shown = snap.total
            result = {"channel": snap.channel, "ts": ts, "tickets": shown}
        # FOR NO KEY UPDATE on PostgreSQL: it need not wait for deliveries that only insert rows
        # referring to the storm (they hold KEY SHARE), only for one counting tickets into it.
        lock: bool | dict[str, bool] = {"key_share": True} if self._row_locks else False
        with self._sessions.begin() as s:
            current = s.get(AlertStorm, storm_id, with_for_update=lock)
            if current is None:
                result = {"skipped": "storm gone"}
            else:
                current.summary_ts, current.rendered_count = ts, shown
                if current.ticket_count > shown:  # more joined meanwhile: render again soon
                    claims.finish(
                        row_id,
                        status="pending",
                        next_at=self._clock.now() + STORM_REFRESH,
                        count_attempt=False,
                        session=s,
                    )
                    return
            claims.finish(row_id, status="done", result=result, count_attempt=True, session=s)
        self._metrics.outbox_delivered.labels(channel=CHANNEL).inc()

    def _update(
        self, storm_id: int, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        now = self._clock.now()
        last = self._updated.get(storm_id)
        if last is not None and now - last < STORM_REFRESH:
            raise Deferred(last + STORM_REFRESH)
        retry_at = self._paces.take(UPDATES, channel, now)
        if retry_at is not None:
            raise Deferred(retry_at)
        self._updated = {k: at for k, at in self._updated.items() if now - at < STORM_REFRESH}
        self._updated[storm_id] = now
        self._slack.api.update(channel, ts, text=text, blocks=blocks)
