"""What a starting bot tells the person who started it: what it serves, what is not configured.

For ``helpdesk run`` without a terminal: the addresses it serves and the chat
platforms that are not set up, so a container that only answers ``/healthz``
says why. The line of what it runs on is ``bot.services.running``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.settings import Settings

__all__ = ["not_configured", "serving_line"]


def serving_line(settings: Settings, *, slack: bool, teams: bool) -> str:
    """The routes ``helpdesk run`` serves and where."""
    routes = ["GET /healthz", "GET /metrics"]
    if settings.dashboard_token:
        routes.append("GET /dashboard")
    if slack and settings.slack_signing_secret and not settings.slack_app_token:
        routes.append("POST /slack/events")
    if teams:
        routes.append("POST /api/messages")
    if settings.jira_webhook_secret:
        routes.append("POST /jira/webhook")
    return f"serving {', '.join(routes)} on http://{settings.host}:{settings.port}"


def not_configured(settings: Settings) -> list[str]:
    """What is not set up, one line each, with the settings that would set it up."""
    missing = []
    if not settings.has_chat_credentials:
        missing.append("no chat platform is configured: set SLACK_BOT_TOKEN (Slack) or HELPDESK_TEAMS_APP_ID "
                       "(Teams); with neither, only a terminal has the console chat (`helpdesk shell`)")
    if not settings.dashboard_token:
        missing.append("the dashboard is off: set HELPDESK_DASHBOARD_TOKEN")
    return missing
