"""Tests of the Teams channel (bot/channels/teams), driven through the fake Bot Connector."""
