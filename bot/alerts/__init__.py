"""Monitoring alerts: parsers for webhook bodies and alerts-channel messages, the webhook
endpoint, and ingestion into one ticket per problem (storms folded into one summary)."""
