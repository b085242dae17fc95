"""Messages to the bot: a reply in a ticket's thread is a ticket update; anything else addressed
to the bot is a command (`ticket …`, `list`, `status 42`, `home`, `help`). Answers go through the
outbox: a message activity's HTTP answer carries nothing."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.messages import chat as messages
from bot.messages.escape import mrkdwn
from bot.messages.view import SlackMessage
from bot.service.actor import Actor
from bot.service.errors import NotFoundError
from bot.service.use_cases import TicketService
from bot.teams import cards as adaptive
from bot.teams.home_card import home_card
from handlers.errors import internal_error_message, user_message
from handlers.grammar import (
    TEAMS_WORD,
    Home,
    ListMine,
    NewForm,
    Quick,
    Status,
    Usage,
    teams_message,
)
from handlers.teams.activity import Incoming, dump, parse
from handlers.teams.wiring import TeamsWiring, actor


def register(app: Any, service: TicketService, wiring: TeamsWiring) -> None:
    async def handle_teams_message(ctx: Any) -> None:
        incoming = parse(dump(ctx.activity))
        if incoming is None or incoming.from_bot or not incoming.aad_id:
            return
        await run_in_threadpool(_message_or_refusal, service, wiring, incoming)

    app.on_message(handle_teams_message)


def _message_or_refusal(service: TicketService, wiring: TeamsWiring, incoming: Incoming) -> None:
    """A reply the ticket does not take (a closed ticket, say) is refused in plain words;
    anything unexpected is left to fail (a 5xx), so that Teams sends the message again."""
    try:
        _message(service, wiring, incoming)
    except Exception as e:
        refusal = user_message(e)
        if refusal is None:
            raise
        service.answer_in_teams(incoming.where, messages.refused(refusal))


def _message(service: TicketService, wiring: TeamsWiring, incoming: Incoming) -> None:
    person = actor(incoming, service, wiring)
    if incoming.thread and incoming.thread != incoming.id:
        outcome = service.thread_message(
            person,
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
                person,
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
        _command(service, wiring, incoming, person)


def _command(service: TicketService, wiring: TeamsWiring, incoming: Incoming, actor: Actor) -> None:
    answer: SlackMessage
    try:
        match teams_message(incoming.text):
            case Home(word, page) if wiring.home is not None:
                if incoming.kind != "personal":  # a Home is the reader's own: never in a channel
                    answer = messages.refused(f"Write `{word}` to me in a 1:1 chat.")
                    service.answer_in_teams(incoming.where, answer)
                    return
                service.answer_in_teams(
                    incoming.where, home_card(wiring.home.read(actor.key), page)
                )
                return
            case ListMine():
                answer = messages.ticket_list(service.my_open(actor))
            case Status(ticket_id):
                view, timeline = service.status(actor, ticket_id)
                staff = service.is_staff(actor)
                answer = messages.status(view, timeline, include_internal=staff)
            case Usage(text):
                answer = messages.refused(text)
            case NewForm():
                service.answer_in_teams(incoming.where, adaptive.new_ticket_prompt())
                return
            case Quick(title):
                service.open_ticket(
                    actor,
                    title=title,
                    origin_channel=incoming.where,
                    teams_tenant=incoming.tenant,
                )
                return
            case _:  # help, or `home` where no App Home is served
                answer = messages.help_text(TEAMS_WORD)
    except NotFoundError as e:
        answer = messages.refused(e.message)
    except Exception as e:
        answer = messages.refused(user_message(e) or internal_error_message(e))
    service.answer_in_teams(incoming.where, answer)
