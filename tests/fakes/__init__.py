"""Fake outside services for tests: small HTTP servers on 127.0.0.1 speaking the real wire format."""
