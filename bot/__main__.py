"""`python -m bot`: the same entry point as the `ticketbot` console script."""

from bot.cli.main import main

raise SystemExit(main())
