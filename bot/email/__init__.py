"""Email: threaded mail sent over SMTP, and the outbox route that sends it."""
