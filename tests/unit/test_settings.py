"""Settings: defaults, the HELPDESK_ prefix, parsing, .env files and one clear error per bad value."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.settings import PROJECT_ROOT, Settings, load_settings, parse_duration

OURS = ("HELPDESK_", "SLACK_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HELPDESK_/SLACK_ variable and no .env of the developer's: an empty working directory."""
    for name in list(os.environ):
        if name.startswith(OURS):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults() -> None:
    """With nothing set, the documented defaults apply and the data folders are the project's."""
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 3000
    assert settings.database_url == "sqlite:///helpdesk.db"
    assert settings.log_level == "INFO"
    assert settings.timezone == "UTC"
    assert settings.nlu == "embedded"
    assert settings.nlu_threshold == 0.45
    assert settings.technicians == []
    assert settings.approval_ttl == timedelta(minutes=30)
    assert settings.console_user == "employee@city.example"
    assert settings.ticket_prefix == "HELP"
    assert settings.intents_dir == PROJECT_ROOT / "intents"
    assert settings.kb_dir == PROJECT_ROOT / "data" / "kb"
    assert settings.slack_bot_token is None
    assert not settings.has_chat_credentials


def test_prefixed_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each field comes from HELPDESK_<NAME>; the unprefixed name is ignored."""
    monkeypatch.setenv("HELPDESK_PORT", "8080")
    monkeypatch.setenv("HELPDESK_TIMEZONE", "America/Chicago")
    monkeypatch.setenv("HELPDESK_TICKET_PREFIX", "IT")
    monkeypatch.setenv("HELPDESK_CONSOLE_USER", " Me@City.Example ")
    monkeypatch.setenv("PORT", "9999")
    settings = load_settings()
    assert settings.port == 8080
    assert settings.timezone == "America/Chicago"
    assert settings.ticket_prefix == "IT"
    assert settings.console_user == "me@city.example"


def test_technicians_are_split_and_lower_cased(monkeypatch: pytest.MonkeyPatch) -> None:
    """A comma-separated list is trimmed and lower-cased, and empty items are dropped."""
    monkeypatch.setenv("HELPDESK_TECHNICIANS", "A@x.org, b@x.org,")
    settings = load_settings()
    assert settings.technicians == ["a@x.org", "b@x.org"]
    assert settings.is_technician("A@X.org ")
    assert not settings.is_technician("c@x.org")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("45", timedelta(minutes=45)), ("2h", timedelta(hours=2)), ("90s", timedelta(seconds=90)),
     ("1d", timedelta(days=1)), (" 15 min ", timedelta(minutes=15))],
)
def test_approval_ttl_durations(monkeypatch: pytest.MonkeyPatch, raw: str, expected: timedelta) -> None:
    """Bare numbers are minutes; s, m, h and d suffixes are understood."""
    monkeypatch.setenv("HELPDESK_APPROVAL_TTL", raw)
    assert load_settings().approval_ttl == expected


def test_parse_duration_rejects_nonsense() -> None:
    """``parse_duration`` explains what it expected."""
    with pytest.raises(ValueError, match="30m, 2h or 90s"):
        parse_duration("soon")
    assert parse_duration(5) == timedelta(minutes=5)
    assert parse_duration(timedelta(seconds=3)) == timedelta(seconds=3)


@pytest.mark.parametrize(
    ("name", "value"),
    [("HELPDESK_APPROVAL_TTL", "two hours"), ("HELPDESK_PORT", "abc"), ("HELPDESK_PORT", "70000"),
     ("HELPDESK_TIMEZONE", "Mars/Olympus_Mons"), ("HELPDESK_TICKET_PREFIX", "help"),
     ("HELPDESK_NLU_THRESHOLD", "2"), ("HELPDESK_LOG_LEVEL", "LOUD")],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """Every bad value gives a ConfigError, one line, that names the environment variable."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message
    assert "\n" not in message


def test_bad_time_zone_message_is_helpful(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown time zone says what a good one looks like."""
    monkeypatch.setenv("HELPDESK_TIMEZONE", "Nowhere")
    with pytest.raises(ConfigError, match="HELPDESK_TIMEZONE.*America/Chicago"):
        load_settings()


def test_two_bad_values_are_both_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """All problems are reported at once, still on one line."""
    monkeypatch.setenv("HELPDESK_PORT", "abc")
    monkeypatch.setenv("HELPDESK_APPROVAL_TTL", "never")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "HELPDESK_PORT" in str(caught.value) and "HELPDESK_APPROVAL_TTL" in str(caught.value)


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, clean_environment: Path) -> None:
    """A .env in the working directory is read; the real environment wins over it."""
    (clean_environment / ".env").write_text(
        "HELPDESK_PORT=4000\n"
        "HELPDESK_TECHNICIANS=Tom@City.example\n"
        "HELPDESK_APPROVAL_TTL=2h\n"
        "HELPDESK_DATABASE_URL=sqlite:///from-dotenv.db\n"
        "SLACK_BOT_TOKEN=xoxb-from-dotenv\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HELPDESK_DATABASE_URL", "sqlite:///from-env.db")
    settings = load_settings()
    assert settings.port == 4000
    assert settings.technicians == ["tom@city.example"]
    assert settings.approval_ttl == timedelta(hours=2)
    assert settings.slack_bot_token == "xoxb-from-dotenv"
    assert settings.database_url == "sqlite:///from-env.db"


def test_bad_value_in_dotenv_names_its_variable(clean_environment: Path) -> None:
    """A bad value from .env is reported like one from the environment."""
    (clean_environment / ".env").write_text("HELPDESK_PORT=not-a-port\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="HELPDESK_PORT"):
        load_settings()


def test_slack_names_have_no_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack's own variable names are read as they are, without the HELPDESK_ prefix."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    settings = load_settings()
    assert settings.slack_bot_token == "xoxb-123"
    assert settings.slack_signing_secret == "s3cret"
    assert settings.slack_app_token is None  # not set
    assert settings.has_chat_credentials


def test_overrides_win_and_are_validated() -> None:
    """Keyword overrides (as tests use) take precedence and are checked like the environment."""
    assert load_settings(port=1234).port == 1234
    with pytest.raises(ConfigError, match="HELPDESK_PORT"):
        load_settings(port=0)
    assert isinstance(load_settings(), Settings)


def test_local_time_uses_the_city_time_zone() -> None:
    """Times shown to people are in HELPDESK_TIMEZONE, with its abbreviation."""
    from datetime import UTC, datetime

    from bot.core.settings import Settings

    settings = Settings(_env_file=None, timezone="America/Chicago")  # type: ignore[call-arg]
    assert settings.local_time(datetime(2026, 11, 23, 15, 30, tzinfo=UTC)) == "Mon 23 Nov 09:30 CST"
