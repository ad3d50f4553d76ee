"""Chat channels: each turns platform events into Turns and renders Replies."""

from bot.channels.base import Channel

__all__ = ["Channel"]
