"""Timers as database rows: escalation, SLA, the daily digest and the monthly report, and the
runner that fires due ones once across processes."""
