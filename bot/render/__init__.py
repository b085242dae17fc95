"""Pure renderers: ticket views → Slack Block Kit, modals, and email text/HTML. No I/O."""
