"""A fake Jira (Cloud or Data Center) with Jira Service Management, on 127.0.0.1 and a random port.

It speaks the REST endpoints that the ``jira`` library calls, with JSON shaped
like Jira's, and checks every request (path, method, body) and every response
it sends against the OpenAPI specs in ``tests/fakes/specs/jira``. What does not fit
is collected in ``violations``; the test fixture fails the test on any.

It can be told to fail: ``fail_next(503, times=2)``, ``hang_seconds = 2``
(slower than the client's timeout), or ``lose_create_answer = True`` (the
issue is created, then the answer is lost, as when the bot crashes between
"created in Jira" and "recorded here"). Searches run a small but real JQL
evaluator, so an injection that escaping failed to stop would really match.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.openapi_check import jira_specs

__all__ = ["JiraFake", "JqlError", "jira_settings", "jql_filter"]

STATUSES = {
    "To Do": {"id": "10000", "key": "new", "name": "To Do", "colorName": "blue-gray"},
    "In Progress": {"id": "10001", "key": "indeterminate", "name": "In Progress", "colorName": "yellow"},
    "Done": {"id": "10002", "key": "done", "name": "Done", "colorName": "green"},
}
TRANSITIONS = [("11", "Start progress", "In Progress"), ("21", "Resolve", "Done"), ("31", "Reopen", "To Do")]
PRIORITIES = ("Lowest", "Low", "Medium", "High", "Highest")


class JqlError(ValueError):
    """A JQL query the fake cannot parse (Jira answers 400)."""


# JQL ---------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(!=|>=|<=|~|=|>|<|\(|\)|,)|([A-Za-z0-9_.@/:+\-]+))')


def _tokens(jql: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(jql):
        if jql[position:].strip() == "":
            break
        match = _TOKEN.match(jql, position)
        if not match:
            raise JqlError(f"Error in the JQL Query: unexpected character at position {position}")
        quoted, op, word = match.groups()
        if quoted is not None:
            out.append(("str", re.sub(r"\\(.)", r"\1", quoted)))
        elif op is not None:
            out.append(("op", op))
        else:
            out.append(("word", word))
        position = match.end()
    return out


def _every_issue(issue: dict[str, Any]) -> bool:
    """The predicate of a query with no condition."""
    return True


class _Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = _tokens(jql)
        self.at = 0

    def peek(self, value: str | None = None) -> bool:
        if self.at >= len(self.tokens):
            return False
        kind, text = self.tokens[self.at]
        return value is None or (kind in ("word", "op") and text.lower() == value.lower())

    def take(self, value: str | None = None) -> str:
        if self.at >= len(self.tokens) or (value is not None and not self.peek(value)):
            raise JqlError(f"Error in the JQL Query: expected {value or 'more'} at token {self.at}")
        self.at += 1
        return self.tokens[self.at - 1][1]

    def parse(self) -> tuple[Callable[[dict[str, Any]], bool], list[tuple[str, bool]]]:
        predicate: Callable[[dict[str, Any]], bool] = _every_issue
        if not self.peek("order"):
            predicate = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.peek("order"):
            self.take("order")
            self.take("by")
            while True:
                field = self.take().lower()
                descending = False
                if self.peek("desc") or self.peek("asc"):
                    descending = self.take().lower() == "desc"
                order.append((field, descending))
                if not self.peek(","):
                    break
                self.take(",")
        if self.at != len(self.tokens):
            raise JqlError(f"Error in the JQL Query: unexpected {self.tokens[self.at][1]!r}")
        return predicate, order

    def or_expr(self) -> Callable[[dict[str, Any]], bool]:
        parts = [self.and_expr()]
        while self.peek("or"):
            self.take()
            parts.append(self.and_expr())
        return lambda issue: any(p(issue) for p in parts)

    def and_expr(self) -> Callable[[dict[str, Any]], bool]:
        parts = [self.unary()]
        while self.peek("and"):
            self.take()
            parts.append(self.unary())
        return lambda issue: all(p(issue) for p in parts)

    def unary(self) -> Callable[[dict[str, Any]], bool]:
        if self.peek("not"):
            self.take()
            inner = self.unary()
            return lambda issue: not inner(issue)
        if self.peek("("):
            self.take("(")
            inner = self.or_expr()
            self.take(")")
            return inner
        return self.clause()

    def value(self) -> str:
        if self.at >= len(self.tokens) or self.tokens[self.at][0] == "op":
            raise JqlError(f"Error in the JQL Query: expected a value at token {self.at}")
        return self.take()

    def clause(self) -> Callable[[dict[str, Any]], bool]:
        if self.at >= len(self.tokens) or self.tokens[self.at][0] != "word":
            raise JqlError(f"Error in the JQL Query: expected a field at token {self.at}")
        field = self.take().lower()
        if self.peek("is"):
            self.take()
            negate = self.peek("not") and bool(self.take())
            self.take("empty")
            return lambda issue: (len(_values(issue, field)) == 0) != negate
        if self.peek("not") or self.peek("in"):
            negate = self.peek("not") and bool(self.take())
            self.take("in")
            self.take("(")
            items = [self.value()]
            while self.peek(","):
                self.take()
                items.append(self.value())
            self.take(")")
            wanted = {i.lower() for i in items}
            return lambda issue: bool(wanted & {v.lower() for v in _values(issue, field)}) != negate
        op = self.take()
        if op not in ("=", "!=", ">=", "<=", ">", "<", "~"):
            raise JqlError(f"Error in the JQL Query: unknown operator {op!r}")
        value = self.value()
        if field in ("updated", "created"):
            moment = _jql_time(value)
            compare = {">=": lambda a: a >= moment, "<=": lambda a: a <= moment, ">": lambda a: a > moment,
                       "<": lambda a: a < moment, "=": lambda a: a == moment, "!=": lambda a: a != moment}[op]
            return lambda issue: compare(_time(issue["fields"][field]))
        if op == "~":
            return lambda issue: any(value.lower() in v.lower() for v in _values(issue, field))
        if op in ("=", "!="):
            equal = op == "="
            return lambda issue: (value.lower() in {v.lower() for v in _values(issue, field)}) == equal
        raise JqlError(f"Error in the JQL Query: operator {op} does not work with field {field}")


def _values(issue: dict[str, Any], field: str) -> list[str]:
    fields = issue["fields"]
    if field in ("key", "issue", "issuekey"):
        return [issue["key"]]
    if field == "project":
        return [fields["project"]["key"], fields["project"]["name"]]
    if field == "labels":
        return list(fields.get("labels") or [])
    if field in ("reporter", "assignee"):
        user = fields.get(field) or {}
        return [v for v in (user.get("emailAddress"), user.get("accountId"), user.get("displayName")) if v]
    if field == "status":
        return [fields["status"]["name"]]
    if field == "statuscategory":
        category = fields["status"]["statusCategory"]
        return [category["key"], category["name"]]
    if field in ("summary", "description"):
        return [fields.get(field) or ""]
    if field == "text":
        return [fields.get("summary") or "", fields.get("description") or ""]
    if field == "component":
        return [c["name"] for c in fields.get("components") or []]
    raise JqlError(f"Field '{field}' does not exist or you do not have permission to view it.")


def _jql_time(value: str) -> datetime:
    for form in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise JqlError(f"Date value '{value}' for field is invalid.")


def _time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").replace(second=0, microsecond=0)


def jql_filter(jql: str, issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issues that ``jql`` selects, in its ORDER BY order."""
    predicate, order = _Parser(jql).parse()
    found = [issue for issue in issues if predicate(issue)]
    for field, descending in reversed(order):
        found.sort(key=lambda i, f=field: int(i["id"]) if f in ("created", "key") else i["fields"].get(f) or "",
                   reverse=descending)
    return found


