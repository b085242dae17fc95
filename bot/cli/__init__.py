"""The `ticketbot` command: its parser, the admin commands and the demo."""
