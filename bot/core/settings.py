"""All configuration, read once from the environment and a ``.env`` file.

This is the only module that reads the environment. Every setting has the
``HELPDESK_`` prefix, except the names Slack already uses.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.errors import ConfigError

__all__ = ["PROJECT_ROOT", "Settings", "load_settings", "parse_duration"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIN_TOKEN_CHARS = 16
"""The shortest dashboard or metrics token accepted."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_duration(value: object, default_unit: str = "m") -> timedelta:
    """Read ``30``, ``30m``, ``2h``, ``90s`` or ``1d`` as a duration (bare numbers use ``default_unit``)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)):
        return timedelta(seconds=float(value) * _UNITS[default_unit])
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write it like 30m, 2h or 90s")
    amount, unit = float(match.group(1)), (match.group(2) or default_unit).lower()
    return timedelta(seconds=amount * _UNITS[unit])


def _data_dir(name: str) -> Path:
    """A data folder: the working directory's, the source tree's, or the installed one."""
    for root in (Path.cwd(), PROJECT_ROOT, Path(sys.prefix) / "share" / "civic-helpdesk"):
        if (root / name).exists():
            return root / name
    return PROJECT_ROOT / name


class Settings(BaseSettings):
    """Every setting of the bot. Field ``x`` is read from ``HELPDESK_X``."""

    model_config = SettingsConfigDict(
        env_prefix="HELPDESK_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Server and storage
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)
    dashboard_token: SecretStr | None = None
    metrics_token: SecretStr | None = None
    database_url: str = "sqlite:///helpdesk.db"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    public_url: str | None = None
    timezone: str = "UTC"
    lease: timedelta = Field(timedelta(seconds=30), gt=timedelta(0))
    """How long a replica's claim on an inbox item or a fan-out batch holds without renewal (a dead
    replica's work is taken over after this)."""

    # NLU
    nlu: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str | None = None
    intents_dir: Path = Field(default_factory=lambda: _data_dir("intents"))
    nlu_threshold: float = Field(0.45, ge=0.0, le=1.0)
    nlu_ambiguity_margin: float = Field(0.12, ge=0.0, le=1.0)
    nlu_max_chars: int = Field(300, ge=50)
    nlu_offer_floor: float = Field(0.15, ge=0.0, le=1.0)
    """Below the threshold, readings at least this likely are offered as buttons."""
    nlu_offer_over_guide: float = Field(0.30, ge=0.0, le=1.0)
    """An unclear message is answered with a likely guide unless another reading is at least this likely."""
    nlu_cache_dir: Path | None = Field(default_factory=lambda: Path.home() / ".cache" / "civic-helpdesk")
    max_message_chars: int = Field(20000, ge=100)

    # People and approvals
    technicians: Annotated[list[str], NoDecode] = Field(default_factory=list)
    approval_ttl: timedelta = timedelta(minutes=30)
    console_user: str = "employee@city.example"
    security_email: str = "security@city.example"

    # The manager's view (issue 15): who may see it, how outcomes settle, what a ticket costs
    managers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    outcome_window: timedelta = timedelta(hours=72)
    outcome_idle: timedelta = timedelta(hours=1)
    cost_per_ticket: float = Field(18.50, ge=0)
    cost_per_reset: float = Field(70.0, ge=0)
    minutes_per_ticket: float = Field(10.0, ge=0)
    currency: str = Field("$", max_length=8)

    # Tickets and knowledge base
    ticket_prefix: str = Field("HELP", pattern=r"^[A-Z][A-Z0-9]{1,9}$")
    kb_dir: Path = Field(default_factory=lambda: _data_dir("data") / "kb")
    kb_base_url: str | None = None
    kb_answer_confidence: float = Field(0.4, ge=0.0, le=1.0)
    """The least confidence a guide needs to be the answer to a message read (or half read, or asking how) as
    a how-to question."""
    kb_beside_confidence: float = Field(0.75, ge=0.0, le=1.0)
    """The least confidence a guide needs to be shown beside another request (a ticket preview, the offer to
    reset, an outage report): a wrong guide there is noise before what the person asked for."""
    kb_offer_confidence: float = Field(0.3, ge=0.0, le=1.0)
    """The least confidence (``Hit.confidence``, the knowledge base's judge) a guide needs to be offered as a
    button for an unclear message."""

    # Microsoft Teams (issue 8)
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_certificate_path: Path | None = None
    teams_tenant_id: str | None = None
    teams_technician_channel: str | None = None
    teams_allow_anonymous: bool = False
    teams_retry_attempts: int = Field(4, ge=1, le=10)
    teams_retry_seconds: float = Field(1.0, ge=0.0, le=60.0)

    # Tickets: Jira and Jira Service Management (issue 4)
    ticket_backend: Literal["auto", "builtin", "jira", "jsm"] = "auto"
    jira_url: str | None = None
    jira_project: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]{1,19}$")
    jira_issue_type: str = "Task"
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    jira_pat: SecretStr | None = None
    jira_service_desk: str | None = None
    jira_request_types: dict[str, str] = Field(default_factory=dict)
    jira_fields: dict[str, Any] = Field(default_factory=dict)
    jira_timeout: float = Field(10.0, gt=0, le=120)
    jira_poll_interval: timedelta = timedelta(minutes=2)
    jira_webhook_secret: SecretStr | None = None
    ticket_retry_max: timedelta = timedelta(minutes=30)

    # Password resets and account unlocks (issue 5)
    directory: Literal["auto", "assisted", "ldap", "graph"] = "auto"
    ldap_url: str | None = None
    ldap_bind_dn: str | None = None
    ldap_password: SecretStr | None = None
    ldap_base_dn: str | None = None
    ldap_tls_ca: Path | None = None
    ldap_start_tls: bool = False
    ldap_flavor: Literal["auto", "openldap", "ad"] = "auto"
    ldap_timeout: float = Field(5.0, gt=0, le=120)
    ldap_alternate_email_attribute: str = Field("otherMailbox", pattern=r"^[A-Za-z][A-Za-z0-9-]*$")
    graph_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_client_secret: SecretStr | None = None
    graph_authority_url: str = "https://login.microsoftonline.com"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    reset_policy: Literal["approval", "self_service"] = "approval"
    password_self_service_url: str | None = None
    protected_groups: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["Domain Admins", "Enterprise Admins", "Schema Admins", "Administrators",
                                 "Global Administrator", "Privileged Role Administrator"]
    )
    protected_second_approval: bool = False
    reset_daily_limit: int = Field(3, ge=1, le=100)
    reset_cooldown: timedelta = timedelta(minutes=15)
    temp_password_length: int = Field(16, ge=12, le=128)
    temp_password_classes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["upper", "lower", "digit", "symbol"]
    )
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = "it-helpdesk@city.example"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_ca_file: Path | None = None

    @field_validator("protected_groups", "temp_password_classes", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("temp_password_classes")
    @classmethod
    def _known_classes(cls, value: list[str]) -> list[str]:
        known = ("upper", "lower", "digit", "symbol")
        wrong = [name for name in value if name not in known]
        if wrong or not value:
            raise ValueError(f"use some of {', '.join(known)} (got {', '.join(wrong) or 'none'})")
        return value

    @field_validator("reset_cooldown", mode="before")
    @classmethod
    def _cooldown(cls, value: object) -> timedelta:
        return parse_duration(value)

    # Slack channel (issue 3)
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_technician_channel: str | None = None
    slack_technician_group: str | None = None

    # Announcements, outage status and phishing reports (issue 7)
    broadcast_two_person: bool = True
    ack_reminder: timedelta = timedelta(hours=24)
    security_channel: str | None = None
    schedule_grace: timedelta = timedelta(minutes=15)
    fanout_concurrency: int = Field(8, ge=1, le=100)
    fanout_rate: float | None = Field(None, gt=0)

    @field_validator("ack_reminder", mode="before")
    @classmethod
    def _hours(cls, value: object) -> timedelta:
        return parse_duration(value, default_unit="h")

    @field_validator("schedule_grace", mode="before")
    @classmethod
    def _grace(cls, value: object) -> timedelta:
        return parse_duration(value)

    @field_validator("security_channel", mode="before")
    @classmethod
    def _no_room_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    # Rasa server as the NLU (issue 9)
    rasa_token: SecretStr | None = None
    rasa_timeout: float = Field(2.0, gt=0.0, le=60.0)
    rasa_retries: int = Field(1, ge=0, le=5)
    rasa_breaker_failures: int = Field(3, ge=1)
    rasa_breaker_reset: timedelta = timedelta(seconds=30)

    # Slack's own names (no prefix)
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")

    @field_validator("outcome_window", "outcome_idle", mode="before")
    @classmethod
    def _outcome_hours(cls, value: object) -> timedelta:
        return parse_duration(value, default_unit="h")

    @field_validator("technicians", "managers", mode="before")
    @classmethod
    def _split_emails(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [str(part).strip().lower() for part in value if str(part).strip()]
        return value

    @field_validator("nlu_cache_dir", mode="before")
    @classmethod
    def _no_cache_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("approval_ttl", mode="before")
    @classmethod
    def _duration(cls, value: object) -> timedelta:
        return parse_duration(value)

    @field_validator("jira_poll_interval", "ticket_retry_max", mode="before")
    @classmethod
    def _ticket_duration(cls, value: object) -> timedelta:
        return parse_duration(value, default_unit="s")

    @field_validator("dashboard_token", "metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < MIN_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_TOKEN_CHARS} characters (it guards the desk from the network)")
        return value

    @field_validator("jira_url")
    @classmethod
    def _jira_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^\s/]+", value.strip()):
            raise ValueError(f"{value!r} is not a URL such as https://city.atlassian.net")
        return value.strip().rstrip("/")

    @property
    def ticket_backend_kind(self) -> str:
        """The ticket backend in use: ``builtin``, ``jira`` or ``jsm`` (``auto`` picks by what is configured)."""
        if self.ticket_backend != "auto":
            return self.ticket_backend
        if self.jira_url and self.jira_service_desk:
            return "jsm"
        return "jira" if self.jira_url else "builtin"

    @field_validator("rasa_breaker_reset", "lease", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> timedelta:
        return parse_duration(value, default_unit="s")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name such as America/Chicago") from None
        return value

    @field_validator("console_user", "security_email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError(f"{value!r} is not an email address")
        return value.strip().lower()

    @property
    def has_chat_credentials(self) -> bool:
        """True when a chat platform (Slack, Teams) is configured, so the console is not the default."""
        return bool(self.slack_bot_token) or self.teams_enabled

    @property
    def teams_enabled(self) -> bool:
        """True when the Teams channel should serve ``/api/messages`` (an app id, or local anonymous testing)."""
        return bool(self.teams_app_id) or self.teams_allow_anonymous

    def local_time(self, moment: datetime) -> str:
        """``moment`` as the city reads it: ``Mon 23 Nov 09:30 CST`` in ``HELPDESK_TIMEZONE``."""
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%a %d %b %H:%M %Z")

    def is_technician(self, email: str) -> bool:
        """True when ``email`` is listed in ``HELPDESK_TECHNICIANS``."""
        return email.strip().lower() in self.technicians

    def is_manager(self, email: str) -> bool:
        """True when ``email`` is listed in ``HELPDESK_MANAGERS`` (may see the dashboard and reports in chat)."""
        return email.strip().lower() in self.managers

    def link(self, path: str) -> str:
        """The address of ``path`` on this bot's server: ``HELPDESK_PUBLIC_URL``, else its host and port."""
        base = self.public_url or f"http://{self.host}:{self.port}"
        return base.rstrip("/") + path


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one clear ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            name = field if field.isupper() else f"HELPDESK_{field.upper()}"
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("bad settings: " + "; ".join(problems)) from None
