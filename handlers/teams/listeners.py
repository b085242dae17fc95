"""Thin Teams listeners on the SDK's App: parse an activity, call one use-case, answer.

Messages are answered through the outbox (a message activity's HTTP answer carries nothing);
card clicks and dialogs are invokes, answered in their HTTP response within Teams' few seconds:
one short transaction, then the refreshed card (the outbox updates it for everyone else).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from bot.domain.tickets import Event
from bot.home.reader import HomeReader
from bot.messages import chat as messages
from bot.messages import ids
from bot.messages.escape import mrkdwn
from bot.messages.view import AFFECTED_CHOICES, PRIORITIES, SlackMessage
from bot.people.identity import TeamsUser
from bot.service import NotFoundError, TicketService
from bot.service.actor import Actor
from bot.teams import cards as adaptive
from bot.teams import dialogs as teams_dialogs
from bot.teams.conversations import ConversationRef, TeamsConversations, split_thread
from bot.teams.home_card import home_card
from bot.telemetry.logs import about_ticket
from handlers.errors import internal_error_message, user_message

log = logging.getLogger(__name__)

STATUS = re.compile(r"^status\s+#?(\d{1,9})\s*$", re.IGNORECASE)
_R = TypeVar("_R")
_AT = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,2000}>")
_BLOCK_END = re.compile(r"</(p|div)>|<br\s*/?>", re.IGNORECASE)
COMMAND = "ticket"
HOME_WORDS = ("home", "dashboard")
HOME_PAGE = re.compile(r"^(?:[1-9]\d{0,3})?$")  # `home`, or `home 2` for its second page

# Roster lookup: (service URL, conversation id, user id 29:…) → the user, None when unknown.
Roster = Callable[[str, str, str], TeamsUser | None]


@dataclass(frozen=True)
class TeamsWiring:
    """What the listeners need besides the service."""

    conversations: TeamsConversations
    roster: Roster
    tech_channel: str | None  # the Teams technician channel's conversation id
    on_members_changed: Callable[[list[TeamsUser], list[TeamsUser]], None] | None = None
    home: HomeReader | None = None  # answers "home" / "dashboard" with the person's App Home


@dataclass(frozen=True)
class Incoming:
    """What the listeners read from an activity (every field defensive: Teams sends variety)."""

    id: str
    conversation: str  # without ;messageid=
    thread: str | None  # the thread's root activity id, in a channel
    kind: str  # personal | channel | groupChat
    user_id: str
    aad_id: str
    name: str
    tenant: str | None
    service_url: str
    text: str  # plain text, mentions of the bot removed
    reply_to: str | None
    team_id: str | None
    value: dict[str, Any] = field(default_factory=dict)
    from_bot: bool = False
    addressed: bool = True  # to the bot: a 1:1 or group chat, or a channel post @mentioning it

    @property
    def actor_key(self) -> str:
        return f"teams:{self.aad_id}"

    @property
    def where(self) -> str:
        """The conversation to answer in: the thread, in a channel."""
        if self.thread:
            return f"{self.conversation};messageid={self.thread}"
        return self.conversation


def parse(activity: dict[str, Any]) -> Incoming | None:
    """None when the activity lacks what a person's activity always has."""
    sender = activity.get("from") or {}
    conversation = activity.get("conversation") or {}
    conversation_id = str(conversation.get("id") or "")
    user_id, aad_id = str(sender.get("id") or ""), str(sender.get("aadObjectId") or "")
    if not conversation_id or not user_id:
        return None
    base, thread = split_thread(conversation_id)
    channel_data = activity.get("channelData") or {}
    tenant = (channel_data.get("tenant") or {}).get("id") or conversation.get("tenantId")
    team = (channel_data.get("team") or {}).get("id")
    recipient = str((activity.get("recipient") or {}).get("id") or "")
    value = activity.get("value")
    return Incoming(
        id=str(activity.get("id") or ""),
        conversation=base,
        thread=thread,
        kind=str(conversation.get("conversationType") or "personal"),
        user_id=user_id,
        aad_id=aad_id.lower(),
        name=str(sender.get("name") or "Teams user"),
        tenant=str(tenant).lower() if tenant else None,
        service_url=str(activity.get("serviceUrl") or ""),
        text=plain_text(str(activity.get("text") or ""), activity.get("entities"), recipient),
        reply_to=str(activity["replyToId"]) if activity.get("replyToId") else None,
        team_id=str(team) if team else None,
        value=value if isinstance(value, dict) else {},
        from_bot=sender.get("role") == "bot" or user_id.startswith("28:"),
        addressed=conversation.get("conversationType") != "channel"
        or bool(bot_mentions(activity.get("entities"), recipient)),
    )


