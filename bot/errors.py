"""The one exception tree of civic-helpdesk.

Every error the bot raises on purpose is a ``HelpdeskError``. Catch the narrow
kind you can handle; the router turns the rest into a safe message.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DirectoryError",
    "HelpdeskError",
    "IntegrationError",
    "PermissionDenied",
    "TrainingDataError",
    "UserFacingError",
]


class HelpdeskError(Exception):
    """Base of every error that civic-helpdesk raises on purpose."""


class ConfigError(HelpdeskError):
    """The settings or the data the bot starts from are wrong; fail at start-up."""


class TrainingDataError(ConfigError):
    """An NLU training file is not valid. The message names the file and line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class UserFacingError(HelpdeskError):
    """An error whose message is safe and useful to show to the employee."""


class PermissionDenied(UserFacingError):
    """The person may not do what they asked."""


class IntegrationError(HelpdeskError):
    """An outside system (Jira, the directory, Slack, Rasa) failed or is unreachable."""

    def __init__(self, system: str, message: str) -> None:
        self.system = system
        super().__init__(f"{system}: {message}")


class DirectoryError(IntegrationError):
    """The directory (LDAP/AD, Entra ID) failed. ``kind`` says how, so the skill can explain it.

    Kinds: ``unreachable``, ``bind_refused``, ``password_rejected``, ``not_found``, ``unsupported``.
    The message never holds a password.
    """

    def __init__(self, kind: str, message: str, system: str = "The directory") -> None:
        self.kind = kind
        super().__init__(system, message)
