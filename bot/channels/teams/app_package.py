"""The Teams app package an admin uploads: ``manifest.json`` and the two icons, zipped.

The manifest follows the Teams app manifest schema v1.17: one bot with the
personal, team and group chat scopes and a command list per scope: the prompt
starters Teams offers, drawn from the skills' prompts (``bot/engine/prompts.py``), the
ones every employee may use. The icons
are drawn here (a white life ring): ``color.png`` 192x192 on the accent colour,
``outline.png`` 32x32 white on transparent, as Teams requires.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.errors import ConfigError
from bot.engine.skill import Prompt

__all__ = ["ACCENT_COLOR", "MANIFEST_SCHEMA", "build_manifest", "commands", "png", "write_package"]

MANIFEST_VERSION = "1.17"
MANIFEST_SCHEMA = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
ACCENT_COLOR = "#1F5A96"
PROJECT_URL = "https://github.com/civic-helpdesk/civic-helpdesk"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

COMMAND_TITLE_LIMIT = 32  # the manifest schema's limits for a command
COMMAND_DESCRIPTION_LIMIT = 128
COMMANDS_PER_LIST = 10


def commands(prompts: Sequence[Prompt]) -> list[dict[str, str]]:
    """The manifest's commands for ``prompts``: the message as the title (Teams sends the title when one
    is chosen) and the description, at most ten."""
    for prompt in prompts:
        if len(prompt.message) > COMMAND_TITLE_LIMIT:
            raise ConfigError(f"the prompt {prompt.message!r} is longer than Teams' {COMMAND_TITLE_LIMIT} characters")
    return [{"title": p.message, "description": p.description[:COMMAND_DESCRIPTION_LIMIT]}
            for p in prompts[:COMMANDS_PER_LIST]]


def build_manifest(
    app_id: str,
    *,
    version: str = "1.0.0",
    developer: str = "City IT",
    website_url: str = PROJECT_URL,
    privacy_url: str | None = None,
    terms_url: str | None = None,
    prompts: Sequence[Prompt] = (),
) -> dict[str, Any]:
    """The manifest for the bot ``app_id`` (the Microsoft App ID, a GUID; also the Teams app id).

    ``prompts`` become the command lists (``prompts_for(skills, None)``: what every employee may use).
    """
    if not _GUID.match(app_id):
        raise ConfigError(f"HELPDESK_TEAMS_APP_ID must be the bot's Microsoft App ID (a GUID), not {app_id!r}")
    for url in (website_url, privacy_url, terms_url):
        if url is not None and not url.startswith("https://"):
            raise ConfigError(f"the Teams manifest needs https URLs, not {url!r}")
    listed = commands(prompts)
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": developer[:32],
            "websiteUrl": website_url,
            "privacyUrl": privacy_url or website_url,
            "termsOfUseUrl": terms_url or website_url,
        },
        "name": {"short": "IT Helpdesk", "full": "IT Helpdesk (civic-helpdesk)"},
        "description": {
            "short": "Password resets, tickets, how-to answers and outage news from IT.",
            "full": (
                "Ask IT in plain words: reset or unlock your account (a technician approves it in Teams), "
                "open and follow tickets, get how-to answers from the knowledge base, and hear about outages. "
                "Technicians approve requests in their channel; every decision is audited."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": listed},
                    {"scopes": ["team", "groupChat"], "commands": listed[:6]},
                ] if listed else [],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def png(size: int, *, background: tuple[int, int, int, int], ring: tuple[int, int, int, int]) -> bytes:
    """A square RGBA PNG of ``size`` pixels: ``background`` with a ``ring`` (a life ring) in the middle."""
    centre = (size - 1) / 2
    outer, inner = size * 0.40, size * 0.22
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            diagonal = abs(abs(x - centre) - abs(y - centre)) < size * 0.06
            on_ring = inner <= distance <= outer and not diagonal
            row.extend(ring if on_ring else background)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


def _accent_rgba() -> tuple[int, int, int, int]:
    value = ACCENT_COLOR.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), 255


def write_package(path: Path, manifest: dict[str, Any]) -> Path:
    """Write the zip (manifest.json, color.png, outline.png at its root) to ``path``."""
    white, clear = (255, 255, 255, 255), (255, 255, 255, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr("color.png", png(192, background=_accent_rgba(), ring=white))
        archive.writestr("outline.png", png(32, background=clear, ring=white))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path
