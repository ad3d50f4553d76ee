"""The skills. Every ``Skill`` subclass in a module here is registered by ``bot.engine.skill.load_skills``."""
