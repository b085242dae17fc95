"""Monitoring alerts: parsers that turn webhook bodies and alerts-channel messages into `Alert`s."""
