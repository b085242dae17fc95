"""The deployment files (Dockerfile, compose.yaml, deploy/) against the real CLI and settings:
images cannot be pulled here, so each file is parsed and every command line it runs is parsed by
`ticketbot`'s own argument parser; the systemd units go through `systemd-analyze verify`."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.alerts.web import alert_routes
from bot.app.web import health_routes
from bot.cli.parser import build_parser
from bot.config.settings import KEYS
from bot.telemetry.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def ticketbot_services() -> dict[str, dict[str, Any]]:
    """The services that run our image (built from the Dockerfile)."""
    return {name: s for name, s in compose()["services"].items() if s.get("build") == "."}


def parses(argv: list[str]) -> Any:
    """`ticketbot argv` as the real CLI parses it (argparse exits on anything it refuses)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as e:  # pragma: no cover - the assertion message is the point
        raise AssertionError(f"ticketbot refuses {argv}") from e


def _never(_: object) -> Any:
    raise AssertionError("only the routes' paths are read")


def web_paths() -> set[str]:
    routes = [
        *health_routes(healthy=lambda: True, metrics=Metrics(), metrics_token=None),
        *alert_routes(token=None, ingest=_never, dedup="fingerprint", metrics=Metrics()),
    ]
    return {"/slack/events", *(getattr(r, "path", "") for r in routes)}


