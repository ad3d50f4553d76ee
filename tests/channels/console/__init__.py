"""Tests of the console channel (bot/channels/console): JSON lines and the interactive shell."""
