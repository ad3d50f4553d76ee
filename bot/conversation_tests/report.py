"""The result of each conversation, and the shares resolved by the bot and routed to a technician."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.conversation_tests.spec import RESOLVED, ROUTED, ConversationTest

__all__ = ["ConversationResult", "Failure", "Report", "Share"]


@dataclass(frozen=True)
class Failure:
    """The first part that did not hold (``step 3``, ``outcome``, ``the run``), its line, why, and what the bot
    said there."""

    where: str
    line: int
    reason: str
    bot_said: str

    def describe(self) -> str:
        """One line: the step, the reason and the bot's words."""
        said = " | ".join(self.bot_said.split("\n")) if self.bot_said else "(nothing)"
        if len(said) > 300:
            said = said[:299] + "…"
        return f"{self.where} (line {self.line}): {self.reason}; the bot said: {said}"


@dataclass(frozen=True)
class ConversationResult:
    """One conversation's verdict."""

    test: ConversationTest
    failure: Failure | None = None
    first_replies: tuple[dict[str, Any], ...] = ()
    """The console lines the first message caused, to this user (``bench/understanding.py`` reads them)."""

    @property
    def passed(self) -> bool:
        """True when every step and the outcome held."""
        return self.failure is None

    def line(self) -> str:
        """The report line: pass, or the first failing step and what the bot said."""
        if self.failure is None:
            return f"pass  {self.test.name}"
        return f"FAIL  {self.test.name} ({self.test.source}) {self.failure.describe()}"

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON."""
        failure = None
        if self.failure is not None:
            failure = {"where": self.failure.where, "line": self.failure.line, "reason": self.failure.reason,
                       "bot_said": self.failure.bot_said}
        return {"name": self.test.name, "source": self.test.source, "outcome": self.test.outcome.value,
                "passed": self.passed, "failure": failure}


@dataclass(frozen=True)
class Share:
    """How many of ``total`` conversations passed."""

    passed: int
    total: int

    @property
    def ratio(self) -> float:
        """``passed / total`` (0 when there are none)."""
        return self.passed / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.passed} of {self.total} ({self.ratio:.0%})"


@dataclass(frozen=True)
class Report:
    """Every result, with the shares the desk cares about."""

    results: tuple[ConversationResult, ...]

    @property
    def failed(self) -> int:
        """How many conversations failed."""
        return sum(not r.passed for r in self.results)

    @property
    def resolved(self) -> Share:
        """Of the conversations a good bot finishes alone (self_service, declined), those that passed."""
        return self._share(RESOLVED)

    @property
    def routed(self) -> Share:
        """Of the conversations that need a technician (ticket, approval, handoff), those that passed."""
        return self._share(ROUTED)

    def _share(self, outcomes: frozenset[Any]) -> Share:
        chosen = [r for r in self.results if r.test.outcome in outcomes]
        return Share(sum(r.passed for r in chosen), len(chosen))

    def summary(self) -> str:
        """The closing line: passed, resolved by the bot, routed."""
        total = len(self.results)
        return (f"{total - self.failed} of {total} passed   resolved by the bot: {self.resolved}   "
                f"routed to a technician: {self.routed}")

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "passed": len(self.results) - self.failed, "failed": self.failed, "total": len(self.results),
            "resolved": {"passed": self.resolved.passed, "total": self.resolved.total},
            "routed": {"passed": self.routed.passed, "total": self.routed.total},
            "conversations": [r.to_dict() for r in self.results],
        }
