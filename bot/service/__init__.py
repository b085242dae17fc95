"""Use-cases: each one database transaction writing the ticket, its timeline and its outbox rows."""
