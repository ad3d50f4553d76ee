"""The container's health check: ``GET /healthz`` the way compose publishes the bot, not on loopback.

``python -m bot.healthcheck [PORT]`` (or ``bot.surfaces.healthcheck``) (the Dockerfile's HEALTHCHECK) asks the
server at the container's own network address on the published container
port (3000). A bot that listens on 127.0.0.1 only, or on another port, cannot
be reached through the published port, and the check fails, so the container
turns unhealthy instead of looking fine while nobody can reach it.
Exit status 0 when healthy, 1 otherwise (with the reason on stderr).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import urllib.error
import urllib.request

__all__ = ["CONTAINER_PORT", "check", "network_address"]

CONTAINER_PORT = 3000
"""The port the image exposes and docker-compose.yml publishes."""
TIMEOUT = 4.0


def _is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback


def network_address() -> str | None:
    """This host's (container's) address on its network: what a published port forwards to."""
    try:
        address = socket.gethostbyname(socket.gethostname())  # docker writes the container's address here
        if not _is_loopback(address):
            return address
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # picks the outgoing interface; sends nothing
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address == "0.0.0.0" or _is_loopback(address) else address


def check(port: int = CONTAINER_PORT) -> str | None:
    """None when ``/healthz`` answers ``ok`` at the network address on ``port``; else what is wrong."""
    address = network_address()
    if address is None:
        return "this container has no network address besides loopback"
    url = f"http://{address}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # reachable, but /healthz says the database or the NLU is not ready
        return f"{url} answered {exc.code}: {exc.read()[:200].decode(errors='replace')}"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return (f"{url} does not answer ({reason}): the bot must listen on 0.0.0.0:{port} "
                f"(HELPDESK_HOST, HELPDESK_PORT) to be reachable through the published port")
    if not isinstance(body, dict) or body.get("status") != "ok":
        return f"{url} answered {body!r}"
    return None


def main(argv: list[str]) -> int:
    """Run the check; print the reason and return 1 when it fails."""
    problem = check(int(argv[0]) if argv else CONTAINER_PORT)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
