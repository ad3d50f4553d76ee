"""The one exception tree of civic-helpdesk.

Every error the bot raises on purpose is a ``HelpdeskError``. Catch the narrow
kind you can handle; the router turns the rest into a safe message.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataFileError",
    "DirectoryError",
    "HelpdeskError",
    "IntegrationError",
    "PermissionDenied",
    "TicketBackendUnavailable",
    "TicketQueued",
    "TrainingDataError",
    "UnknownButton",
    "UserFacingError",
]


class HelpdeskError(Exception):
    """Base of every error that civic-helpdesk raises on purpose."""


class ConfigError(HelpdeskError):
    """The settings or the data the bot starts from are wrong; fail at start-up."""


class DataFileError(ConfigError):
    """A data file the bot reads is not valid. The message names the file and line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class TrainingDataError(DataFileError):
    """An NLU training file is not valid. The message names the file and line."""


class UserFacingError(HelpdeskError):
    """An error whose message is safe and useful to show to the employee."""


class PermissionDenied(UserFacingError):
    """The person may not do what they asked."""


class UnknownButton(UserFacingError):
    """A click or form this skill did not make (an old message, or a hand-made id); nothing is done."""

    def __init__(self) -> None:
        super().__init__("I did not recognise that button. It may be from an old message, so nothing was done.")


class IntegrationError(HelpdeskError):
    """An outside system (Jira, the directory, Slack, Rasa) failed or is unreachable."""

    def __init__(self, system: str, message: str) -> None:
        self.system = system
        super().__init__(f"{system}: {message}")


class TicketBackendUnavailable(IntegrationError):
    """The ticket backend is down, too slow or rate limiting (timeout, 5xx, 429): try again later."""


class TicketQueued(UserFacingError):
    """The ticket could not be filed now; it waits in the outbox and the employee gets its key later."""

    def __init__(self, entry_id: int, system: str) -> None:
        self.entry_id = entry_id
        super().__init__(
            f"{system} is not answering right now, so I saved your request (#{entry_id}). "
            "It will be filed as soon as it is back, and I'll message you the ticket number."
        )


class DirectoryError(IntegrationError):
    """The directory (LDAP/AD, Entra ID) failed. ``kind`` says how, so the skill can explain it.

    Kinds: ``unreachable``, ``bind_refused``, ``password_rejected``, ``not_found``, ``unsupported``.
    The message never holds a password.
    """

    def __init__(self, kind: str, message: str, system: str = "The directory") -> None:
        self.kind = kind
        super().__init__(system, message)