def bot_mentions(entities: object, bot_id: str) -> set[str]:
    """The `<at>…</at>` texts that mention the bot."""
    names = set()
    for entity in entities if isinstance(entities, list) else []:
        if isinstance(entity, dict) and entity.get("type") == "mention":
            mentioned = entity.get("mentioned") or {}
            if isinstance(mentioned, dict) and str(mentioned.get("id") or "") == bot_id:
                names.add(str(entity.get("text") or ""))
    return names


def plain_text(text: str, entities: object, bot_id: str) -> str:
    """A Teams message's text as the person typed it: the bot's @mention removed, HTML (channel
    messages arrive as HTML) turned into text."""
    for name in bot_mentions(entities, bot_id):
        text = text.replace(name, " ")
    text = _BLOCK_END.sub("\n", text)
    text = _TAG.sub("", _AT.sub(lambda m: _TAG.sub("", m.group(0)), text))
    lines = [" ".join(line.split()) for line in html.unescape(text).splitlines()]
    return "\n".join(line for line in lines if line).strip()


def register_teams(app: Any, service: TicketService, wiring: TeamsWiring) -> None:
    """Register the listeners on the SDK's `App`."""
    listeners = _Listeners(service, wiring)
    app.on_message(listeners.message)
    app.on_card_action(listeners.card_action)
    app.on_dialog_open(listeners.dialog_open)
    app.on_dialog_submit(listeners.dialog_submit)
    app.on_conversation_update(listeners.conversation_update)


