"""Chat channels: the port (``base``) and one package per platform (slack, teams, console)."""

from bot.channels.base import Channel

__all__ = ["Channel"]
