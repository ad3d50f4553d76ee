"""Check HTTP traffic against OpenAPI 3.0 specs: the path and method exist, the bodies fit the schemas.

The specs are the copies vendored in ``tests/fakes/specs`` (their sources, licences
and checksums are in ``tests/fakes/specs/README.md``) and are never modified; the
known quirks of the Jira specs are patched on the copy in memory.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from bot.core.settings import PROJECT_ROOT

__all__ = ["SPECS_DIR", "SpecCheck", "jira_specs"]

SPECS_DIR = PROJECT_ROOT / "tests" / "fakes" / "specs"
"""The API specs the fakes check against, inside the repository."""


@dataclass(frozen=True)
class Operation:
    """One path template and method of a spec."""

    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]
    operation: dict[str, Any]


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


class SpecCheck:
    """The operations of some specs; ``request`` and ``response`` return what does not fit (empty when fine)."""

    def __init__(self, specs: list[dict[str, Any]]) -> None:
        self.operations: list[Operation] = []
        for spec in specs:
            for template, item in spec["paths"].items():
                for method, operation in item.items():
                    if method in ("get", "post", "put", "delete", "patch"):
                        self.operations.append(Operation(method.upper(), template, _compile(template), spec,
                                                         operation))
        # A literal path (/search/jql) wins over a template that also matches it (/search/{id}).
        self.operations.sort(key=lambda op: op.template.count("{"))

    def find(self, method: str, path: str) -> Operation | None:
        """The operation for ``method path``, or None."""
        return next((op for op in self.operations if op.method == method and op.pattern.match(path)), None)

    def request(self, method: str, path: str, body: bytes) -> list[str]:
        """Problems with a request: unknown operation, or a JSON body that breaks the request schema."""
        operation = self.find(method, path)
        if operation is None:
            same_path = any(op.pattern.match(path) for op in self.operations)
            return [f"{method} {path}: " + ("method not in the spec" if same_path else "path not in the spec")]
        content = operation.operation.get("requestBody", {}).get("content", {})
        schema = (content.get("application/json") or {}).get("schema")
        if not body:
            required = operation.operation.get("requestBody", {}).get("required", False)
            return [f"{method} {operation.template}: request body is required"] if required else []
        if schema is None:
            return [f"{method} {operation.template}: the spec takes no JSON body"]
        try:
            instance = json.loads(body)
        except ValueError:
            return [f"{method} {operation.template}: request body is not JSON"]
        return _errors(OAS30WriteValidator, operation, schema, instance, "request")

    def response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Problems with a response: a status the spec does not list, or a body that breaks its schema."""
        operation = self.find(method, path)
        if operation is None:
            return []
        responses = operation.operation.get("responses", {})
        declared = responses.get(str(status)) or responses.get("default")
        if declared is None:
            if status >= 500 or status == 429:
                return []  # outages are the point of several tests; specs rarely list them
            return [f"{method} {operation.template}: status {status} is not in the spec ({sorted(responses)})"]
        schema = ((declared.get("content") or {}).get("application/json") or {}).get("schema")
        if schema is None or body is None:
            return []
        return _errors(OAS30ReadValidator, operation, schema, body, f"response {status}")


def _errors(validator: Any, operation: Operation, schema: dict[str, Any], instance: Any, what: str) -> list[str]:
    root = {**schema, "components": operation.spec["components"]}
    found = []
    for error in validator(root).iter_errors(instance):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        found.append(f"{operation.method} {operation.template} {what} at {where}: {error.message[:200]}")
    return found


def _patch_quirks(platform: dict[str, Any], service_desk: dict[str, Any]) -> None:
    """The spec quirks that real Jira accepts, patched on the in-memory copy only."""
    schemas = platform["components"]["schemas"]
    # The jira library sends transition.id as a number; Jira accepts it, the spec says string.
    schemas["IssueTransition"]["properties"]["id"].pop("type", None)
    # create_customer_request sends requestTypeId as a number; the spec says string.
    request = service_desk["components"]["schemas"]["RequestCreateDTO"]["properties"]
    for name in ("requestTypeId", "serviceDeskId"):
        request[name].pop("type", None)


@cache
def _load(name: str) -> dict[str, Any]:
    with (SPECS_DIR / "jira" / name).open(encoding="utf-8") as handle:
        return json.load(handle)


@cache
def jira_specs() -> SpecCheck:
    """The Jira Cloud platform v2 and Jira Service Management specs, quirks patched."""
    platform = copy.deepcopy(_load("jira-cloud-platform-v2.openapi.json"))
    service_desk = copy.deepcopy(_load("jira-service-management-cloud.openapi.json"))
    _patch_quirks(platform, service_desk)
    return SpecCheck([platform, service_desk])
