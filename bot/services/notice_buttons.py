"""The buttons a notice's messages carry, supplied by the skill that answers their clicks."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.core.messages import Button
from bot.store import Announcement

__all__ = ["NO_BUTTONS", "NoticeButtons"]


@runtime_checkable
class NoticeButtons(Protocol):
    """What the announcement service puts on its messages; the service itself knows no button ids."""

    def acknowledge_buttons(self, announcement_id: int) -> tuple[Button, ...]:
        """The "I have read this" button of a notice that asks to be acknowledged (and of its reminders)."""
        ...

    def sent_buttons(self, announcement: Announcement) -> tuple[Button, ...]:
        """The buttons on the author's "Sent notice #…" message: post an update, resolve, who has read it."""
        ...


class _NoButtons:
    """For a bot without the skill that answers notices' buttons: messages carry none."""

    def acknowledge_buttons(self, announcement_id: int) -> tuple[Button, ...]:
        return ()

    def sent_buttons(self, announcement: Announcement) -> tuple[Button, ...]:
        return ()


NO_BUTTONS: NoticeButtons = _NoButtons()
"""The stand-in when no loaded skill supplies notices' buttons."""
