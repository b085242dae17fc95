"""Wires the Teams side of a process: the bot's own token, the Bot Connector client, the SDK's
app mounted at /api/messages with our listeners, conversations and the technicians' team."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from bot.config.settings import Settings
from bot.domain.clock import Clock
from bot.home.reader import HomeReader
from bot.messages.view import TeamsMention
from bot.people.directory import Directory
from bot.people.identity import TeamsUser
from bot.people.membership import TeamsMembership
from bot.people.teams_member import TeamsMember
from bot.service.use_cases import TicketService
from bot.teams.app import TeamsBot, TeamsOptions, build_teams_bot
from bot.teams.auth import MsalTokenProvider
from bot.teams.chat import TeamsChat
from bot.teams.connector import BotConnectorGateway
from bot.teams.conversations import TeamsConversations
from handlers.teams.listeners import register_teams
from handlers.teams.wiring import TeamsWiring
from storage.models import Person

log = logging.getLogger(__name__)


@dataclass
class TeamsParts:
    settings: Settings
    token: MsalTokenProvider
    connector: BotConnectorGateway
    conversations: TeamsConversations
    chat: TeamsChat
    membership: TeamsMembership
    bot: TeamsBot | None  # None: this process does not serve /api/messages (a worker)

    @property
    def routes(self) -> list[BaseRoute]:
        return list(self.bot.routes) if self.bot is not None else []

    def register(self, service: TicketService, *, home: HomeReader | None = None) -> None:
        if self.bot is None:
            raise RuntimeError("this process does not serve Teams")
        register_teams(
            self.bot.app,
            service,
            TeamsWiring(
                conversations=self.conversations,
                roster=self.roster,
                tech_channel=self.settings.teams_tech_channel,
                on_members_changed=self.membership.changed,
                home=home,
            ),
        )

    def roster(self, service_url: str, conversation: str, user_id: str) -> TeamsUser | None:
        """A person as the conversation's roster has them (with their email); None when Teams
        cannot say now (the activity's own name serves until the next look)."""
        try:
            member = self.connector.member(conversation, user_id, service_url=service_url)
        except Exception:
            log.warning("could not read a Teams roster entry; using the activity's name")
            return None
        return _user(member) if member is not None else None

    def critical_mention(self) -> TeamsMention | None:
        """Who a critical card notifies in the Teams technician channel (TEAMS_CRITICAL_MENTION):
        the channel, its team (once an activity has told us which), or a tag."""
        channel = self.settings.teams_tech_channel
        if channel is None:
            return None
        kind = self.settings.teams_critical_mention
        if kind == "team":
            ref = self.conversations.get(channel)
            if ref is not None and ref.team_id:
                return TeamsMention("team", ref.team_id, "team")
            return TeamsMention("channel", channel, "channel")
        if kind == "channel":
            return TeamsMention("channel", channel, "channel")
        return TeamsMention("tag", kind, "on call")

    def close(self) -> None:
        self.connector.close()
        self.token.close()


def build_teams_parts(
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Clock,
    directory: Directory,
    *,
    serve: bool = True,
    on_api_error: Callable[[str], None] | None = None,
) -> TeamsParts:
    """The Teams side of a process; with `serve` False, without the bot that answers
    /api/messages (a worker only sends)."""
    app_id, tenant = settings.teams_app_id, settings.teams_tenant_id
    password = settings.teams_app_password
    if app_id is None or tenant is None or password is None:
        raise RuntimeError("Teams settings are incomplete")
    token = MsalTokenProvider(app_id, password.reveal(), tenant, settings.teams_login_url)
    connector = BotConnectorGateway(
        token=token.token,
        service_url=settings.teams_service_url,
        app_id=app_id,
        tenant_id=tenant,
        on_error=on_api_error,
    )
    conversations = TeamsConversations(sessions, clock)

    def person(aad_id: str) -> tuple[str, str | None] | None:
        with sessions() as s:
            row = s.execute(
                select(Person.teams_user_id).where(Person.teams_aad_id == aad_id)
            ).first()
        if row is None or not row[0]:
            return None
        return str(row[0]), None

    chat = TeamsChat(
        connector, conversations, person, service_url=settings.teams_service_url, tenant_id=tenant
    )

    def tech_roster(channel: str) -> list[TeamsUser]:
        ref = conversations.get(channel)
        url = ref.service_url if ref is not None else settings.teams_service_url
        return [u for u in (_user(m) for m in connector.members(channel, service_url=url)) if u]

    membership = TeamsMembership(session_factory=sessions, directory=directory, roster=tech_roster)
    if not serve:
        return TeamsParts(settings, token, connector, conversations, chat, membership, None)
    bot = build_teams_bot(
        TeamsOptions(
            app_id=app_id,
            password=password.reveal(),
            tenant_id=tenant,
            service_url=settings.teams_service_url,
            openid_metadata_url=settings.teams_openid_metadata_url,
            login_url=settings.teams_login_url,
        ),
        token_provider=token,
    )
    return TeamsParts(settings, token, connector, conversations, chat, membership, bot)


def _user(member: TeamsMember) -> TeamsUser | None:
    aad = (member.aad_object_id or "").lower()
    if not aad or member.id.startswith("28:"):  # a bot (ours, in a team's roster)
        return None
    return TeamsUser(
        aad_id=aad,
        user_id=member.id,
        name=member.name or "Teams user",
        email=member.address,
        tenant_id=member.tenant_id,
    )
