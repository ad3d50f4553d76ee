"""What a starting bot tells the person who started it: what runs, what it serves, what is not configured.

One line for the console chat (database, NLU, tickets, directory), and for
``helpdesk run`` without a terminal the addresses it serves and the chat
platforms that are not set up, so a container that only answers ``/healthz``
says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.core.settings import Settings

__all__ = ["not_configured", "running_line", "serving_line"]


def _database(url: str) -> str:
    """The database URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot read was refused at start already
        return url


def _tickets(settings: Settings) -> str:
    kind = settings.ticket_backend_kind
    if kind == "jsm":
        return f"Jira Service Management {settings.jira_url} (service desk {settings.jira_service_desk})"
    if kind == "jira":
        return f"Jira {settings.jira_url} (project {settings.jira_project})"
    return f"built-in ({settings.ticket_prefix}-n)"


_DIRECTORIES = {
    "ldap": "LDAP/AD {url}",
    "graph": "Entra ID (Microsoft Graph)",
    "assisted": "none (resets by hand)",
}


def running_line(bot: Bot) -> str:
    """``database …, NLU …, tickets …, directory …``: what this bot runs on."""
    settings = bot.settings
    nlu = bot.nlu.name if bot.nlu.name != "rasa" else f"rasa at {settings.rasa_url}"
    directory = _DIRECTORIES.get(bot.directory.name, bot.directory.name).format(url=settings.ldap_url)
    return (f"database {_database(settings.database_url)} · NLU {nlu} · tickets {_tickets(settings)}"
            f" · directory {directory}")


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
