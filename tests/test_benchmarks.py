"""The ack and Teams latency benchmarks still run end to end (a few requests): their figures are
quoted in reviews."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ack_latency_benchmark_prints_floor_and_sqlite_figures() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "benchmarks/ack_latency.py", "--requests", "40", "--concurrency", "4"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for label in ("floor", "SQLite"):
        line = next(line for line in lines if line.startswith(label))
        assert re.search(r"p99 \d+\.\d ms .* failed 0 ", line), line
    assert "errors logged" not in done.stdout


def test_ack_latency_benchmark_with_split_roles_prints_ratios_to_the_floor() -> None:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set (--roles split needs PostgreSQL)")
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/ack_latency.py",
            "--requests",
            "40",
            "--concurrency",
            "4",
            "--roles",
            "split",
            "--postgres",
            server,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for label in ("PostgreSQL", "split 1 web", "split 2 web"):
        i = next(i for i, line in enumerate(lines) if line.startswith(label))
        assert re.search(r"p99 \d+\.\d ms .* failed 0 ", lines[i]), lines[i]
        assert re.search(r"× floor: p50 \d+\.\d\d .* p99 \d+\.\d\d ", lines[i + 1]), lines[i + 1]
        bound = r"allows at most \d+ req/s, .* at least \d+\.\d ms = \d+\.\d\d × the floor's p99"
        assert re.search(bound, lines[i + 2]), lines[i + 2]
    assert re.search(
        r"2 web processes vs 1 .* throughput × \d+\.\d\d.* would allow at most × \d+\.\d\d",
        done.stdout,
    )
    assert "errors logged" not in done.stdout


def test_teams_latency_benchmark_prints_every_kind_with_no_failure() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/teams_latency.py",
            "--requests",
            "30",
            "--concurrency",
            "4",
            "--no-floor",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for kind in ("teams click", "teams ticket", "teams reply", "slack ack"):
        row = next(line for line in lines if line.startswith(f"  {kind} "))
        assert re.fullmatch(rf"\s+{kind}\s+(\d+\.\d\s+){{4}}\d+", row), row
    assert any(re.search(r"failed 0, clicks refused 0,", line) for line in lines), done.stdout
    assert "errors logged" not in done.stdout


def test_timers_benchmark_fires_every_timer_once_on_sqlite() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "benchmarks/timers.py", "--timers", "200"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("SQLite"))
    assert re.search(r"200 timers fired in +\d+\.\d\d s", line), line


def test_app_home_benchmark_reads_renders_and_publishes_a_300_ticket_home() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "benchmarks/app_home.py", "--repeats", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "SQLite: 300-ticket manager Home, 3 repeats"
    for label in ("read", "render", "publish", "all"):
        row = next(line for line in lines if line.startswith(f"  {label} "))
        assert re.search(r"median +\d+\.\d\d ms +p90 +\d+\.\d\d ms", row), row
    assert re.search(r"first page: \d+ blocks", done.stdout)
