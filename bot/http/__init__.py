"""HTTP plumbing every endpoint shares: bearer tokens and capped request bodies."""
