"""Outbound delivery: the outbox dispatcher and one adapter per channel (Slack, email)."""
