"""Email: sending threaded mail over SMTP."""
