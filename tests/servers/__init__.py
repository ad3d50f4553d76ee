"""Real servers the tests start and stop: slapd and a Samba AD DC, a live Rasa, and their pytest fixtures."""
