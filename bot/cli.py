"""``python -m bot.cli``: the ``helpdesk`` command, kept at this path for scripts that call it so.

The command itself lives in ``bot.surfaces.cli``.
"""

from bot.surfaces.cli import app

if __name__ == "__main__":
    app()
