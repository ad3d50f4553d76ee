"""The engine: the router, the context a skill sees, what a skill is, conversation state, delivery and approvals."""
