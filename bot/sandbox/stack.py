"""A whole local deployment: Slack emulator, Bot Connector stand-in (Teams), Workflows listener,
SMTP sink, database, and the real bot over HTTP.

Used by `ticketbot demo` and by the acceptance tests; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.app.clients import ClientSpec, add_client
from bot.app.process import Runtime
from bot.app.runtime import build_runtime
from bot.config.settings import Settings
from bot.domain.clock import Clock, SystemClock
from bot.outbox.policy import DispatchPolicy
from bot.sandbox.mail import MailSink
from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.teams.connector import BotConnector
from bot.sandbox.teams.records import TeamsChannel, TeamsUser
from bot.sandbox.teams.workflows import WorkflowsListener
from storage.engine import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import OutboxRow


@dataclass(frozen=True)
class Cast:
    """The demo workspace: an MSP's staff and one client company's people."""

    tech_channel: str = "CTECHS"
    client_channel: str = "CACMEHELP"
    manager: str = "UMAYA"
    tech1: str = "UTOM"
    tech2: str = "UTARA"
    employee: str = "UERIN"
    contact: str = "UCARL"
    outsider: str = "UOSCAR"  # works at a company that is not a client
    client_domain: str = "acme.example"
    msp_domain: str = "msp.example"

    @property
    def technicians(self) -> tuple[str, ...]:
        return (self.tech1, self.tech2)


CAST = Cast()

# The client company's own Microsoft 365 tenant (its people reach the MSP's bot in a shared
# channel or a 1:1 chat) and the MSP's bot registration.
CLIENT_TENANT = "6c1e7a52-0000-4000-8000-00000000ac3e"
TEAMS_APP_ID = "0d2a5c8e-1111-4222-8333-444455556666"
MSP_TENANT = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"


@dataclass
class TeamsCast:
    """The same people in Teams (filled when the stack starts with Teams)."""

    manager: TeamsUser
    tech1: TeamsUser
    tech2: TeamsUser
    employee: TeamsUser
    contact: TeamsUser
    outsider: TeamsUser
    tech_channel: TeamsChannel
    client_channel: TeamsChannel


class Stack:
    """Start with `with Stack(database_url=…) as stack:`; drive Slack through `stack.emu`."""

    def __init__(
        self,
        *,
        database_url: str,
        clock: Clock | None = None,
        socket_mode: bool = False,
        policy: DispatchPolicy | None = None,
        email: bool = True,
        cast: Cast = CAST,
        extra_env: dict[str, str] | None = None,
        setup: Callable[[SlackEmulator], None] | None = None,
        slack: bool = True,
        teams: bool = False,
        teams_technicians: bool = False,
        workflows: bool = False,
    ) -> None:
        """`slack`: the MSP's Slack (off: an MSP on Teams only); `teams`: the Teams bot, with the
        client's people in Teams; `teams_technicians`: the technicians' channel in Teams too;
        `workflows`: the client is notified through a Workflows webhook."""
        self.cast = cast
        self.slack = slack
        self.teams_on = teams
        self.teams_technicians = teams_technicians
        self.teams = BotConnector(TEAMS_APP_ID, MSP_TENANT) if teams else None
        self.teams_cast: TeamsCast | None = None
        self.workflows = WorkflowsListener() if workflows else None
        self._saved_env: dict[str, str | None] = {}
        self.database_url = database_url
        self.clock = clock or SystemClock()
        self.socket_mode = socket_mode
        self.policy = policy or DispatchPolicy(poll_interval=0.2)
        self.signing_secret = secrets.token_hex(16)
        self.app_token = "xapp-1-emulator-" + secrets.token_hex(4) if socket_mode else None
        self.emu = SlackEmulator(
            signing_secret=self.signing_secret,
            bot_token="xoxb-emulator-" + secrets.token_hex(4),
            app_token=self.app_token,
        )
        self.mail = MailSink() if email else None
        self.extra_env = extra_env or {}
        self._setup = setup
        self.extra_tech_channel_members: list[str] = []
        self.runtime: Runtime | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        self.emu.start()
        self._populate()
        if self._setup is not None:
            self._setup(self.emu)
        if self.mail is not None:
            self.mail.start()
        if self.teams is not None:
            self.teams.start()
            self._trust(self.teams.ca_file)
            self.teams_cast = self._populate_teams(self.teams)
        webhook = None
        if self.workflows is not None:
            self.workflows.start()
            webhook = self.workflows.add_flow("acme")
        engine = make_engine(self.database_url)
        upgrade(engine)
        with make_session_factory(engine).begin() as s:
            add_client(
                s,
                ClientSpec(
                    name="Acme Corp",
                    domains=[self.cast.client_domain],
                    contact_email=f"carl@{self.cast.client_domain}",
                    slack_channel=self.cast.client_channel if self.slack else None,
                    teams_tenant=CLIENT_TENANT if self.teams is not None else None,
                    teams_webhook=webhook,
                ),
                self.clock.now(),
            )
        self.settings = Settings.from_mapping(self.env())
        self.runtime = build_runtime(
            self.settings, clock=self.clock, engine=engine, policy=self.policy
        )
        self.runtime.start_background()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.runtime.serve_http(sock, in_thread=True)
        self.runtime.wait_http_started()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.emu.bot_url = f"{self.base_url}/slack/events"
        self.teams_url = f"{self.base_url}/api/messages"
        if self.socket_mode:
            self.runtime.start_socket_mode()
            self.emu.wait_socket_connected(10)
            self.emu.delivery_mode = "socket"

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self.mail is not None:
            self.mail.stop()
        if self.teams is not None:
            self.teams.stop()
        if self.workflows is not None:
            self.workflows.stop()
        self.emu.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def _trust(self, ca_file: str) -> None:
        """Trust the stand-in's private CA, as an admin would with their own: httpx and the key
        fetch read SSL_CERT_FILE, MSAL (requests) REQUESTS_CA_BUNDLE."""
        for key in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = ca_file

    def env(self) -> dict[str, str]:
        c = self.cast
        env = {
            "TICKETBOT_MANAGERS": c.manager,
            "DATABASE_URL": self.database_url,
            "HOST": "127.0.0.1",
            "PORT": "1",
        }
        if self.slack:
            env |= {
                "SLACK_BOT_TOKEN": self.emu.bot_token,
                "SLACK_SIGNING_SECRET": self.signing_secret,
                "SLACK_API_URL": self.emu.api_url,
                "TICKETBOT_TECH_CHANNEL": c.tech_channel,
                "TICKETBOT_CRITICAL_MENTION": "here",
            }
        if self.teams is not None and self.teams_cast is not None:
            t = self.teams
            env |= {
                "TEAMS_APP_ID": t.app_id,
                "TEAMS_APP_PASSWORD": t.password,
                "TEAMS_TENANT_ID": t.tenant_id,
                "TEAMS_SERVICE_URL": t.service_url,
                "TEAMS_OPENID_METADATA_URL": t.openid_metadata_url,
                "TEAMS_LOGIN_URL": t.login_url,
            }
            if self.teams_technicians:
                env["TEAMS_TECH_CHANNEL"] = self.teams_cast.tech_channel.id
                # The manager is named by email: the same person in Slack and in Teams.
                env["TICKETBOT_MANAGERS"] = f"maya@{c.msp_domain}"
        if self.app_token:
            env["SLACK_APP_TOKEN"] = self.app_token
        if self.mail is not None:
            env["SMTP_URL"] = self.mail.url
            env["EMAIL_FROM"] = f"helpdesk@{c.msp_domain}"
        env.update(self.extra_env)
        return env

    def _populate(self) -> None:
        c, emu = self.cast, self.emu
        emu.add_user(c.manager, "Maya Manager", email=f"maya@{c.msp_domain}")
        emu.add_user(c.tech1, "Tom Tech", email=f"tom@{c.msp_domain}")
        emu.add_user(c.tech2, "Tara Tech", email=f"tara@{c.msp_domain}")
        emu.add_user(c.employee, "Erin Employee", email=f"erin@{c.client_domain}")
        emu.add_user(c.contact, "Carl Contact", email=f"carl@{c.client_domain}")
        emu.add_user(c.outsider, "Oscar Outsider", email="oscar@elsewhere.example")
        emu.add_channel(
            c.tech_channel,
            "technicians",
            members=[c.manager, c.tech1, c.tech2, *self.extra_tech_channel_members],
            is_private=True,
        )
        emu.add_channel(c.client_channel, "acme-help", members=[c.employee, c.contact])
        emu.add_channel("CGENERAL", "general", members=[c.outsider, c.employee])

    def _populate_teams(self, teams: BotConnector) -> TeamsCast:
        c = self.cast
        staff = {
            "manager": teams.add_user("Maya Manager", f"maya@{c.msp_domain}"),
            "tech1": teams.add_user("Tom Tech", f"tom@{c.msp_domain}"),
            "tech2": teams.add_user("Tara Tech", f"tara@{c.msp_domain}"),
        }
        client = {
            "employee": teams.add_user(
                "Erin Employee", f"erin@{c.client_domain}", tenant_id=CLIENT_TENANT
            ),
            "contact": teams.add_user(
                "Carl Contact", f"carl@{c.client_domain}", tenant_id=CLIENT_TENANT
            ),
            "outsider": teams.add_user(
                "Oscar Outsider", "oscar@elsewhere.example", tenant_id=str(uuid.uuid4())
            ),
        }
        tech_channel = teams.add_channel("Technicians", list(staff.values()))
        client_channel = teams.add_channel(
            "Acme help",
            [client["employee"], client["contact"]],
            team_name="Acme IT help",
            tenant_id=CLIENT_TENANT,
        )
        return TeamsCast(
            **staff, **client, tech_channel=tech_channel, client_channel=client_channel
        )

    def teams_post(self, activity: dict[str, object], **knobs: object) -> tuple[int, object]:
        """Deliver an activity to the bot as Teams does (a signed JWT); (status, body)."""
        assert self.teams is not None, "the stack runs without Teams"
        return self.teams.post_activity(self.teams_url, activity, **knobs)  # type: ignore[arg-type]

    # ---- waiting ---------------------------------------------------------------------------
    @property
    def rt(self) -> Runtime:
        assert self.runtime is not None, "stack not started"
        return self.runtime

    def outbox_counts(self) -> dict[str, int]:
        with self.rt.sessions() as s:
            rows = s.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
            return {str(status): int(n) for status, n in rows}

    def busy(self, channel: str | None = None) -> int:
        """Outbox rows pending or in flight (optionally for one channel: slack / email)."""
        query = select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))
        if channel is not None:
            query = query.where(OutboxRow.channel == channel)
        with self.rt.sessions() as s:
            return int(s.scalar(query) or 0)

    def wait_delivered_channel(self, channel: str, timeout: float = 15.0) -> None:
        wait_until(
            lambda: self.busy(channel) == 0,
            timeout,
            lambda: f"{channel} outbox still busy: {self.outbox_counts()}",
        )

    def wait_delivered(self, timeout: float = 15.0) -> None:
        """Wait until the outbox has nothing pending or in flight (parked rows don't count)."""
        wait_until(
            lambda: not {"pending", "sending"} & set(self.outbox_counts()),
            timeout,
            lambda: f"outbox still busy: {self.outbox_counts()}",
        )


def wait_until(
    predicate: Callable[[], bool], timeout: float, describe: Callable[[], str] | None = None
) -> None:
    """Block until predicate() is true; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(describe() if describe else "condition not met in time")
        pause.wait(0.02)
