"""The manager's view: figures counted from the database, charts, the page and the monthly report."""
