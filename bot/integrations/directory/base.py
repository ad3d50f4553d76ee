"""The Directory port: find an employee's account, unlock it, give it a temporary password.

Three adapters implement it: ``LdapDirectory`` (OpenLDAP and Active Directory
through ldap3), ``GraphDirectory`` (Entra ID through Microsoft Graph) and
``AssistedDirectory`` (no directory: a technician does the change by hand).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["ADMIN_PROTECTED", "Directory", "DirectoryAccount", "plausible_email"]

ADMIN_PROTECTED = "AD protected account (adminCount=1)"

_PLAUSIBLE = re.compile(r"^[^\s@\x00-\x1f\x7f]{1,64}@[^\s@\x00-\x1f\x7f]{1,255}$")


def plausible_email(email: str) -> bool:
    """True when ``email`` could be an address: one @, no spaces or control characters.

    Adapters look up nothing else. Filter syntax that passes this check is
    escaped by each adapter before it reaches the directory.
    """
    return bool(_PLAUSIBLE.match(email))


@dataclass(frozen=True)
class DirectoryAccount:
    """An account as the directory reports it.

    ``locked`` is None when the directory cannot tell (Entra ID, or no
    directory at all). ``groups`` are group names (a DN's first CN, or a
    Graph ``displayName``), nested membership included where the directory
    resolves it. ``admin_protected`` is Active Directory's ``adminCount=1``:
    the account is, or once was, in a protected group such as Domain Admins.
    """

    id: str
    email: str
    username: str
    display_name: str = ""
    locked: bool | None = False
    disabled: bool = False
    groups: tuple[str, ...] = ()
    alternate_email: str | None = None
    last_reset: datetime | None = None
    admin_protected: bool = False

    def in_any(self, groups: list[str]) -> list[str]:
        """The names in ``groups`` this account belongs to (case-insensitive)."""
        mine = {group.casefold() for group in self.groups}
        return [group for group in groups if group.casefold() in mine]

    def privileges(self, protected_groups: list[str]) -> list[str]:
        """Why the account is privileged: the protected groups it is in, and AD's ``adminCount=1``."""
        reasons = self.in_any(protected_groups)
        return [*reasons, ADMIN_PROTECTED] if self.admin_protected else reasons


@runtime_checkable
class Directory(Protocol):
    """Where accounts live. Every method runs the directory's work off the event loop.

    Failures raise ``bot.core.errors.DirectoryError`` with a ``kind``. A change
    either happens completely or not at all: a temporary password and its
    "must change at next sign-in" flag are written in one operation.
    """

    name: str
    automatic: bool
    """False when a technician makes the change by hand (``AssistedDirectory``)."""
    can_unlock: bool
    """True when ``unlock`` clears a lockout without touching the password."""

    async def find(self, email: str) -> DirectoryAccount | None:
        """The account whose email is ``email`` (exactly one), or None."""
        ...

    async def unlock(self, account: DirectoryAccount) -> None:
        """Clear the lockout; the password stays as it is."""
        ...

    async def reset_password(self, account: DirectoryAccount, password: str) -> None:
        """Set ``password`` as a temporary password that must be changed at next sign-in; unlocks too."""
        ...
