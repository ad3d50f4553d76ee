"""The console channel: JSON lines for scripts and tests, and the interactive terminal shell."""

from bot.channels.console.channel import ConsoleChannel

__all__ = ["ConsoleChannel"]
