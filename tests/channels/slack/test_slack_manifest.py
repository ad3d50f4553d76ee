"""slack/manifest.yml grants what the Slack channel uses: its events, commands, App Home and Web API scopes."""

from __future__ import annotations

import json
import re

import yaml

from bot.core.settings import PROJECT_ROOT
from tests.fakes.slack import newer_methods, spec_path

MANIFEST = PROJECT_ROOT / "slack" / "manifest.yml"
PACKAGE = PROJECT_ROOT / "bot" / "channels" / "slack"
CHANNEL = PACKAGE / "channel.py"  # the listeners
PANEL = PACKAGE / "panel.py"
# The spec predates granular bot scopes; these are today's names for its old ones.
RENAMED = {"chat:write:bot": "chat:write", "chat:write:user": "chat:write"}


def test_manifest_subscribes_to_what_the_channel_handles() -> None:
    """Events, slash commands, interactivity and the App Home tab, all pointing at /slack/events."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    settings, features = manifest["settings"], manifest["features"]
    source = CHANNEL.read_text()
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_home_opened", "app_mention", "message.im",
                                                                  "assistant_thread_started"}
    for event in ("app_home_opened", "app_mention", "message"):
        assert f'@app.event("{event}")' in source
    assert "@assistant.thread_started" in PANEL.read_text() and "self.app.assistant(" in source
    assert features["assistant_view"]["assistant_description"]
    commands = {c["command"] for c in features["slash_commands"]}
    assert commands == set(re.findall(r'@app\.command\("(/[a-z]+)"\)', source))
    assert features["app_home"]["home_tab_enabled"] and settings["interactivity"]["is_enabled"]
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"],
            *(c["url"] for c in features["slash_commands"])]
    assert all(url.endswith("/slack/events") for url in urls)


def test_manifest_grants_every_web_api_method_the_channel_calls() -> None:
    """Each ``self.client.x_y(...)`` in the channel needs a scope the spec names and the manifest grants."""
    spec = json.loads(spec_path().read_text())
    granted = set(yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])
    source = "\n".join(module.read_text() for module in sorted(PACKAGE.glob("*.py")))
    called = set(re.findall(r"\bclient\.([a-z]+(?:_[a-zA-Z]+)+)\(", source))
    assert {"chat_postMessage", "users_info", "views_publish", "conversations_open"} <= called
    needed: dict[str, set[str]] = {}
    for name in called:
        method = name.replace("_", ".")
        [operation] = spec["paths"][f"/{method}"].values()
        scopes = {RENAMED.get(s, s) for entry in operation.get("security", []) for s in entry.get("slackAuth", [])}
        needed[method] = scopes
        assert "none" in scopes or scopes & granted, f"{method} needs one of {sorted(scopes)}"
    # The agent panel calls its methods through bolt's AsyncSetStatus, AsyncSetTitle, AsyncSetSuggestedPrompts.
    panel = {f"assistant.threads.set{m}" for m in re.findall(r"AsyncSet(Status|Title|SuggestedPrompts)\b",
                                                            PANEL.read_text())}
    assert len(panel) == 3
    for method in panel:
        needed[method] = set(newer_methods()[method]["scopes"])
        assert needed[method] <= granted, f"{method} needs {sorted(needed[method])}"
    assert "users:read.email" in granted  # users.info only returns the email with it
    # Nothing more than that: every scope granted is one some call (or an event) needs.
    events = {"app_mentions:read", "im:history", "commands", "chat:write.public"}  # app_mention, message.im,
    # the slash commands, and posting to public channels the bot has not joined
    used = set().union(*needed.values()) | events | {"users:read.email"}
    assert granted <= used, f"granted but not used: {sorted(granted - used)}"
    # conversations.history reads the technicians' channel and announcement channels, public or private.
    assert {"channels:history", "groups:history"} <= granted
