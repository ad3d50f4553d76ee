"""The Jira Service Management ticket backend: requests raised for the employee as the customer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests
from jira import JIRA, JIRAError

from bot.core.errors import ConfigError
from bot.core.settings import Settings
from bot.integrations.tickets.jira import JiraBackend
from bot.store import Database

__all__ = ["ServiceDeskBackend"]


class ServiceDeskBackend(JiraBackend):
    """Requests in Jira Service Management, raised on behalf of the employee as the customer."""

    name = "Jira Service Management"
    kind = "jsm"

    def __init__(self, settings: Settings, db: Database, clock: Callable[[], datetime]) -> None:
        super().__init__(settings, db, clock)
        self.service_desk = settings.jira_service_desk or ""
        self.request_types = {k.lower(): str(v) for k, v in settings.jira_request_types.items()}

    def request_type_for(self, category: str) -> str:
        """The request type id (or name) for ``category``, else the ``default`` one."""
        return self.request_types.get(category) or self.request_types.get("default") or ""

    def _check_kind(self, client: JIRA, project: Any) -> None:
        if not self.service_desk:
            raise ConfigError("HELPDESK_JIRA_SERVICE_DESK is not set (the service desk id, e.g. 1)")
        if "default" not in self.request_types:
            raise ConfigError('HELPDESK_JIRA_REQUEST_TYPES needs a "default" request type, e.g. {"default": "10"}')
        try:
            desk = client.service_desk(self.service_desk)
            types = client.request_types(desk)
        except (requests.exceptions.RequestException, JIRAError) as exc:
            self._raise_if_down(exc)
            raise ConfigError(f"HELPDESK_JIRA_SERVICE_DESK: service desk {self.service_desk} does not exist at "
                              f"{self.url}, or the bot's account cannot see it") from None
        known = {str(t.id) for t in types} | {str(t.name).lower() for t in types}
        missing = sorted(v for v in set(self.request_types.values()) if v not in known and v.lower() not in known)
        if missing:
            raise ConfigError(f"HELPDESK_JIRA_REQUEST_TYPES: service desk {self.service_desk} has no request type "
                              f"{', '.join(missing)}")

    async def _file(self, reporter: str, category: str, fields: dict[str, Any], components: list[str]) -> str:
        """Raise a customer request for ``reporter`` with the request type of the category; returns its key."""
        request_type = self.request_type_for(category)
        data = {
            "serviceDeskId": self.service_desk,
            "requestTypeId": int(request_type) if request_type.isdigit() else request_type,
            "requestFieldValues": fields,
            "raiseOnBehalfOf": reporter.lower(),
        }
        created = await self._call("create request",
                                   lambda c: c.create_customer_request(fields=dict(data), prefetch=False))
        return str(created.raw.get("issueKey"))
