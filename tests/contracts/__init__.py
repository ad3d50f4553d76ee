"""Contract suites: what every adapter of a port must do (channels, NLU parsers), run by each adapter's tests."""
