"""Wires one ticketbot process from its role: database, Slack and Teams clients, service,
delivery, Bolt, the Teams bot, HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.ingest import AlertPolicy, AlertService
from bot.alerts.web import alert_routes
from bot.app.delivery import build_dispatchers, build_routes
from bot.app.process import Runtime
from bot.app.roles import ProcessRole
from bot.app.scheduler import Scheduler
from bot.app.web import build_health_app, build_web_app
from bot.config.settings import Settings
from bot.domain.clock import Clock, SystemClock
from bot.email.sender import EmailSender
from bot.home.reader import HomeReader
from bot.home.refresh import HomeViewers
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.policy import DispatchPolicy
from bot.outbox.shared import Outbox
from bot.outbox.writer import OutboxWriter, Written
from bot.people.directory import Directory
from bot.people.membership import Membership
from bot.service.lifecycle_metrics import LifecycleMetrics
from bot.service.notify.matrix import Notifier
from bot.service.notify.settings import NotifySettings
from bot.service.sla import SlaPolicy
from bot.service.timers import digest, monthly_report
from bot.service.timers.runner import TICK, TimerRunner, build_timers
from bot.service.use_cases import TicketService
from bot.slack.bolt_app import build_bolt_app
from bot.slack.gateway import SlackGateway
from bot.telemetry.db_gauges import DatabaseCollector
from bot.telemetry.metrics import Metrics
from handlers.slack import listeners as slack_listeners
from handlers.slack.listeners import AlertsChannel
from storage.engine import make_engine, make_session_factory

if TYPE_CHECKING:  # the Teams SDK is imported only by a process that runs Teams (~55 MB)
    from bot.app.teams_parts import TeamsParts

log = logging.getLogger(__name__)

# Threads that run Bolt's listeners in HTTP mode. Each request writes one transaction and acks;
# more threads than this only fight over the GIL (and SQLite has one writer anyway), fewer would
# let a few listeners waiting on Slack (views.open) hold up every other ack.
SLACK_THREADS = 8
# How often a worker looks for changed tickets and republishes the App Homes that show them: a
# Home lags a change by at most this, and is published at most this often for a burst of them.
HOME_REFRESH = timedelta(seconds=20)
# How often a web process reloads the technicians the workers stored (one query).
WEB_ROLES_RELOAD = timedelta(minutes=1)


def build_runtime(
    settings: Settings,
    *,
    role: ProcessRole = ProcessRole.ALL,
    clock: Clock | None = None,
    engine: Engine | None = None,
    policy: DispatchPolicy | None = None,
) -> Runtime:
    """Build the parts of a process that its role needs. Network I/O: one auth.test to learn the
    bot's identity (a worker checks its token with it too)."""
    clock = clock or SystemClock()
    engine = engine or make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    if not settings.slack_on and not settings.teams_on:
        raise RuntimeError("neither Slack nor Teams is configured")
    client: WebClient | None = None
    gateway: SlackGateway | None = None
    identity = None
    metrics = Metrics()
    if settings.slack_on:
        if settings.slack_bot_token is None or settings.tech_channel is None:
            raise RuntimeError("Slack settings are incomplete")
        client = WebClient(
            token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_url, timeout=15
        )
        gateway = SlackGateway(
            client, on_error=lambda kind: metrics.api_errors.labels("slack", kind).inc()
        )
        identity = gateway.auth_test()
    directory = Directory(
        lookup=gateway,
        clock=clock,
        managers=settings.managers,
        technicians=settings.technicians,
        tech_channel=settings.tech_channel,
        teams_tech_channel=settings.teams_tech_channel,
    )
    membership = None
    if gateway is not None:
        membership = Membership(session_factory=sessions, directory=directory, lookup=gateway)
    teams = None
    if settings.teams_on:
        from bot.app.teams_parts import build_teams_parts

        teams = build_teams_parts(
            settings,
            sessions,
            clock,
            directory,
            serve=role.serves,
            on_api_error=lambda kind: metrics.api_errors.labels("teams", kind).inc(),
        )
    email = None
    if settings.smtp is not None and settings.email_from:
        email = EmailSender(settings.smtp, settings.email_from)
    home_reader = HomeReader(
        reads=make_session_factory(engine, read_only=True),
        directory=directory,
        clock=clock,
        workspace_url=str((identity or {}).get("url") or "") or None,
    )
    dispatchers: tuple[Dispatcher, ...] = ()  # a web process delivers nothing
    if role.works:
        outbox = Outbox(sessions, clock=clock, metrics=metrics)
        routes = build_routes(
            outbox,
            slack=gateway,
            tech_channel=settings.tech_channel,
            home=home_reader,
            teams=teams.chat if teams is not None else None,
            teams_tech_channel=settings.teams_tech_channel,
            teams_mention=teams.critical_mention if teams is not None else None,
            email=email,
        )
        dispatchers = build_dispatchers(
            outbox, routes, replace(policy or DispatchPolicy(), lease=settings.outbox_lease)
        )

    def wake_dispatchers(written: Written) -> None:
        for d in dispatchers:
            d.wake(written)

    writer = OutboxWriter(clock, on_commit=wake_dispatchers)
    notifier = Notifier(
        NotifySettings(
            tech_channel=settings.tech_channel if gateway is not None else None,
            critical_mention=settings.critical_mention_syntax,
            email_domain=(
                settings.email_from_address.rsplit("@", 1)[-1]
                if email and settings.email_from_address
                else None
            ),
            teams_tech_channel=settings.teams_tech_channel if teams is not None else None,
            slack_on=gateway is not None,
            teams_on=teams is not None,
        ),
        directory,
        writer,
        LifecycleMetrics(metrics),
    )
    home = None
    if gateway is not None:
        home = HomeViewers(sessions=sessions, directory=directory, writer=writer, clock=clock)
    timers = build_timers(settings)
    timer_runner = None
    if role.works:
        timer_runner = TimerRunner(
            session_factory=sessions, timers=timers, notifier=notifier, clock=clock
        )
        digest.start(settings, sessions, timers, clock.now())
        monthly_report.start(settings, sessions, timers, clock.now())
    scheduler = Scheduler()
    members_refresh = _add_members_job(
        scheduler, role, settings, sessions, directory, membership, teams
    )
    home_refresh = None
    if home is not None and role.works:
        home_refresh = scheduler.add("home-refresh", home.refresh, every=HOME_REFRESH)
    if timer_runner is not None:
        scheduler.add("timers", timer_runner.fire_due, every=TICK, retry=TICK)
    sla = SlaPolicy.of(settings)
    service = TicketService(
        session_factory=sessions,
        directory=directory,
        notifier=notifier,
        clock=clock,
        timers=timers,
        sla=sla,
    )
    secret = settings.slack_signing_secret.reveal() if settings.slack_signing_secret else None
    alerts = AlertService(
        session_factory=sessions,
        notifier=notifier,
        clock=clock,
        policy=AlertPolicy(
            tech_channel=settings.tech_channel if gateway is not None else None,
            severity_map=dict(settings.alert_severity_map),
            storm_threshold=settings.alert_storm_threshold,
        ),
        timers=timers,
        sla=sla,
    )
    bolt = None
    if role.serves and client is not None and identity is not None and membership is not None:
        alerts_channel = None
        if settings.alerts_channel:
            alerts_channel = AlertsChannel(
                settings.alerts_channel, settings.alert_chat_rules, alerts
            )
        bolt = build_bolt_app(
            client=client,
            identity=identity,
            socket_mode=settings.socket_mode,
            signing_secret=secret,
            register=partial(
                slack_listeners.register,
                service=service,
                membership=membership,
                alerts_channel=alerts_channel,
                home_viewers=home,
            ),
        )
    if role.serves and teams is not None:
        teams.register(service, home=home_reader)

    def healthy() -> bool:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    if timer_runner is not None:  # one process role reads the database for /metrics
        metrics.register(DatabaseCollector(sessions, timer_runner.overdue))
    # The threads Bolt's listeners run on in HTTP mode: each writes one transaction, then acks.
    slack_pool = ThreadPoolExecutor(max_workers=SLACK_THREADS, thread_name_prefix="slack")
    if not role.serves:
        web = build_health_app(
            healthy=healthy, metrics=metrics, metrics_token=settings.metrics_token
        )
    else:
        web = build_web_app(
            bolt=None if settings.socket_mode else bolt,
            signing_secret=secret,
            healthy=healthy,
            metrics=metrics,
            slack_pool=slack_pool,
            metrics_token=settings.metrics_token,
            routes=[
                *alert_routes(
                    token=settings.alert_webhook_token,
                    ingest=alerts.ingest,
                    dedup=settings.alert_dedup,
                    metrics=metrics,
                ),
                *(teams.routes if teams is not None else []),
            ],
        )
    return Runtime(
        role=role,
        settings=settings,
        engine=engine,
        sessions=sessions,
        gateway=gateway,
        directory=directory,
        membership=membership,
        members_refresh=members_refresh,
        scheduler=scheduler,
        clock=clock,
        service=service,
        alerts=alerts,
        dispatchers=dispatchers,
        bolt=bolt,
        web=web,
        slack_pool=slack_pool,
        metrics=metrics,
        teams=teams,
        timers=timer_runner,
        home=home,
        home_refresh=home_refresh,
    )


def _add_members_job(
    scheduler: Scheduler,
    role: ProcessRole,
    settings: Settings,
    sessions: sessionmaker[Session],
    directory: Directory,
    membership: Membership | None,
    teams: TeamsParts | None,
) -> str:
    """The members job: a worker reads who the technicians are from Slack and Teams and stores
    it; a web process only reloads what the workers stored (no Slack or Teams call)."""
    if not role.works:

        def reload() -> None:
            with sessions() as s:
                directory.load_roles(s)

        return scheduler.add("members-load", reload, every=WEB_ROLES_RELOAD)
    refreshes: list[Callable[[], None]] = []
    if membership is not None:
        refreshes.append(membership.refresh)
    if teams is not None:
        refreshes.append(teams.membership.refresh)
    return scheduler.add("members-refresh", lambda: _all(refreshes), every=settings.members_refresh)


def _all(refreshes: list[Callable[[], None]]) -> None:
    """Run every refresh; raise the first failure once all have run (the scheduler retries)."""
    failure: Exception | None = None
    for refresh in refreshes:
        try:
            refresh()
        except Exception as e:
            failure = failure or e
    if failure is not None:
        raise failure