class _Listeners:
    def __init__(self, service: TicketService, wiring: TeamsWiring) -> None:
        self._service = service
        self._wiring = wiring

    # ---- messages --------------------------------------------------------------------------
    async def message(self, ctx: Any) -> None:
        incoming = parse(_dump(ctx.activity))
        if incoming is None or incoming.from_bot or not incoming.aad_id:
            return
        await run_in_threadpool(self._message_or_refusal, incoming)

    def _message_or_refusal(self, incoming: Incoming) -> None:
        """A reply the ticket does not take (a closed ticket, say) is refused in plain words;
        anything unexpected is left to fail (a 5xx), so that Teams sends the message again."""
        try:
            self._message(incoming)
        except Exception as e:
            refusal = user_message(e)
            if refusal is None:
                raise
            self._service.answer_in_teams(incoming.where, messages.refused(refusal))

    def _message(self, incoming: Incoming) -> None:
        actor = self._actor(incoming)
        service = self._service
        if incoming.thread and incoming.thread != incoming.id:
            outcome = service.thread_message(
                actor,
                channel=incoming.conversation,
                thread_ts=incoming.thread,
                ts=incoming.id,
                text=mrkdwn(incoming.text),
                delivery_key=f"teams:{incoming.conversation}:{incoming.id}",
            )
            if outcome is not None:
                return
        if incoming.kind == "personal" and incoming.reply_to:
            root = service.thread_of_reply(incoming.conversation, incoming.reply_to)
            if root is not None:
                service.thread_message(
                    actor,
                    channel=incoming.conversation,
                    thread_ts=root,
                    ts=incoming.id,
                    text=mrkdwn(incoming.text),
                    delivery_key=f"teams:{incoming.conversation}:{incoming.id}",
                )
                return
        # With the channel-messages permission every channel post reaches the bot: only one
        # that @mentions it is a command.
        if incoming.addressed:
            self._command(incoming, actor)

    def _command(self, incoming: Incoming, actor: Actor) -> None:
        service = self._service
        text = incoming.text.removeprefix("/").strip()
        word, _, rest = text.partition(" ")
        word, rest = word.lower(), rest.strip()
        answer: SlackMessage | None = None
        try:
            if word in ("help", "?", "") and not rest:
                answer = messages.help_text(COMMAND)
            elif word in HOME_WORDS and self._wiring.home is not None and HOME_PAGE.match(rest):
                if incoming.kind != "personal":  # a Home is the reader's own: never in a channel
                    answer = messages.refused(f"Write `{word}` to me in a 1:1 chat.")
                    service.answer_in_teams(incoming.where, answer)
                    return
                page = int(rest) - 1 if rest else 0
                home = self._wiring.home.read(actor.key)
                service.answer_in_teams(incoming.where, home_card(home, page))
                return
            elif word in ("list", "mine", "ls") and not rest:
                answer = messages.ticket_list(service.my_open(actor))
            elif word == "status":
                match = STATUS.match(text)
                if match is None:
                    answer = messages.refused("Usage: status <id>, for example: status 42")
                else:
                    view, timeline = service.status(actor, int(match.group(1)))
                    staff = service.is_staff(actor)
                    answer = messages.status(view, timeline, include_internal=staff)
            elif word == COMMAND and not rest:
                service.answer_in_teams(incoming.where, adaptive.new_ticket_prompt())
                return
            elif word == COMMAND:
                service.open_ticket(
                    actor,
                    title=rest,
                    origin_channel=incoming.where,
                    teams_tenant=incoming.tenant,
                )
                return
            else:
                answer = messages.help_text(COMMAND)
        except NotFoundError as e:
            answer = messages.refused(e.message)
        except Exception as e:
            answer = messages.refused(user_message(e) or internal_error_message(e))
        service.answer_in_teams(incoming.where, answer)

    # ---- card clicks (Action.Execute) ------------------------------------------------------
    async def card_action(self, ctx: Any) -> dict[str, Any]:
        activity = _dump(ctx.activity)
        incoming = parse(activity)
        action = incoming.value.get("action") if incoming is not None else None
        if incoming is None or not incoming.aad_id or not isinstance(action, dict):
            return _card_message("That button did not say what to do.", status=400)
        data = action.get("data")
        ticket = _ticket_id(data) if isinstance(data, dict) else None
        return await run_in_threadpool(_about, ticket, self._card_action, incoming, action)

    def _card_action(self, incoming: Incoming, action: dict[str, Any]) -> dict[str, Any]:
        verb = str(action.get("verb") or "")
        raw = action.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        found = _ticket_id(data)
        if found is None:
            return _card_message("That button did not say which ticket.", status=400)
        ticket_id = found
        actor = self._actor(incoming)
        service = self._service
        calls: dict[str, Callable[[], None]] = {
            ids.START: lambda: service.start(actor, ticket_id),
            ids.MAKE_CRITICAL: lambda: service.change_priority(actor, ticket_id, "critical"),
            ids.SET_PRIORITY: lambda: service.change_priority(
                actor, ticket_id, str(data.get("priority") or data.get("value") or "")
            ),
            ids.REQUEST_HELP: lambda: service.request_help(actor, ticket_id),
            ids.OFFER_HELP: lambda: service.offer_help(actor, ticket_id),
            ids.CONFIRM: lambda: service.confirm(actor, ticket_id),
        }
        call = calls.get(verb)
        if call is None:
            return _card_message("That button is not one this bot knows.", status=400)
        try:
            call()
            if verb in (ids.CONFIRM, ids.OFFER_HELP):
                return _card_message(_DONE[verb].format(id=ticket_id))
            view, _ = service.status(actor, ticket_id)
        except Exception as e:
            return _card_message(user_message(e) or internal_error_message(e))
        return _card_refresh(adaptive.ticket_card(view).card)

    # ---- dialogs (task/fetch, task/submit) -------------------------------------------------
    async def dialog_open(self, ctx: Any) -> dict[str, Any]:
        incoming = parse(_dump(ctx.activity))
        if incoming is None or not incoming.aad_id:
            return _task_message("That form could not be opened.")
        ticket = _ticket_id(_data(incoming.value))
        return await run_in_threadpool(_about, ticket, self._dialog_open, incoming)

    def _dialog_open(self, incoming: Incoming) -> dict[str, Any]:
        data = _data(incoming.value)
        verb, ticket_id = str(data.get("verb") or ""), _ticket_id(data)
        actor = self._actor(incoming)
        service = self._service
        try:
            if verb == ids.VIEW_CREATE or verb == "ticket.create":
                return teams_dialogs.dialog_response(
                    "New ticket", teams_dialogs.new_ticket_dialog()
                )
            if ticket_id is None:
                return _task_message("That form is not one this bot knows.")
            if verb == ids.ASSIGN:
                view = service.check(actor, ticket_id, Event.ASSIGN)
                card = teams_dialogs.assign_dialog(view, service.technicians_with_load())
                return teams_dialogs.dialog_response(f"Assign #{ticket_id}", card)
            if verb == ids.DISPATCH:
                view = service.check(actor, ticket_id, Event.DISPATCH_ONSITE)
                card = teams_dialogs.dispatch_dialog(view, service.technicians_with_load())
                return teams_dialogs.dialog_response(f"Dispatch #{ticket_id}", card)
            if verb == ids.RESOLVE:
                view = service.check(actor, ticket_id, Event.RESOLVE)
                return teams_dialogs.dialog_response(
                    f"Resolve #{ticket_id}", teams_dialogs.resolve_dialog(view)
                )
            if verb == ids.STILL_BROKEN:
                view = service.check(actor, ticket_id, Event.REOPEN)
                return teams_dialogs.dialog_response(
                    f"Still broken? #{ticket_id}", teams_dialogs.still_broken_dialog(view)
                )
        except Exception as e:
            return _task_message(user_message(e) or internal_error_message(e))
        return _task_message("That form is not one this bot knows.")

    async def dialog_submit(self, ctx: Any) -> dict[str, Any] | None:
        incoming = parse(_dump(ctx.activity))
        if incoming is None or not incoming.aad_id:
            return _task_message("That form could not be read.")
        ticket = _ticket_id(_data(incoming.value))
        return await run_in_threadpool(_about, ticket, self._dialog_submit, incoming)

    def _dialog_submit(self, incoming: Incoming) -> dict[str, Any] | None:
        data = _data(incoming.value)
        verb, ticket_id = str(data.get("verb") or ""), _ticket_id(data)
        actor = self._actor(incoming)
        service = self._service
        try:
            if verb == ids.VIEW_CREATE:
                priority = _field(data, "priority") or "medium"
                affected = _field(data, "affected") or None
                new_id = service.open_ticket(
                    actor,
                    title=_field(data, "title"),
                    description=_field(data, "description"),
                    priority=priority if priority in PRIORITIES else "medium",
                    affected=affected if affected in AFFECTED_CHOICES else None,
                    origin_channel=incoming.where,
                    teams_tenant=incoming.tenant,
                )
                return _task_message(f"Ticket #{new_id} created. We'll keep you posted here.")
            if ticket_id is None:
                return _task_message("That form is not one this bot knows.")
            if verb == ids.VIEW_ASSIGN:
                service.assign(actor, ticket_id, _field(data, "assignee"))
            elif verb == ids.VIEW_DISPATCH:
                service.dispatch_onsite(
                    actor,
                    ticket_id,
                    who=_field(data, "onsite_who"),
                    eta=_field(data, "onsite_eta"),
                    note=_field(data, "onsite_note"),
                )
            elif verb == ids.VIEW_RESOLVE:
                note = _field(data, "verification")
                if not note:
                    return _task_message("Please say how the fix was verified.")
                service.resolve(actor, ticket_id, note)
            elif verb == ids.VIEW_STILL_BROKEN:
                reason = _field(data, "reason")
                if not reason:
                    return _task_message("Please say what is still broken.")
                service.reopen(actor, ticket_id, reason)
            else:
                return _task_message("That form is not one this bot knows.")
        except Exception as e:
            return _task_message(user_message(e) or internal_error_message(e))
        return None  # closes the dialog; the card and the threads show the change

    # ---- membership ------------------------------------------------------------------------
    async def conversation_update(self, ctx: Any) -> None:
        activity = _dump(ctx.activity)
        incoming = parse(activity)
        if incoming is None:
            return
        await run_in_threadpool(self._conversation_update, incoming, activity)

    def _conversation_update(self, incoming: Incoming, activity: dict[str, Any]) -> None:
        self._remember(incoming)
        hook = self._wiring.on_members_changed
        if hook is None or not self._in_tech_team(incoming):
            return
        added = [self._member(incoming, m) for m in activity.get("membersAdded") or []]
        removed = [self._member(incoming, m) for m in activity.get("membersRemoved") or []]
        hook([u for u in added if u], [u for u in removed if u])

    def _in_tech_team(self, incoming: Incoming) -> bool:
        """The activity is about the team of the Teams technician channel."""
        tech = self._wiring.tech_channel
        if tech is None:
            return False
        if incoming.conversation == split_thread(tech)[0]:
            return True
        ref = self._wiring.conversations.get(tech)
        return incoming.team_id is not None and ref is not None and ref.team_id == incoming.team_id

    def _member(self, incoming: Incoming, member: object) -> TeamsUser | None:
        if not isinstance(member, dict) or not member.get("id"):
            return None
        user_id = str(member["id"])
        if user_id.startswith("28:"):  # a bot (ours, when it is installed)
            return None
        found = self._wiring.roster(incoming.service_url, incoming.conversation, user_id)
        if found is not None:
            return found
        aad = str(member.get("aadObjectId") or "").lower()
        name = str(member.get("name") or "Teams user")
        return (
            TeamsUser(aad, user_id, name, None, incoming.tenant, from_roster=False) if aad else None
        )

    # ---- identity --------------------------------------------------------------------------
    def _actor(self, incoming: Incoming) -> Actor:
        """The person behind the activity, their profile read from the roster when due."""
        self._remember(incoming)
        key = incoming.actor_key
        profile = None
        if not self._service.directory.is_fresh(key):
            profile = self._wiring.roster(
                incoming.service_url, incoming.conversation, incoming.user_id
            )
            if profile is None:
                profile = TeamsUser(
                    incoming.aad_id,
                    incoming.user_id,
                    incoming.name,
                    None,
                    incoming.tenant,
                    from_roster=False,
                )
        return Actor(key, surface="teams", profile=profile)

    def _remember(self, incoming: Incoming) -> None:
        if not incoming.service_url:
            return
        self._wiring.conversations.remember(
            ConversationRef(
                id=incoming.conversation,
                service_url=incoming.service_url,
                tenant_id=incoming.tenant,
                kind=incoming.kind,
                team_id=incoming.team_id,
                user_aad_id=incoming.aad_id if incoming.kind == "personal" else None,
            )
        )


