"""Who hears what: the notification matrix, written as outbox rows in the use-case's
transaction."""
