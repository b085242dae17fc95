"""Slack: the Bolt app, request signatures, the manifest, Block Kit cards and modals, and
delivery through the Web API."""
