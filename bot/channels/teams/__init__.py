"""The Microsoft Teams channel: Bot Connector activities in, Adaptive Cards out, and the app package."""

from bot.channels.teams.channel import TeamsChannel

__all__ = ["TeamsChannel"]
