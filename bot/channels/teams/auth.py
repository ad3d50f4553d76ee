"""The Teams channel's settings check and the Bot Connector credentials built from them."""

from __future__ import annotations

import ipaddress

from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization import AuthTypes

from bot.core.errors import ConfigError
from bot.core.settings import Settings

__all__ = ["auth_configuration", "check_teams_settings"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_teams_settings(settings: Settings) -> None:
    """Refuse settings that would run Teams unsafely or not at all (one-line ConfigError)."""
    if settings.teams_allow_anonymous and not _is_loopback(settings.host):
        raise ConfigError(
            f"HELPDESK_TEAMS_ALLOW_ANONYMOUS=true is for local testing only, but HELPDESK_HOST is "
            f"{settings.host!r}; listen on 127.0.0.1 or turn anonymous access off"
        )
    if settings.teams_allow_anonymous:
        return
    if not settings.teams_app_id:
        raise ConfigError("HELPDESK_TEAMS_APP_ID is not set (the bot's Microsoft App ID)")
    if not settings.teams_tenant_id:
        raise ConfigError("HELPDESK_TEAMS_TENANT_ID is not set (your Microsoft Entra tenant id)")
    if settings.teams_app_password is None and settings.teams_certificate_path is None:
        raise ConfigError("set HELPDESK_TEAMS_APP_PASSWORD or HELPDESK_TEAMS_CERTIFICATE_PATH for the Teams bot")
    if settings.teams_certificate_path is not None and not settings.teams_certificate_path.is_file():
        raise ConfigError(f"HELPDESK_TEAMS_CERTIFICATE_PATH: no file at {settings.teams_certificate_path}")


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's credentials: anonymous (local testing), a client secret, or a certificate."""
    if settings.teams_allow_anonymous and not settings.teams_app_id:
        return AgentAuthConfiguration(anonymous_allowed=True)
    password = settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
    certificate = str(settings.teams_certificate_path) if settings.teams_certificate_path else None
    return AgentAuthConfiguration(
        auth_type=AuthTypes.certificate if certificate and not password else AuthTypes.client_secret,
        client_id=settings.teams_app_id,
        tenant_id=settings.teams_tenant_id,
        client_secret=password,
        cert_pfx_file=certificate,
        anonymous_allowed=settings.teams_allow_anonymous,
    )
