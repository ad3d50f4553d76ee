"""The engine: the router, the context a skill sees, what a skill is, and conversation state."""
