"""In-process counters and gauges rendered in Prometheus text format at GET /metrics."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

Labels = tuple[tuple[str, str], ...]


class Metrics:
    def __init__(self) -> None:
        self._counters: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self._gauges: dict[str, Callable[[], dict[Labels, float]]] = {}
        self._lock = threading.Lock()

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._counters[name][key] += amount

    def gauge(self, name: str, read: Callable[[], dict[Labels, float]]) -> None:
        """Register a gauge computed at scrape time (e.g. outbox rows by status)."""
        self._gauges[name] = read

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            counters = {n: dict(v) for n, v in self._counters.items()}
        for name in sorted(counters):
            lines.append(f"# TYPE {name} counter")
            lines.extend(f"{name}{_labels(k)} {v:g}" for k, v in sorted(counters[name].items()))
        for name in sorted(self._gauges):
            lines.append(f"# TYPE {name} gauge")
            lines.extend(
                f"{name}{_labels(k)} {v:g}" for k, v in sorted(self._gauges[name]().items())
            )
        return "\n".join(lines) + "\n"


def _labels(key: Labels) -> str:
    if not key:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
