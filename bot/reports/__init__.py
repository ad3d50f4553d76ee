"""The manager's view: charts, the page and the monthly report, drawn from the figures of ``bot.services.figures``."""
