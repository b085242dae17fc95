"""The outbox: rows written in a use-case's transaction, then claimed, paced and handed to
each channel's route by the dispatcher. Knows no surface."""
