"""No directory connected: a technician makes every change by hand."""

from __future__ import annotations

from bot.core.errors import DirectoryError
from bot.integrations.directory.base import DirectoryAccount

__all__ = ["AssistedDirectory"]


class AssistedDirectory:
    """The technician-assisted directory. It knows nothing about accounts and changes nothing.

    ``find`` returns an account whose state is unknown, so the skill turns an
    approved request into a task for a technician instead of calling
    ``unlock`` or ``reset_password``.
    """

    name = "assisted"
    automatic = False
    can_unlock = False

    async def find(self, email: str) -> DirectoryAccount | None:
        """An account for ``email`` with unknown state."""
        email = email.strip().lower()
        return DirectoryAccount(id=email, email=email, username=email.split("@")[0], locked=None)

    async def unlock(self, account: DirectoryAccount) -> None:
        """Never called: a technician unlocks by hand."""
        raise DirectoryError("unsupported", "no directory is connected; a technician unlocks by hand")

    async def reset_password(self, account: DirectoryAccount, password: str) -> None:
        """Never called: a technician resets by hand."""
        raise DirectoryError("unsupported", "no directory is connected; a technician resets by hand")
