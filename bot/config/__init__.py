"""Settings: every key `.env.example` documents, read, typed and checked at once."""
