"""The process's Prometheus metrics: one `CollectorRegistry` per runtime (never the global one),
the counters and histograms the code observes as things happen, and the text served at /metrics."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector

# Seconds: an ack must come within Slack's 3 s; a ticket waits minutes to weeks for a person.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
TICKET_BUCKETS = tuple(
    float(minutes * 60)
    for minutes in (1, 5, 15, 30, 60, 120, 240, 480, 1440, 2880, 7 * 1440, 30 * 1440)
)


class Metrics:
    """Everything /metrics shows for one process. Collectors that read the database at scrape
    time are added with `register` by the process roles that own them (bot/app/runtime.py)."""

    def __init__(self) -> None:
        # No `*_created` series: nothing reads them, and they double what every scrape carries.
        # (A library-wide switch, and the same answer for every registry of this process.)
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)  # process_* (memory, CPU, open files), read from /proc
        self.tickets_created = Counter(
            "ticketbot_tickets_created",
            "Tickets opened, by source (slack, teams, email, monitoring).",
            ["source"],
            registry=r,
        )
        self.tickets_closed = Counter(
            "ticketbot_tickets_closed",
            "Tickets closed (confirmed or closed unconfirmed), by source.",
            ["source"],
            registry=r,
        )
        self.time_to_assign = Histogram(
            "ticketbot_time_to_assign_seconds",
            "From a ticket's creation to its first assignment.",
            ["priority"],
            buckets=TICKET_BUCKETS,
            registry=r,
        )
        self.time_to_resolve = Histogram(
            "ticketbot_time_to_resolve_seconds",
            "From a ticket's creation to each time it is resolved (awaiting confirmation).",
            ["priority"],
            buckets=TICKET_BUCKETS,
            registry=r,
        )
        self.ack_seconds = Histogram(
            "ticketbot_ack_seconds",
            "Time to answer an inbound request (the ack), by surface: slack, teams, alerts.",
            ["surface"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.slack_requests = Counter(
            "ticketbot_slack_requests",
            "Requests on POST /slack/events, by HTTP status answered.",
            ["status"],
            registry=r,
        )
        self.api_errors = Counter(
            "ticketbot_api_errors",
            "Failed Slack and Teams API calls, by surface and kind (Slack's error string, or the "
            "HTTP status / transport error).",
            ["surface", "kind"],
            registry=r,
        )
        self.alert_requests = Counter(
            "ticketbot_alert_requests",
            "Alert webhook requests, by source (alertmanager, grafana, generic) and the HTTP "
            "status answered (the result).",
            ["source", "status"],
            registry=r,
        )
        self.alerts = Counter("ticketbot_alerts", "Alerts stored from the webhooks.", registry=r)
        self.outbox_delivered = Counter(
            "ticketbot_outbox_delivered",
            "Outbox rows delivered, by channel.",
            ["channel"],
            registry=r,
        )
        self.outbox_retries = Counter(
            "ticketbot_outbox_retries",
            "Outbox deliveries that failed transiently and will be retried, by channel.",
            ["channel"],
            registry=r,
        )
        self.outbox_parked = Counter(
            "ticketbot_outbox_parked",
            "Outbox rows parked by this process (failed for good), by channel.",
            ["channel"],
            registry=r,
        )

    def register(self, collector: Collector) -> None:
        self.registry.register(collector)

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when it has not been observed), e.g.
        `value("ticketbot_outbox_delivered_total", channel="slack")`."""
        found = self.registry.get_sample_value(name, labels)
        return 0.0 if found is None else found

    def render(self) -> str:
        """The Prometheus text exposition of every metric, DB-backed ones read now."""
        return generate_latest(self.registry).decode("utf-8")
