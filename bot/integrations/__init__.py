"""Adapters to outside systems: tickets, the knowledge base (and later Jira, the directory)."""
