"""The skills. Every ``Skill`` subclass in a module here is registered by ``bot.skill.load_skills``."""
