"""Read-only views of the stored rows that skills are handed: an approval, an account request, an announcement.

The services hand out their rows; a skill (or any reader) that takes a view can read them, and changes them
only through the service that owns them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

__all__ = ["AccountRequestView", "AnnouncementView", "ApprovalView"]


class ApprovalView(Protocol):
    """A request for a technician's approval, as ``on_approval`` and ``ctx.approval`` give it."""

    @property
    def id(self) -> int | None:
        """Its number (None only before it is stored)."""
        ...

    @property
    def action(self) -> str:
        """What the skill asked to do (its own word, e.g. ``reset_password``)."""
        ...

    @property
    def summary(self) -> str:
        """One line on what is asked, as the technicians saw it."""
        ...

    @property
    def details(self) -> list[list[str]]:
        """``[label, value]`` pairs shown with the request."""
        ...

    @property
    def data(self) -> dict[str, Any]:
        """What the skill kept with the request."""
        ...

    @property
    def requester(self) -> str:
        """The email of the person who asked."""
        ...

    @property
    def target(self) -> str:
        """Whom or what it is about."""
        ...

    @property
    def status(self) -> str:
        """``pending``, ``approved``, ``denied``, ``expired``, ``withdrawn`` or ``done``."""
        ...

    @property
    def decided_by(self) -> str | None:
        """The technician who decided, if one did."""
        ...


class AccountRequestView(Protocol):
    """A password reset or account unlock request, as ``ctx.account_requests`` gives it."""

    @property
    def id(self) -> int | None:
        """Its number (None only before it is stored)."""
        ...

    @property
    def requester(self) -> str:
        """The email of the person who asked."""
        ...

    @property
    def target(self) -> str:
        """The email of the account to change."""
        ...

    @property
    def action(self) -> str:
        """``reset_password`` or ``unlock_account``."""
        ...

    @property
    def method(self) -> str:
        """How it is verified: ``approval``, ``self_service`` or ``assisted``."""
        ...


class AnnouncementView(Protocol):
    """An announcement (a notice to staff), as ``ctx.announcements`` gives it."""

    @property
    def id(self) -> int | None:
        """Its number (None only before it is stored)."""
        ...

    @property
    def kind(self) -> str:
        """``general``, ``outage``, ``maintenance`` or ``security``."""
        ...

    @property
    def title(self) -> str:
        """Its title."""
        ...

    @property
    def body(self) -> str:
        """Its message."""
        ...

    @property
    def systems(self) -> list[str]:
        """The systems it is about."""
        ...

    @property
    def audience(self) -> dict[str, Any]:
        """Who gets it (``all``, ``departments``, ``groups``, ``channels``)."""
        ...

    @property
    def cron(self) -> str | None:
        """Its recurrence, when it is a series."""
        ...

    @property
    def send_at(self) -> datetime | None:
        """When it is to be sent, when it is scheduled."""
        ...

    @property
    def starts_at(self) -> datetime | None:
        """When the outage or maintenance starts."""
        ...

    @property
    def ends_at(self) -> datetime | None:
        """When it is expected to end."""
        ...

    @property
    def ack_required(self) -> bool:
        """Whether readers are asked to confirm they have read it."""
        ...

    @property
    def allow_mentions(self) -> bool:
        """Whether it pages channels (``@channel``)."""
        ...

    @property
    def status(self) -> str:
        """``draft``, ``awaiting_approval``, ``scheduled``, ``recurring``, ``sending``, ``sent``, ..."""
        ...

    @property
    def created_by(self) -> str:
        """The email of the technician who wrote it."""
        ...
