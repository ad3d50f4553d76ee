"""`helpdesk teams package` and Teams in `helpdesk run`.

The manifest is checked against the rules of the Teams app manifest schema v1.17
(required fields, lengths, formats, enums, no unknown top-level keys). The official
schema file is not bundled (no network in CI), so the rules are written out here.
"""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.channels.teams.app_package import MANIFEST_SCHEMA
from bot.engine.prompts import prompts_for
from bot.engine.skill import load_skills
from bot.surfaces.cli import app

APP_ID = "6f1c1f27-1111-4a2b-9c3d-123456789abc"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
TOP_LEVEL = {"$schema", "manifestVersion", "version", "id", "localizationInfo", "developer", "name",
             "description", "icons", "accentColor", "configurableTabs", "staticTabs", "bots", "connectors",
             "composeExtensions", "permissions", "devicePermissions", "validDomains", "webApplicationInfo",
             "showLoadingIndicator", "isFullScreen", "activities", "defaultInstallScope", "defaultGroupCapability",
             "meetingExtensionDefinition", "authorization", "configurableProperties", "supportedChannelTypes",
             "defaultBlockUntilAdminAction", "publisherDocsUrl", "subscriptionOffer", "graphConnector",
             "scopeConstraints", "apiBasedComposeExtensions"}
SCOPES = {"team", "personal", "groupChat"}
HELPDESK = Path(sys.executable).parent / "helpdesk"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))}
    env.update(HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'helpdesk.db'}", **extra)
    return env


def check_manifest(manifest: dict[str, Any]) -> None:
    """The v1.17 schema's rules for what this manifest uses."""
    assert set(manifest) <= TOP_LEVEL, set(manifest) - TOP_LEVEL
    assert manifest["$schema"] == MANIFEST_SCHEMA and manifest["manifestVersion"] == "1.17"
    assert SEMVER.match(manifest["version"]) and len(manifest["version"]) <= 256
    assert GUID.match(manifest["id"])
    developer = manifest["developer"]
    assert set(developer) <= {"name", "mpnId", "websiteUrl", "privacyUrl", "termsOfUseUrl"}
    assert 0 < len(developer["name"]) <= 32
    assert all(developer[k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert 0 < len(manifest["name"]["short"]) <= 30 and len(manifest["name"].get("full", "")) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80 and 0 < len(manifest["description"]["full"]) <= 4000
    assert set(manifest["icons"]) == {"color", "outline"}
    assert HEX_COLOR.match(manifest["accentColor"])
    [bot] = manifest["bots"]
    assert GUID.match(bot["botId"]) and set(bot["scopes"]) <= SCOPES and bot["scopes"]
    assert len(bot["commandLists"]) <= 3
    for command_list in bot["commandLists"]:
        assert set(command_list["scopes"]) <= SCOPES and 0 < len(command_list["commands"]) <= 10
        for command in command_list["commands"]:
            assert set(command) == {"title", "description"}
            assert 0 < len(command["title"]) <= 32 and 0 < len(command["description"]) <= 128
    assert set(manifest["permissions"]) <= {"identity", "messageTeamMembers"}


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the pixel rows of an 8-bit RGBA PNG with unfiltered rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    width = height = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        crc = struct.unpack(">I", data[position + 8 + length:position + 12 + length])[0]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 6)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    return width, height, [raw[i * stride + 1:(i + 1) * stride] for i in range(height)]


def test_teams_package_writes_a_valid_manifest_and_icons(tmp_path: Path) -> None:
    """The zip holds manifest.json (bot id, scopes, commands) and a 192x192 colour and 32x32 outline icon."""
    output = tmp_path / "out" / "helpdesk.zip"
    result = CliRunner().invoke(app, ["teams", "package", "-o", str(output), "--version", "1.2.0"],
                                env=_env(tmp_path, HELPDESK_TEAMS_APP_ID=APP_ID))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = read_png(archive.read(manifest["icons"]["color"]))
        outline = read_png(archive.read(manifest["icons"]["outline"]))
    check_manifest(manifest)
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID and manifest["version"] == "1.2.0"
    assert set(manifest["bots"][0]["scopes"]) == SCOPES
    assert color[:2] == (192, 192) and outline[:2] == (32, 32)
    pixels = [row[i:i + 4] for row in outline[2] for i in range(0, len(row), 4)]
    assert {p[3] for p in pixels} == {0, 255}  # transparent background, opaque outline
    assert all(p[:3] == b"\xff\xff\xff" for p in pixels if p[3])  # the outline is white
    # The prompt starters are the skills' prompts that every employee may use, lowest rank first.
    personal = next(c for c in manifest["bots"][0]["commandLists"] if c["scopes"] == ["personal"])
    expected = prompts_for(load_skills(), None)
    assert [c["title"] for c in personal["commands"]] == [p.message for p in expected][:10]
    assert personal["commands"][0] == {"title": "I forgot my password",
                                       "description": "Reset your password (a technician approves it)"}
    assert "announce an outage" not in [c["title"] for c in personal["commands"]]  # technicians only


def test_teams_package_needs_the_app_id(tmp_path: Path) -> None:
    """No HELPDESK_TEAMS_APP_ID, or one that is not a GUID: exit 2 with one line."""
    result = CliRunner().invoke(app, ["teams", "package", "-o", str(tmp_path / "x.zip")], env=_env(tmp_path))
    assert result.exit_code == 2 and "HELPDESK_TEAMS_APP_ID" in result.output
    result = CliRunner().invoke(app, ["teams", "package", "-o", str(tmp_path / "x.zip")],
                                env=_env(tmp_path, HELPDESK_TEAMS_APP_ID="my-bot"))
    assert result.exit_code == 2 and "GUID" in result.output and not (tmp_path / "x.zip").exists()


def test_run_refuses_anonymous_teams_off_loopback(tmp_path: Path) -> None:
    """HELPDESK_TEAMS_ALLOW_ANONYMOUS=true with HELPDESK_HOST=0.0.0.0 stops at start-up with one line."""
    result = CliRunner().invoke(app, ["run"], env=_env(tmp_path, HELPDESK_TEAMS_ALLOW_ANONYMOUS="true",
                                                       HELPDESK_HOST="0.0.0.0"))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "HELPDESK_TEAMS_ALLOW_ANONYMOUS" in result.output


def test_run_serves_api_messages_when_teams_is_configured(tmp_path: Path) -> None:
    """`helpdesk run` with Teams set up serves POST /api/messages (a malformed activity gets 400)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(HELPDESK), "run"], cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env=_env(tmp_path, HELPDESK_PORT=str(port), HELPDESK_TEAMS_ALLOW_ANONYMOUS="true"),
    )
    try:
        status = None
        deadline = time.monotonic() + 300  # only stops a hung process
        while status is None and time.monotonic() < deadline and process.poll() is None:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/messages", data=b'{"type": "message"}',
                                             headers={"Content-Type": "application/json"}, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert status == 400, process.stderr
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=300)
    assert "anonymous access is ON" in stderr
