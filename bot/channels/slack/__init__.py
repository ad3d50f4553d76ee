"""The Slack channel: events in over HTTP or Socket Mode, Block Kit out, and the agent panel."""

from bot.channels.slack.channel import SlackChannel

__all__ = ["SlackChannel"]
