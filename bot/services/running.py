"""The one line that says what a running helpdesk runs on: database, NLU, tickets, directory.

The console chat prints it when it starts and ``helpdesk run`` logs it.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import make_url

from bot.core.parse import Parser
from bot.core.settings import Settings
from bot.integrations.directory import Directory

__all__ = ["Running", "running_line"]


class Running(Protocol):
    """What ``running_line`` reads (the running ``Bot`` is one)."""

    @property
    def settings(self) -> Settings:
        """The settings it runs with."""
        ...

    @property
    def nlu(self) -> Parser:
        """The NLU parser in use."""
        ...

    @property
    def directory(self) -> Directory:
        """The directory in use."""
        ...


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


def running_line(bot: Running) -> str:
    """``database …, NLU …, tickets …, directory …``: what this bot runs on."""
    settings = bot.settings
    nlu = bot.nlu.name if bot.nlu.name != "rasa" else f"rasa at {settings.rasa_url}"
    directory = _DIRECTORIES.get(bot.directory.name, bot.directory.name).format(url=settings.ldap_url)
    return (f"database {_database(settings.database_url)} · NLU {nlu} · tickets {_tickets(settings)}"
            f" · directory {directory}")