def test_dockerfile_is_slim_non_root_with_a_healthcheck_and_the_cli_as_entrypoint() -> None:
    steps = dockerfile()
    ops = [op for op, _ in steps]
    base = next(arg for op, arg in steps if op == "FROM")
    assert re.fullmatch(r"python:3\.\d+-slim", base), base
    assert any("pip install '.[postgres]'" in arg for op, arg in steps if op == "RUN")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^postgres = \[", pyproject, re.M)
    user = [arg for op, arg in steps if op == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert ops.index("USER") < ops.index("ENTRYPOINT")
    for op, arg in steps:
        if op == "COPY":
            *sources, _ = arg.split()
            for source in sources:
                assert (ROOT / source).exists(), source
    health = next(arg for op, arg in steps if op == "HEALTHCHECK")
    assert "/healthz" in health and "/healthz" in web_paths()
    assert exec_form(next(arg for op, arg in steps if op == "ENTRYPOINT")) == ["ticketbot"]
    assert parses(exec_form(next(arg for op, arg in steps if op == "CMD"))).command == "run"
    env = " ".join(arg for op, arg in steps if op == "ENV")
    port = re.search(r"\bPORT=(\d+)", env)
    assert port and [port.group(1)] == [arg for op, arg in steps if op == "EXPOSE"]
    assert {"HOST", "PORT"} <= {k for k in re.findall(r"\b([A-Z_]+)=", env) if k in KEYS}


def test_the_dockerfile_healthcheck_command_asks_a_running_bot(tmp_path: Path) -> None:
    from bot.sandbox.process import BotProcess, child_env
    from bot.sandbox.slack.emulator import SlackEmulator

    health = next(arg for op, arg in dockerfile() if op == "HEALTHCHECK")
    argv = exec_form(health.split(" CMD ", 1)[1])
    assert argv[0] == "python"
    argv[0] = sys.executable
    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-health") as emu:
        emu.add_user("UMGR", "Maya Manager", email="maya@msp.example")
        emu.add_channel("CTECH", "technicians", members=["UMGR"])
        bot = BotProcess(
            {
                "SLACK_BOT_TOKEN": emu.bot_token,
                "SLACK_SIGNING_SECRET": "s3cret",
                "SLACK_API_URL": emu.api_url,
                "TICKETBOT_TECH_CHANNEL": "CTECH",
                "TICKETBOT_MANAGERS": "UMGR",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
            }
        )
        env = child_env({"PORT": str(bot.port)})
        try:
            bot.start()
            assert subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode == 0
        finally:
            bot.stop()
    assert subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode != 0


def test_every_compose_service_of_ours_runs_a_command_the_cli_accepts() -> None:
    services = ticketbot_services()
    roles: dict[str, list[str]] = {"web": [], "worker": []}
    for name, service in services.items():
        args = parses(service["command"])
        if args.command == "run":
            roles[args.role].append(name)
        else:
            assert (args.command, args.action) == ("db", "upgrade"), name
            assert service["restart"] == "no"
            assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
            continue
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert len(roles["web"]) >= 2 and len(roles["worker"]) >= 2, roles
    assert "migrate" in services


def test_compose_sets_only_settings_the_bot_reads_and_postgresql() -> None:
    for name, service in ticketbot_services().items():
        env = service["environment"]
        assert set(env) <= set(KEYS), (name, set(env) - set(KEYS))
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert env["HOST"] == "0.0.0.0"
    secrets = compose()["secrets"]
    assert all(s["environment"] in KEYS for s in secrets.values())


def test_the_proxy_balances_over_every_web_process_and_checks_their_health() -> None:
    services = compose()["services"]
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    mounted = [v.split(":")[0] for v in services["proxy"]["volumes"]]
    assert "./deploy/Caddyfile" in mounted
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams is not None
    webs = {
        f"{name}:{s['environment']['PORT']}"
        for name, s in ticketbot_services().items()
        if s["command"][:3] == ["run", "--role", "web"]
    }
    assert set(upstreams.group(1).split()) == webs
    waits = services["proxy"]["depends_on"]
    assert {f"{name}:3000" for name in waits} == webs
    assert all(w["condition"] == "service_healthy" for w in waits.values())
    health = re.search(r"health_uri (\S+)", caddyfile)
    assert health is not None and health.group(1) in web_paths()


def test_alertmanager_sends_to_the_bots_webhook_with_the_bearer_token() -> None:
    services = compose()["services"]
    am = services["alertmanager"]
    config_file = DEPLOY / "alertmanager.yml"
    assert f"./deploy/alertmanager.yml:{am['command'][0].split('=', 1)[1]}:ro" in am["volumes"]
    config = yaml.safe_load(config_file.read_text())
    (receiver,) = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    (hook,) = receiver["webhook_configs"]
    url = re.fullmatch(r"http://([a-z0-9-]+):(\d+)(/\S+)", hook["url"])
    assert url is not None, hook["url"]
    host, port, path = url.groups()
    assert path == "/alerts/alertmanager" and path in web_paths()
    assert host == "proxy" and f"\n:{port} {{" in (DEPLOY / "Caddyfile").read_text()
    auth = hook["http_config"]["authorization"]
    assert auth["type"] == "Bearer"
    (secret,) = am["secrets"]
    assert auth["credentials_file"] == f"/run/secrets/{secret}"
    assert compose()["secrets"][secret]["environment"] == "ALERT_WEBHOOK_TOKEN"
    if shutil.which("amtool") is None:
        pytest.skip("amtool comes with prometheus-alertmanager (.ci/run installs it)")
    done = subprocess.run(
        ["amtool", "check-config", str(config_file)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_unit_runs_a_command_the_cli_accepts(unit: Path) -> None:
    exec_start = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.M)
    assert exec_start is not None
    binary, *argv = shlex.split(exec_start.group(1))
    assert binary.endswith("/bin/ticketbot")
    parses(argv)


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """With ExecStart pointing at this checkout's `ticketbot`: verify wants the binary to exist."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    installed = Path(sys.executable).parent / "ticketbot"
    assert installed.exists()
    names = []
    for unit in UNITS:
        text = re.sub(r"(?m)^(ExecStart=)\S+", rf"\g<1>{installed}", unit.read_text())
        (tmp_path / unit.name).write_text(text)
        names.append(unit.name.replace("@.service", "@3001.service"))
    done = subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Unknown keys are only warnings (exit 0): any output fails too.
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_readme_shows_every_systemd_unit_and_the_web_one_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    for unit in UNITS:
        assert f"deploy/systemd/{unit.name}" in readme, unit.name
    web = (DEPLOY / "systemd" / "ticketbot-web@.service").read_text()
    assert f"```ini\n{web}```" in readme
    started = re.search(r"systemctl enable --now ([^\n]+\n[^\n]+)", readme)
    assert started is not None
    units = {u.replace("\\", "").strip() for u in started.group(1).split()} - {""}
    for name in units:
        template = re.sub(r"@[^.]+$", "@", name) + ".service"
        assert (DEPLOY / "systemd" / template).exists(), name


def test_pip_install_carries_the_migrations_and_the_slack_manifest(tmp_path: Path) -> None:
    """The image installs the package (not an editable checkout): what the code reads from files
    must be in the wheel."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("ticketbot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "manifests/slack.yaml" in names
    assert "storage/migrations/script.py.mako" in names
    for migration in (ROOT / "storage" / "migrations" / "versions").glob("*.py"):
        assert f"storage/migrations/versions/{migration.name}" in names
