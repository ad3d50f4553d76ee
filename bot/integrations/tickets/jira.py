"""The Jira ticket backend, through the ``jira`` library (Jira Service Management builds on it in ``jsm``).

The library is blocking, so every call runs in a worker thread. A timeout, a
connection failure, a 5xx or a 429 becomes ``TicketBackendUnavailable`` (the
outbox retries later); any other refusal is an ``IntegrationError``. Error
texts are built here, never from ``str(JIRAError)``, which can carry the
request headers and so the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from jira import JIRA, JIRAError
from sqlmodel import Session, col, select

from bot.core.errors import ConfigError, IntegrationError, TicketBackendUnavailable, UserFacingError
from bot.core.settings import Settings
from bot.integrations.tickets.jira_mapping import (
    BOT_LABEL,
    DEFAULT_PRIORITIES,
    FIELDS,
    comment_author,
    comment_text,
    jql_quote,
    last_public_comment,
    parse_time,
    pick_transition,
    reporter_from_description,
    request_label,
)
from bot.integrations.tickets.links import link_ticket
from bot.integrations.tickets.port import TicketView, category_for, valid_key
from bot.store import Database, TicketLink

__all__ = ["JiraBackend", "JiraRefused"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def _first_line(text: object, limit: int = 200) -> str:
    line = str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
    return line[:limit]


def _jira_error_text(exc: JIRAError) -> str:
    """A short, secret-free description of a Jira refusal."""
    return f"HTTP {exc.status_code}" + (f": {_first_line(exc.text)}" if exc.text else "")


class JiraRefused(IntegrationError):
    """Jira answered, and said no (4xx other than 429)."""

    def __init__(self, system: str, message: str, status: int) -> None:
        self.status = status
        super().__init__(system, message)


class JiraBackend:
    """Tickets in a Jira project (Cloud with email + API token, Data Center with a personal access token)."""

    name = "Jira"
    kind = "jira"

    def __init__(self, settings: Settings, db: Database, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.url = settings.jira_url or ""
        self.project = settings.jira_project or ""
        self._client_value: JIRA | None = None
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jira")
        self.account_id: str | None = None
        self.time_zone: ZoneInfo = ZoneInfo("UTC")
        mapping = settings.jira_fields or {}
        self.priorities: dict[str, str] = dict(mapping.get("priorities", DEFAULT_PRIORITIES))
        self.system_fields: dict[str, dict[str, Any]] = dict(mapping.get("systems", {}))
        self.category_fields: dict[str, dict[str, Any]] = dict(mapping.get("categories", {}))

    # Connection --------------------------------------------------------------

    def _connect(self) -> JIRA:
        settings = self.settings
        auth: dict[str, Any] = {}
        if settings.jira_pat is not None:
            auth["token_auth"] = settings.jira_pat.get_secret_value()
        elif settings.jira_email and settings.jira_api_token is not None:
            auth["basic_auth"] = (settings.jira_email, settings.jira_api_token.get_secret_value())
        client = JIRA(
            server=self.url,
            options={"check_update": False, "rest_api_version": "2"},
            timeout=settings.jira_timeout,
            max_retries=0,
            get_server_info=True,
            logging=False,
            **auth,
        )
        client._session.trust_env = False  # no proxy from the environment: talk to HELPDESK_JIRA_URL directly
        return client

    def _client(self) -> JIRA:
        if self._client_value is None:
            self._client_value = self._connect()
        return self._client_value

    async def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking library call in a thread, with our error kinds."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, partial(self._on_client, fn, *args, **kwargs))
        except requests.exceptions.Timeout:
            raise TicketBackendUnavailable(self.name, f"{what}: no answer within {self.settings.jira_timeout:g} s") \
                from None
        except requests.exceptions.ConnectionError:
            raise TicketBackendUnavailable(self.name, f"{what}: cannot connect to {self.url}") from None
        except JIRAError as exc:
            if exc.status_code is not None and (exc.status_code == 429 or exc.status_code >= 500):
                raise TicketBackendUnavailable(self.name, f"{what}: {_jira_error_text(exc)}") from None
            raise JiraRefused(self.name, f"{what}: {_jira_error_text(exc)}", exc.status_code or 0) from None

    def _on_client(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(self._client(), *args, **kwargs)

    def check(self) -> None:
        """serverInfo, myself and the project (and the issue type): one clear ConfigError line on any problem."""
        settings = self.settings
        if not self.url:
            raise ConfigError("HELPDESK_JIRA_URL is not set")
        if not self.project:
            raise ConfigError("HELPDESK_JIRA_PROJECT is not set (the project key, e.g. HD)")
        if settings.jira_pat is None and not (settings.jira_email and settings.jira_api_token is not None):
            raise ConfigError("Jira credentials are missing: set HELPDESK_JIRA_EMAIL and HELPDESK_JIRA_API_TOKEN "
                              "(Cloud) or HELPDESK_JIRA_PAT (Data Center)")
        credential = "HELPDESK_JIRA_PAT" if settings.jira_pat is not None else "HELPDESK_JIRA_API_TOKEN"
        try:
            client = self._client()
        except (requests.exceptions.RequestException, JIRAError, ValueError, KeyError, TypeError) as exc:
            self._raise_if_down(exc)
            status = getattr(exc, "status_code", None)
            if status in (401, 403):
                raise ConfigError(f"{credential}: Jira at {self.url} refused the credentials (HTTP {status})") \
                    from None
            reason = f"HTTP {status}" if status else type(exc).__name__
            raise ConfigError(f"HELPDESK_JIRA_URL: {self.url} does not answer as a Jira server ({reason})") from None
        try:
            me = client.myself()
        except (requests.exceptions.RequestException, JIRAError) as exc:
            self._raise_if_down(exc)
            status = getattr(exc, "status_code", None) or type(exc).__name__
            raise ConfigError(f"{credential}: Jira at {self.url} refused the credentials (HTTP {status})") from None
        self.account_id = me.get("accountId") or me.get("name")
        try:
            self.time_zone = ZoneInfo(me.get("timeZone") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.time_zone = ZoneInfo("UTC")
        try:
            project = client.project(self.project)
        except (requests.exceptions.RequestException, JIRAError) as exc:
            self._raise_if_down(exc)
            raise ConfigError(f"HELPDESK_JIRA_PROJECT: project {self.project} does not exist at {self.url}, "
                              "or the bot's account cannot see it") from None
        self._check_kind(client, project)

    def _raise_if_down(self, exc: Exception) -> None:
        """``TicketBackendUnavailable`` when ``exc`` says Jira is not answering (no connection, a timeout,
        a 5xx or a 429): the bot starts anyway and the outbox keeps the requests until it is back."""
        self._client_value = None  # connect afresh next time
        if isinstance(exc, requests.exceptions.Timeout):
            reason = f"no answer within {self.settings.jira_timeout:g} s"
        elif isinstance(exc, requests.exceptions.ConnectionError):
            reason = "cannot connect"
        else:
            status = getattr(exc, "status_code", None)
            if status is None or (status != 429 and status < 500):
                return
            reason = f"HTTP {status}"
        raise TicketBackendUnavailable(self.name, f"{self.url} is not answering ({reason})") from None

    def _check_kind(self, client: JIRA, project: Any) -> None:
        types = [t.name for t in getattr(project, "issueTypes", []) or []]
        wanted = self.settings.jira_issue_type
        if types and wanted.lower() not in (t.lower() for t in types):
            raise ConfigError(f"HELPDESK_JIRA_ISSUE_TYPE: project {self.project} has no issue type {wanted!r} "
                              f"(it has {', '.join(types)})")

    def close(self) -> None:
        """Stop the worker threads and close the HTTP session."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._client_value is not None:
            self._client_value.close()  # type: ignore[no-untyped-call]

    # Creating ----------------------------------------------------------------

    def _labels_and_fields(self, system: str, category: str) -> tuple[list[str], list[str], dict[str, Any]]:
        labels: list[str] = []
        components: list[str] = []
        custom: dict[str, Any] = {}
        for mapping in (self.category_fields.get(category, {}), self.system_fields.get(system, {})):
            labels += [str(label) for label in mapping.get("labels", [])]
            components += [str(name) for name in mapping.get("components", [])]
            custom.update(mapping.get("fields", {}))
        return labels, components, custom

    def _fields(self, reporter: str, summary: str, description: str, system: str, urgency: str, category: str,
                request_id: str | None) -> tuple[dict[str, Any], list[str]]:
        """The fields every new ticket gets (summary, description, labels, priority, mapped custom fields),
        and the components the mapping names."""
        labels, components, custom = self._labels_and_fields(system, category)
        labels = [BOT_LABEL] + ([request_label(request_id)] if request_id else []) + labels
        fields: dict[str, Any] = {
            "summary": summary,
            "description": self._description(reporter, description or summary, system),
            "labels": list(dict.fromkeys(labels)),
            **custom,
        }
        if urgency in self.priorities:
            fields["priority"] = {"name": self.priorities[urgency]}
        return fields, components

    def _description(self, reporter: str, description: str, system: str) -> str:
        about = f" about {system}" if system else ""
        return f"{description.strip()}\n\n----\nReported{about} by {reporter} through the IT helpdesk bot."

    async def create(
        self,
        *,
        reporter: str,
        summary: str,
        description: str = "",
        system: str = "",
        urgency: str = "normal",
        category: str = "",
        request_id: str | None = None,
    ) -> TicketView:
        """File the ticket (labelled for the bot and for ``request_id``) and record it as the bot's."""
        category = category_for(system, category)
        summary = " ".join(summary.split())[:255] or "(no summary)"
        fields, components = self._fields(reporter, summary, description, system, urgency, category, request_id)
        key = await self._file(reporter, category, fields, components)
        return await self._remember(key, reporter, summary, description, system, urgency, category, request_id)

    async def _file(self, reporter: str, category: str, fields: dict[str, Any], components: list[str]) -> str:
        """Create the issue in the project; returns its key."""
        fields.update(project={"key": self.project}, issuetype={"name": self.settings.jira_issue_type})
        if components:
            fields["components"] = [{"name": name} for name in components]
        created = await self._call("create issue", lambda c: c.create_issue(fields=fields, prefetch=False))
        return str(created.key)

    async def _remember(self, key: str, reporter: str, summary: str, description: str, system: str, urgency: str,
                        category: str, request_id: str | None) -> TicketView:
        """Record the new issue as the bot's, with the status it starts in (so the first change is news)."""
        now = self.clock()
        await self.db.run(lambda s: link_ticket(s, key=key, backend=self.kind, reporter=reporter, system=system,
                                                status="", request_id=request_id, now=now))
        try:
            view = await self.get(key)
        except IntegrationError:
            view = None  # created all the same; the watcher records the status on its first look
        if view is None:
            return TicketView(key=key, summary=summary, status="open", reporter=reporter.lower(),
                              description=description, system=system, urgency=urgency, url=self.link(key),
                              updated_at=now, category=category, done=False)
        await self.db.run(lambda s: _set_status(s, key, view.status, view.last_comment_id))
        return view

    async def find_by_request(self, request_id: str) -> TicketView | None:
        """The issue filed for ``request_id``: from our record, else by its label in Jira (a lost answer)."""
        known = await self.db.run(lambda s: s.exec(select(TicketLink.key).where(TicketLink.request_id == request_id))
                                  .first())
        if known is not None:
            return await self.get(known)
        found = await self._search(f"labels = {jql_quote(request_label(request_id))}", limit=1)
        if not found:
            return None
        issue = found[0]
        view = await self._view(issue)
        link = await self.db.run(lambda s: s.exec(select(TicketLink).where(TicketLink.key == view.key)).first())
        if link is None:
            reporter = reporter_from_description(view.description) or view.reporter
            now = self.clock()
            await self.db.run(lambda s: link_ticket(s, key=view.key, backend=self.kind, reporter=reporter,
                                                    system=view.system, status=view.status,
                                                    request_id=request_id, now=now))
            view = await self._view(issue)
        return view

    # Reading -----------------------------------------------------------------

    def link(self, key: str) -> str:
        """The browser link of ``key``."""
        return f"{self.url}/browse/{key}"

    async def _search(self, jql: str, limit: int = 50) -> list[dict[str, Any]]:
        result = await self._call(
            "search", lambda c: c.search_issues(jql, maxResults=limit, fields=FIELDS, json_result=True)
        )
        return list(result.get("issues", []))

    async def get(self, key: str) -> TicketView | None:
        """One issue by key, or None when it does not exist (or the bot cannot see it)."""
        checked = valid_key(key)
        if checked is None:
            return None
        try:
            issue = await self._call("get issue", lambda c: c.issue(checked, fields=FIELDS).raw)
        except JiraRefused as exc:
            if exc.status in (403, 404):
                return None
            raise
        return await self._view(issue)

    async def _keys_for(self, reporter: str, system: str | None = None) -> list[str]:
        def keys(session: Session) -> list[str]:
            query = select(TicketLink.key).where(TicketLink.reporter == reporter.lower(),
                                                 TicketLink.backend == self.kind)
            if system is not None:
                query = query.where(TicketLink.system == system)
            return list(session.exec(query.order_by(col(TicketLink.id).desc()).limit(100)).all())

        return await self.db.run(keys)

    async def list_for(self, reporter: str, *, open_only: bool = True) -> list[TicketView]:
        """The reporter's issues that the bot opened, newest first (in JSM also the ones they raised themselves).

        An employee the bot never filed for may have no Jira user at all, and
        JQL refuses a reporter it does not know, so they get an empty list
        without asking Jira.
        """
        keys = await self._keys_for(reporter)
        if not keys:
            return []
        mine = f"key in ({', '.join(keys)})"
        if self.kind == "jsm":  # the customer is the reporter
            mine = f"({mine} OR reporter = {jql_quote(reporter.lower())})"
        jql = f"project = {jql_quote(self.project)} AND {mine}"
        if open_only:
            jql += " AND statusCategory != Done"
        return [await self._view(issue) for issue in await self._search(jql + " ORDER BY created DESC")]

    async def list_open(self) -> list[TicketView]:
        """Every open issue the bot filed, oldest first."""
        jql = (f"project = {jql_quote(self.project)} AND labels = {jql_quote(BOT_LABEL)} "
               "AND statusCategory != Done ORDER BY created ASC")
        return [await self._view(issue) for issue in await self._search(jql)]

    async def find_open(self, reporter: str, system: str) -> TicketView | None:
        """The newest open issue the bot opened for ``reporter`` about ``system``."""
        if not system:
            return None
        keys = await self._keys_for(reporter, system)
        if not keys:
            return None
        jql = f"key in ({', '.join(keys)}) AND statusCategory != Done ORDER BY created DESC"
        found = await self._search(jql, limit=1)
        return await self._view(found[0]) if found else None

    async def updated_since(self, since: datetime, limit: int = 100) -> list[TicketView]:
        """The bot's issues updated at or after ``since``, oldest change first (minute precision, in the bot
        account's time zone)."""
        moment = since.astimezone(self.time_zone).strftime("%Y/%m/%d %H:%M")
        jql = (f"project = {jql_quote(self.project)} AND labels = {jql_quote(BOT_LABEL)} "
               f"AND updated >= {jql_quote(moment)} ORDER BY updated ASC")
        return [await self._view(issue) for issue in await self._search(jql, limit=limit)]

    async def _view(self, issue: dict[str, Any]) -> TicketView:
        key = str(issue.get("key", ""))
        fields = issue.get("fields") or {}
        link = await self.db.run(lambda s: s.exec(select(TicketLink).where(TicketLink.key == key)).first())
        status = fields.get("status") or {}
        category = (status.get("statusCategory") or {}).get("key")
        reporter = link.reporter if link else ((fields.get("reporter") or {}).get("emailAddress") or "").lower()
        assignee = fields.get("assignee") or {}
        comment = last_public_comment(fields.get("comment") or {})
        priority = (fields.get("priority") or {}).get("name")
        urgency = next((u for u, name in self.priorities.items() if name == priority), "normal")
        system = link.system if link else ""
        return TicketView(
            key=key, summary=str(fields.get("summary") or ""), status=str(status.get("name") or "unknown"),
            reporter=reporter, description=str(fields.get("description") or ""), system=system,
            urgency=urgency, assignee=assignee.get("emailAddress") or assignee.get("displayName") or None,
            last_comment=comment_text(comment) if comment else None, url=self.link(key),
            updated_at=parse_time(fields.get("updated")), category=category_for(system),
            last_comment_id=str(comment["id"]) if comment else None,
            last_comment_by=comment_author(comment) if comment else None,
            done=(category == "done") if category else None,
        )

    # Changing ----------------------------------------------------------------

    async def comment(self, key: str, author: str, body: str) -> TicketView:
        """Add a public comment, written by the bot's account on behalf of ``author``."""
        checked = valid_key(key)
        if checked is None or await self.get(checked) is None:
            raise UserFacingError(f"I can't find a ticket called {key}.")
        text = f"{author} wrote (through the helpdesk bot):\n{body}"
        await self._call("add comment", lambda c: c.add_comment(checked, text))
        view = await self.get(checked)
        assert view is not None
        return view

    async def update(self, key: str, *, status: str | None = None, assignee: str | None = None) -> TicketView:
        """Move the issue through the workflow toward ``status``, and/or assign it to ``assignee``."""
        checked = valid_key(key)
        if checked is None or await self.get(checked) is None:
            raise UserFacingError(f"I can't find a ticket called {key}.")
        if assignee is not None:
            try:
                await self._call("assign", lambda c: c.assign_issue(checked, assignee))
            except IntegrationError as exc:
                raise UserFacingError(f"Jira would not assign {checked} to {assignee}: there may be no Jira "
                                      "user with that email.") from exc
        if status is not None:
            transitions = await self._call("transitions", lambda c: c.transitions(checked))
            chosen = pick_transition(transitions, status)
            if chosen is None:
                names = ", ".join(str(t.get("name")) for t in transitions) or "none"
                raise UserFacingError(f"Jira has no step from here to {status!r} for {checked} "
                                      f"(the steps it offers: {names}).")
            await self._call("transition", lambda c: c.transition_issue(checked, str(chosen)))
        view = await self.get(checked)
        assert view is not None
        return view


def _set_status(session: Session, key: str, status: str, last_comment_id: str | None) -> None:
    link = session.exec(select(TicketLink).where(TicketLink.key == key)).first()
    if link is not None and not link.status:
        link.status, link.last_comment_id = status, last_comment_id
        session.add(link)
