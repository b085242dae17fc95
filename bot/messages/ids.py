"""Slack identifiers (action_id, callback_id, block_id) shared by renderers and handlers.

Values are stable: they route Bolt listeners and appear in messages already posted.
"""

from __future__ import annotations

# Buttons and selects on the technician-channel ticket card (button value = ticket id).
ASSIGN = "ticket.assign"
START = "ticket.start"
MAKE_CRITICAL = "ticket.make_critical"
SET_PRIORITY = "ticket.set_priority"  # static_select; option value = priority name
REQUEST_HELP = "ticket.request_help"
DISPATCH = "ticket.dispatch"
RESOLVE = "ticket.resolve"
# On the "needs more hands" post.
OFFER_HELP = "ticket.offer_help"
# In the client thread once a ticket awaits confirmation.
CONFIRM = "ticket.confirm"
STILL_BROKEN = "ticket.still_broken"

# Every ticket row of the App Home (and the card): opens the ticket's detail modal.
VIEW_TICKET = "ticket.view"
# App Home controls: the create modal, and paging (button value = the page to show; Slack wants
# the two buttons of one block to have different action ids).
HOME_NEW_TICKET = "home.new_ticket"
HOME_PAGE_PREVIOUS = "home.page_previous"
HOME_PAGE_NEXT = "home.page_next"
HOME_OPEN_CARD = "home.open_card"  # a URL button: Slack still sends the click, which is acked

CARD_ACTIONS = (
    ASSIGN,
    START,
    MAKE_CRITICAL,
    SET_PRIORITY,
    REQUEST_HELP,
    DISPATCH,
    RESOLVE,
    VIEW_TICKET,
)
ALL_ACTIONS = (*CARD_ACTIONS, OFFER_HELP, CONFIRM, STILL_BROKEN)
HOME_ACTIONS = (HOME_NEW_TICKET, HOME_PAGE_PREVIOUS, HOME_PAGE_NEXT, HOME_OPEN_CARD)

# Modal callback_ids.
VIEW_CREATE = "ticket.create"
VIEW_ASSIGN = "ticket.assign_to"
VIEW_DISPATCH = "ticket.dispatch_onsite"
VIEW_RESOLVE = "ticket.resolve_verified"
VIEW_STILL_BROKEN = "ticket.still_broken_why"
ALL_VIEWS = (VIEW_CREATE, VIEW_ASSIGN, VIEW_DISPATCH, VIEW_RESOLVE, VIEW_STILL_BROKEN)
VIEW_DETAIL = "ticket.detail"  # read-only (no submit): never submitted, so not in ALL_VIEWS

# Input block_id / action_id pairs inside modals (state.values[block][action]).
IN_TITLE = ("title", "value")
IN_DESCRIPTION = ("description", "value")
IN_PRIORITY = ("priority", "value")
IN_AFFECTED = ("affected", "value")
IN_ASSIGNEE = ("assignee", "value")
IN_ONSITE_WHO = ("onsite_who", "value")
IN_ONSITE_ETA = ("onsite_eta", "value")
IN_ONSITE_NOTE = ("onsite_note", "value")
IN_VERIFICATION = ("verification", "value")
IN_REASON = ("reason", "value")

COMMAND = "/ticket"
