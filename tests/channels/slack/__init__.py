"""Tests of the Slack channel (bot/channels/slack), driven through the spec-checked fake Slack."""
