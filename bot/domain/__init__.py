"""The helpdesk's pure core: the ticket state machine, business hours, when a reply is public,
what a ticket's text may hold, and time as an injected clock. Imports nothing else of `bot`."""
