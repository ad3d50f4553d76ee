"""Adapters to outside systems: tickets (built-in queue, Jira, JSM), the knowledge base, the directory, mail."""
