"""The console channel passes the channel contract."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import Bot
from tests.contracts.channel import ChannelContract, Line
from tests.support import Chat


class ConsoleHarness:
    """The console channel as a contract harness: it already speaks the line format."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.bot: Bot = chat.bot

    async def say(self, user: str, text: str) -> list[Line]:
        """``user`` writes ``text`` in their private chat."""
        return await self.chat.say(user, text)

    async def click(self, user: str, button_id: str) -> list[Line]:
        """``user`` clicks ``button_id``."""
        return await self.chat.click(user, button_id)


class TestConsoleContract(ChannelContract):
    """The contract on the console channel, on SQLite and PostgreSQL."""

    @pytest.fixture
    def harness(self, chat: Chat) -> Any:
        """The console harness."""
        return ConsoleHarness(chat)
