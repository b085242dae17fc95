"""The Slack emulator: a loopback Web API, signed HTTP and Socket Mode delivery, what Slack
shows."""
