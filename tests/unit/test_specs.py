"""The API specs the fakes check against are in the repository, so a clone anywhere runs every test."""

from __future__ import annotations

import hashlib
import re

from bot.core.settings import PROJECT_ROOT
from tests.fakes.openapi_check import SPECS_DIR, jira_specs
from tests.fakes.slack import newer_methods, spec_path

README = SPECS_DIR / "README.md"


def test_specs_are_found_inside_the_repository() -> None:
    """The fakes read their specs from tests/fakes/specs, and the files there are the ones the README lists."""
    assert SPECS_DIR.resolve().is_relative_to(PROJECT_ROOT.resolve())
    assert spec_path().resolve().is_relative_to(SPECS_DIR.resolve())
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", README.read_text(), flags=re.MULTILINE)
    assert {name for _, name in listed} == {"slack/slack_web_openapi_v2.json",
                                            "jira/jira-cloud-platform-v2.openapi.json",
                                            "jira/jira-service-management-cloud.openapi.json"}
    for digest, name in listed:
        assert hashlib.sha256((SPECS_DIR / name).read_bytes()).hexdigest() == digest, name
    assert (SPECS_DIR / "slack" / "LICENSE").is_file() and (SPECS_DIR / "jira" / "LICENSE").is_file()
    assert jira_specs().find("POST", "/rest/api/2/issue") is not None
    assert {"assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts",
            "assistant.threads.setTitle", "apps.connections.open"} <= set(newer_methods())


def test_nothing_reads_specs_from_outside_the_repository() -> None:
    """No test, fake or README link points at a specs folder beside the checkout."""
    texts = [path.read_text() for path in (PROJECT_ROOT / "tests").rglob("*.py") if path.name != "test_specs.py"]
    texts.append((PROJECT_ROOT / "README.md").read_text())
    assert not any("shared/specs" in text or "HELPDESK_SPECS_DIR" in text for text in texts)