# The server ----------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class JiraFake:
    """The fake's state and its HTTP server. ``start()`` and ``stop()``; ``url`` once started."""

    def __init__(self, *, clock: Callable[[], datetime], deployment: str = "Cloud", project: str = "HD",
                 email: str = "helpdesk-bot@city.example", token: str = "tok-secret-123",
                 check_specs: bool = True) -> None:
        self.clock = clock
        self.check_specs = check_specs
        self.deployment = deployment
        self.project = {"id": "10000", "key": project, "name": "City IT Helpdesk"}
        self.email = email
        self.token = token
        self.bot_user = {"self": "/rest/api/2/user?accountId=5b10ac8d82e05b22cc7d4ef5",
                         "accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": email,
                         "displayName": "Helpdesk Bot", "active": True, "timeZone": "UTC", "accountType": "atlassian"}
        self.users = [self.bot_user] + [
            {"self": f"/rest/api/2/user?accountId=acc-{name}", "accountId": f"acc-{name}",
             "emailAddress": f"{name}@city.example", "displayName": name.title(),
             "active": True, "timeZone": "UTC", "accountType": "atlassian"}
            for name in ("tom", "tia", "ann", "bob")
        ]
        if deployment != "Cloud":  # Data Center users have a user name and key as well
            for user in self.users:
                user.update(name=user["emailAddress"].split("@")[0], key=f"JIRAUSER{10000 + len(user['accountId'])}")
        self.issues: dict[str, dict[str, Any]] = {}
        self.next_id = 10001
        self.next_comment = 100
        self.calls: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.failures: list[int] = []
        self.hang_seconds = 0.0
        self.lose_create_answer = False
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # Control -------------------------------------------------------------------

    def start(self, port: int = 0) -> JiraFake:
        """Serve on 127.0.0.1 on ``port`` (a free one by default), in a thread (the specs are read first)."""
        fake = self
        if self.check_specs:
            jira_specs()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PUT(self) -> None:
                fake._handle(self, "PUT")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="jira-fake", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` (503, 429, 500 ...)."""
        self.failures += [status] * times

    def add_issue(self, summary: str, *, reporter: str = "bob@city.example", labels: tuple[str, ...] = (),
                  status: str = "To Do") -> str:
        """An issue made in Jira directly (not through the bot); returns its key."""
        with self.lock:
            issue = self._new_issue({"summary": summary, "description": "", "labels": list(labels)},
                                    self._user(reporter))
            issue["fields"]["status"] = self._status(status)
        return issue["key"]

    def comment_as(self, key: str, email: str, body: str, *, public: bool = True) -> None:
        """A person comments on ``key`` in Jira."""
        with self.lock:
            self._add_comment(self.issues[key], body, self._user(email), public)

    def move(self, key: str, status: str) -> None:
        """A person moves ``key`` to ``status`` in Jira."""
        with self.lock:
            self.issues[key]["fields"]["status"] = self._status(status)
            self.issues[key]["fields"]["updated"] = _stamp(self.clock())

    def webhook_event(self, key: str, event: str = "jira:issue_updated") -> dict[str, Any]:
        """The body Jira posts to a webhook for ``key``."""
        issue = self.issues[key]
        return {"timestamp": int(self.clock().timestamp() * 1000), "webhookEvent": event,
                "issue_event_type_name": "issue_generic", "user": self.bot_user,
                "issue": {"id": issue["id"], "key": key, "self": issue["self"], "fields": issue["fields"]},
                "changelog": {"id": "1", "items": []}}

    # Model ---------------------------------------------------------------------

    def _user(self, email: str) -> dict[str, Any]:
        found = next((u for u in self.users if u["emailAddress"] == email), None)
        if found is None:
            found = {"self": f"/rest/api/2/user?accountId=qm:{email}", "accountId": f"qm:{email}",
                     "emailAddress": email, "displayName": email.split("@")[0], "active": True,
                     "timeZone": "UTC", "accountType": "customer"}
            self.users.append(found)
        return found

    def _status(self, name: str) -> dict[str, Any]:
        status = STATUSES[name]
        return {"self": f"{self.url}/rest/api/2/status/{status['id']}", "id": status["id"], "name": name,
                "description": "", "statusCategory": {"id": 2, "key": status["key"], "name": name,
                                                      "colorName": status["colorName"]}}

    def _new_issue(self, fields: dict[str, Any], reporter: dict[str, Any]) -> dict[str, Any]:
        number = len(self.issues) + 1
        key = f"{self.project['key']}-{number}"
        issue_id = str(self.next_id)
        self.next_id += 1
        now = _stamp(self.clock())
        issue = {
            "id": issue_id, "key": key, "self": f"{self.url}/rest/api/2/issue/{issue_id}", "expand": "",
            "fields": {
                "summary": fields.get("summary", ""), "description": fields.get("description", ""),
                "labels": list(fields.get("labels") or []),
                "components": [{"name": c["name"], "id": "1"} for c in fields.get("components") or []],
                "priority": {"name": (fields.get("priority") or {}).get("name", "Medium"), "id": "3"},
                "project": self.project, "issuetype": {"id": "10002", "name": "Task"},
                "status": self._status("To Do"), "reporter": reporter, "assignee": None,
                "created": now, "updated": now, "comment": {"comments": [], "maxResults": 0, "total": 0,
                                                            "startAt": 0},
            },
        }
        self.issues[key] = issue
        return issue

    def _add_comment(self, issue: dict[str, Any], body: str, author: dict[str, Any], public: bool) -> dict[str, Any]:
        self.next_comment += 1
        now = _stamp(self.clock())
        comment: dict[str, Any] = {"id": str(self.next_comment), "body": body, "author": author,
                                   "updateAuthor": author, "created": now, "updated": now,
                                   "self": f"{issue['self']}/comment/{self.next_comment}", "jsdPublic": public}
        block = issue["fields"]["comment"]
        block["comments"].append(comment)
        block["total"] = block["maxResults"] = len(block["comments"])
        issue["fields"]["updated"] = now
        return comment

    # HTTP ----------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        # The library reaches a few resources (assignee) through /rest/api/latest, which Jira serves as v2.
        path = unquote(parts.path).replace("/rest/api/latest/", "/rest/api/2/", 1)
        query = {k: v for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.calls.append((method, path))
        if self.check_specs:
            self.violations += jira_specs().request(method, path, body)
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            self._send(handler, method, path, failure, {"errorMessages": ["Service Unavailable"], "errors": {}})
            return
        if not self._authorised(handler.headers.get("Authorization", "")):
            self._send(handler, method, path, 401, None, text="Client must be authenticated to access this resource.")
            return
        try:
            data = json.loads(body) if body else None
            with self.lock:
                status, answer = self._route(method, path, query, data)
        except JqlError as exc:
            status, answer = 400, {"errorMessages": [str(exc)], "errors": {}}
        except _Refusal as exc:
            status, answer = exc.status, {"errorMessages": [exc.message], "errors": exc.errors}
            if path.startswith("/rest/servicedeskapi/"):  # the service desk API has its own error shape
                answer = {"errorMessage": exc.message or "; ".join(exc.errors.values())}
        if self.lose_create_answer and method == "POST" and path.endswith(("/issue", "/request")) and status == 201:
            self.lose_create_answer = False
            self._send(handler, method, path, 504, {"errorMessages": ["Gateway Timeout"], "errors": {}})
            return
        self._send(handler, method, path, status, answer)

    def _authorised(self, header: str) -> bool:
        if header.startswith("Bearer "):
            return header.removeprefix("Bearer ") == self.token
        if header.startswith("Basic "):
            return base64.b64decode(header.removeprefix("Basic ")).decode() == f"{self.email}:{self.token}"
        return False

    def _send(self, handler: BaseHTTPRequestHandler, method: str, path: str, status: int, answer: Any,
              text: str | None = None) -> None:
        if self.check_specs:
            self.violations += jira_specs().response(method, path, status, answer)
        payload = (json.dumps(answer) if answer is not None else (text or "")).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json;charset=UTF-8" if answer is not None else "text/plain")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _route(self, method: str, path: str, query: dict[str, list[str]], data: Any) -> tuple[int, Any]:
        api = "/rest/api/2/"
        if path.startswith("/rest/servicedeskapi/"):
            return self._service_desk(method, path.removeprefix("/rest/servicedeskapi/"), data)
        if not path.startswith(api):
            raise _Refusal(404, f"No such resource: {path}")
        route = path.removeprefix(api)
        if route == "serverInfo":
            return 200, {"baseUrl": self.url,
                         "version": "1001.0.0-SNAPSHOT" if self.deployment == "Cloud" else "9.12.2",
                         "versionNumbers": [1001, 0, 0] if self.deployment == "Cloud" else [9, 12, 2],
                         "deploymentType": self.deployment, "buildNumber": 100267,
                         "buildDate": "2026-11-20T00:00:00.000+0000", "serverTime": _stamp(self.clock()),
                         "scmInfo": "0d4bd7da2d6a6d3b5f7bd6a0a2e35e8e2d6f5e3a", "serverTitle": "City IT Jira"}
        if route == "myself":
            return 200, self.bot_user
        if route == "field":
            return 200, [
                {"id": "summary", "key": "summary", "name": "Summary", "custom": False, "navigable": True,
                 "searchable": True, "orderable": True, "clauseNames": ["summary"],
                 "schema": {"type": "string", "system": "summary"}},
                {"id": "labels", "key": "labels", "name": "Labels", "custom": False, "navigable": True,
                 "searchable": True, "orderable": True, "clauseNames": ["labels"],
                 "schema": {"type": "array", "items": "string", "system": "labels"}},
                {"id": "customfield_10050", "key": "customfield_10050", "name": "Building", "custom": True,
                 "navigable": True, "searchable": True, "orderable": True,
                 "clauseNames": ["cf[10050]", "Building"], "schema": {"type": "string", "customId": 10050}},
            ]
        if route == f"project/{self.project['key']}" or route == f"project/{self.project['id']}":
            return 200, {**self.project, "self": f"{self.url}/rest/api/2/project/{self.project['id']}",
                         "projectTypeKey": "service_desk", "simplified": False, "style": "classic",
                         "issueTypes": [{"id": "10002", "name": "Task", "subtask": False},
                                        {"id": "10004", "name": "Bug", "subtask": False}]}
        if route.startswith("project/"):
            raise _Refusal(404, "No project could be found with key '" + route.split("/")[1] + "'.")
        if route == "issue/createmeta":
            return 200, {"projects": [{**self.project, "issuetypes": [{"id": "10002", "name": "Task",
                                                                         "subtask": False}]}]}
        if route == "issue" and method == "POST":
            return self._create(data)
        if route == "user/search":
            wanted = (query.get("query") or query.get("username") or [""])[0].lower()
            return 200, [u for u in self.users if wanted and wanted in u["emailAddress"].lower()]
        if route in ("search/jql", "search"):
            jql = (query.get("jql") or [""])[0]
            limit = int((query.get("maxResults") or ["50"])[0])
            found = jql_filter(jql, list(self.issues.values()))[:limit]
            if route == "search/jql":
                return 200, {"issues": found}
            return 200, {"startAt": 0, "maxResults": limit, "total": len(found), "issues": found}
        match = re.fullmatch(r"issue/([^/]+)(?:/(comment|transitions|assignee))?", route)
        if match:
            issue = self.issues.get(match.group(1).upper()) or next(
                (i for i in self.issues.values() if i["id"] == match.group(1)), None)
            if issue is None:
                raise _Refusal(404, "Issue does not exist or you do not have permission to see it.")
            return self._issue(method, issue, match.group(2), data)
        raise _Refusal(404, f"No such resource: {path}")

    def _create(self, data: dict[str, Any]) -> tuple[int, Any]:
        fields = data.get("fields") or {}
        errors: dict[str, str] = {}
        if (fields.get("project") or {}).get("key") != self.project["key"] and \
                (fields.get("project") or {}).get("id") != self.project["id"]:
            errors["project"] = "valid project is required"
        if (fields.get("issuetype") or {}).get("name") not in ("Task", "Bug"):
            errors["issuetype"] = "valid issue type is required"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if any(" " in label for label in fields.get("labels") or []):
            errors["labels"] = "The label can't contain spaces."
        if fields.get("priority") and fields["priority"].get("name") not in PRIORITIES:
            errors["priority"] = "The priority selected is invalid."
        if errors:
            raise _Refusal(400, "", errors)
        issue = self._new_issue(fields, self.bot_user)
        return 201, {"id": issue["id"], "key": issue["key"], "self": issue["self"]}

    def _issue(self, method: str, issue: dict[str, Any], sub: str | None, data: Any) -> tuple[int, Any]:
        if sub is None and method == "GET":
            return 200, issue
        if sub == "comment" and method == "GET":
            comments = issue["fields"]["comment"]["comments"]
            return 200, {"comments": comments, "maxResults": len(comments), "startAt": 0, "total": len(comments)}
        if sub == "comment" and method == "POST":
            internal = any(p.get("key") == "sd.public.comment" and p.get("value", {}).get("internal")
                           for p in data.get("properties") or [])
            return 201, self._add_comment(issue, data["body"], self.bot_user, not internal)
        if sub == "transitions" and method == "GET":
            current = issue["fields"]["status"]["name"]
            return 200, {"expand": "transitions", "transitions": [
                {"id": tid, "name": name, "to": self._status(to), "hasScreen": False, "isGlobal": True,
                 "isInitial": False, "isAvailable": True, "isConditional": False, "isLooped": False}
                for tid, name, to in TRANSITIONS if to != current]}
        if sub == "transitions" and method == "POST":
            wanted = str((data.get("transition") or {}).get("id"))
            target = next((to for tid, _, to in TRANSITIONS if tid == wanted), None)
            if target is None:
                raise _Refusal(400, f"Transition id '{wanted}' is not valid for this issue.")
            issue["fields"]["status"] = self._status(target)
            issue["fields"]["updated"] = _stamp(self.clock())
            return 204, None
        if sub == "assignee" and method == "PUT":
            user = next((u for u in self.users if (data.get("accountId") and u["accountId"] == data["accountId"])
                         or (data.get("name") and u.get("name") == data["name"])), None)
            if user is None:
                raise _Refusal(400, "User does not exist or cannot be assigned.")
            issue["fields"]["assignee"] = user
            issue["fields"]["updated"] = _stamp(self.clock())
            return 204, None
        raise _Refusal(405, "Method not allowed")

    def _service_desk(self, method: str, route: str, data: Any) -> tuple[int, Any]:
        desk = {"id": "1", "projectId": self.project["id"], "projectKey": self.project["key"],
                "projectName": self.project["name"],
                "_links": {"self": f"{self.url}/rest/servicedeskapi/servicedesk/1"}}
        types = [{"id": "10", "name": "Get IT help", "description": "", "helpText": "", "serviceDeskId": "1",
                  "groupIds": ["1"], "issueTypeId": "10002"},
                 {"id": "11", "name": "Fix broken hardware", "description": "", "helpText": "",
                  "serviceDeskId": "1", "groupIds": ["1"], "issueTypeId": "10002"}]
        if route == "servicedesk/1" and method == "GET":
            return 200, desk
        if route == "servicedesk/1/requesttype" and method == "GET":
            return 200, {"size": len(types), "start": 0, "limit": 50, "isLastPage": True, "values": types,
                         "_links": {"base": self.url, "context": "", "self": f"{self.url}/rest/servicedeskapi/"}}
        if route.startswith("servicedesk/"):
            raise _Refusal(404, "The service desk does not exist.")
        if route == "request" and method == "POST":
            if str(data.get("serviceDeskId")) != "1":
                raise _Refusal(400, "The service desk does not exist.")
            request_type = next((t for t in types if t["id"] == str(data.get("requestTypeId"))), None)
            if request_type is None:
                raise _Refusal(400, "The request type does not exist.")
            values = data.get("requestFieldValues") or {}
            if not values.get("summary"):
                raise _Refusal(400, "", {"summary": "Summary is required."})
            customer = self._user(data.get("raiseOnBehalfOf") or self.email)
            issue = self._new_issue(values, customer)
            issue["fields"]["requestTypeId"] = request_type["id"]
            now = self.clock()
            return 201, {
                "issueId": issue["id"], "issueKey": issue["key"], "requestTypeId": request_type["id"],
                "serviceDeskId": "1",
                "createdDate": {"iso8601": now.strftime("%Y-%m-%dT%H:%M:%S+0000"), "jira": _stamp(now),
                                "friendly": "Today", "epochMillis": int(now.timestamp() * 1000)},
                "reporter": {"accountId": customer["accountId"], "emailAddress": customer["emailAddress"],
                             "displayName": customer["displayName"], "active": True, "timeZone": "UTC"},
                "requestFieldValues": [{"fieldId": k, "label": k.title(), "value": v} for k, v in values.items()],
                "currentStatus": {"status": "Waiting for support", "statusCategory": "NEW"},
                "_links": {"web": f"{self.url}/servicedesk/customer/portal/1/{issue['key']}",
                           "self": f"{self.url}/rest/servicedeskapi/request/{issue['id']}"},
            }
        raise _Refusal(404, f"No such resource: /rest/servicedeskapi/{route}")


class _Refusal(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        self.status = status
        self.message = message
        self.errors = errors or {}


def jira_settings(fake: JiraFake, kind: str = "jira", **overrides: Any) -> dict[str, Any]:
    """Settings values that point the bot at ``fake`` (Cloud credentials, or a PAT for Data Center)."""
    values: dict[str, Any] = {
        "ticket_backend": kind, "jira_url": fake.url, "jira_project": fake.project["key"],
        "jira_timeout": 5.0, "jira_service_desk": "1" if kind == "jsm" else None,
        "jira_request_types": {"default": "10", "hardware": "11"} if kind == "jsm" else {},
        "jira_webhook_secret": "hook-secret",
    }
    if fake.deployment == "Cloud":
        values.update(jira_email=fake.email, jira_api_token=fake.token)
    else:
        values.update(jira_pat=fake.token)
    values.update(overrides)
    return values