_DONE = {
    ids.CONFIRM: "Thank you! Ticket #{id} is closed.",
    ids.OFFER_HELP: "Thank you! You're helping on ticket #{id}.",
}


def _dump(activity: Any) -> dict[str, Any]:
    if isinstance(activity, dict):
        return activity
    dumped: dict[str, Any] = activity.model_dump(by_alias=True, exclude_none=True)
    return dumped


def _data(value: dict[str, Any]) -> dict[str, Any]:
    """A task/fetch or task/submit value: its `data` (Teams wraps the button's data there)."""
    data = value.get("data")
    return data if isinstance(data, dict) else value


def _about(ticket_id: int | None, fn: Callable[..., _R], *args: Any) -> _R:
    """`fn(*args)` with its log lines about `ticket_id` (on the pool thread it runs on)."""
    with about_ticket(ticket_id):
        return fn(*args)


def _ticket_id(data: dict[str, Any]) -> int | None:
    raw = data.get("ticket")
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _card_message(text: str, *, status: int = 200) -> dict[str, Any]:
    """An Action.Execute answer shown to the clicker only."""
    if status != 200:
        return {
            "statusCode": status,
            "type": "application/vnd.microsoft.error",
            "value": {"code": "BadRequest", "message": text},
        }
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def _card_refresh(card: dict[str, object]) -> dict[str, Any]:
    """An Action.Execute answer: the card as it is now, shown to the clicker at once."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card}


def _task_message(text: str) -> dict[str, Any]:
    return {"task": {"type": "message", "value": text}}
