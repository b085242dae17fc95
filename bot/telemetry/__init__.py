"""What a process tells its operator: Prometheus metrics, the database gauges, log lines."""
