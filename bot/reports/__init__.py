"""Monthly reports per client and overall: figures from the database, and their renderings as text,
CSV, self-contained HTML and a Slack Block Kit summary."""
