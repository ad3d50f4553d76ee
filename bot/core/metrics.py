"""Prometheus metrics, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["DUPLICATES", "ERRORS", "LATENCY", "NLU_FALLBACKS", "NLU_RASA_CIRCUIT_OPEN", "TURNS"]

TURNS = Counter("helpdesk_turns", "Turns handled, by intent and skill", ["intent", "skill"])
LATENCY = Histogram(
    "helpdesk_turn_seconds", "Time to handle one turn",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter("helpdesk_errors", "Errors while handling turns, by kind", ["kind"])
DUPLICATES = Counter("helpdesk_duplicate_events", "Events dropped as already processed", ["channel"])
NLU_FALLBACKS = Counter(
    "helpdesk_nlu_fallbacks", "Parses the embedded NLU answered because Rasa could not, by reason", ["reason"],
)
NLU_RASA_CIRCUIT_OPEN = Gauge("helpdesk_nlu_rasa_circuit_open", "1 while the Rasa circuit breaker is open")
