"""Play conversation tests through the console channel on a throwaway SQLite database.

One bot serves the whole run (the NLU is trained once); before each
conversation every table is emptied, so no ticket, notice or pending question
leaks from one conversation into the next. Tickets go to the built-in queue
and resets to the technician-assisted directory, whatever the settings say.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, text
from sqlmodel import Session, col, select

from bot.app import Bot
from bot.channels.console.channel import ConsoleChannel, Line
from bot.conversation_tests.report import ConversationResult, Failure, Report
from bot.conversation_tests.spec import RESOLVED, Click, ConversationTest, Expect, Outcome, Say, Submit
from bot.core.messages import TECHNICIANS
from bot.core.settings import Settings
from bot.nlu import Parser
from bot.store import Approval, Database, KbQuery, Ticket

__all__ = ["DEFAULT_TECHNICIANS", "is_dead_end", "run_conversations", "isolated_settings", "throwaway_bot"]

DEFAULT_TECHNICIANS = ("tom@city.example", "tia@city.example")
"""The technicians of a test run when the settings name none."""

_NOT_UNDERSTOOD = re.compile(
    r"\b(?:didn'?t|did not|don'?t|do not|couldn'?t|could not)\s+(?:quite\s+)?(?:catch|understand|follow)\b"
    r"|\bno guide\b|\bdon'?t have (?:a|any) guide\b|\bnot sure what you mean\b",
    re.IGNORECASE,
)


def is_dead_end(replies: list[Line]) -> bool:
    """True when the replies to one message say the bot did not understand, or has no guide, and none of
    them offers anything to click."""
    offers = any(line.get("buttons") or line.get("form") for line in replies)
    return not offers and any(_NOT_UNDERSTOOD.search(line.get("text", "")) for line in replies)


def isolated_settings(settings: Settings, database_url: str) -> Settings:
    """``settings`` for a test run: the given database, the built-in queue, the assisted directory, no mail."""
    return settings.model_copy(update={
        "database_url": database_url,
        "ticket_backend": "builtin",
        "directory": "assisted",
        "smtp_host": None,
        "technicians": list(settings.technicians or DEFAULT_TECHNICIANS),
    })


@contextmanager
def throwaway_bot(settings: Settings, nlu: Parser | None = None) -> Iterator[Bot]:
    """A started bot on a fresh SQLite file in a temporary folder, closed and deleted afterwards.

    ``nlu`` is a parser already trained on the same intents (tests share one); by default the
    settings' parser is built.
    """
    with tempfile.TemporaryDirectory(prefix="helpdesk-test-") as folder:
        url = f"sqlite:///{Path(folder) / 'conversations.db'}"
        bot = Bot(isolated_settings(settings, url), nlu=nlu)
        try:
            bot.start()
            yield bot
        finally:
            bot.close()


async def run_conversations(
    bot: Bot,
    conversations: list[ConversationTest],
    on_result: Callable[[ConversationResult], None] | None = None,
) -> Report:
    """Play each conversation on ``bot`` (from ``throwaway_bot``) and collect the verdicts."""
    results = []
    for number, conversation in enumerate(conversations, start=1):
        _empty(bot.db)
        console = ConsoleChannel(bot)
        bot.add_channel(console)
        user = conversation.user or f"employee{number}@city.example"
        player = _Player(bot, console, user)
        try:
            failure = await player.play(conversation)
        except Exception as exc:  # a crash in the bot fails this conversation, not the run
            failure = Failure("the run", conversation.line, f"the bot raised {type(exc).__name__}: {exc}",
                              player.said(console.lines[-5:]))
        result = ConversationResult(conversation, failure, tuple(player.first_replies or ()))
        results.append(result)
        if on_result is not None:
            on_result(result)
    return Report(tuple(results))


def _empty(db: Database) -> None:
    """Delete every row of every table but the schema version: a fresh database, already migrated."""
    with db.engine.begin() as connection:
        for table in inspect(connection).get_table_names():
            if table != "alembic_version":
                connection.execute(text(f'DELETE FROM "{table}"'))


@dataclass
class _Effects:
    """What the bot did that a test can see: tickets filed, approvals asked, articles answered."""

    tickets: int
    approvals: int
    articles: tuple[str, ...]


class _Player:
    """Plays one conversation step by step and checks each ``expect`` against the window since the last one."""

    def __init__(self, bot: Bot, console: ConsoleChannel, user: str) -> None:
        self.bot = bot
        self.console = console
        self.user = user
        self.intent: str | None = None
        self.first_replies: list[Line] | None = None
        """The replies to this user caused by the conversation's first message."""

    async def play(self, conversation: ConversationTest) -> Failure | None:
        """The first failure, or None when every step and the outcome held.

        An ``expect`` looks at what the actions since the previous ``expect`` caused; several
        ``expect`` in a row look at the same actions.
        """
        window_start, before, checked = 0, await self._effects(), False
        action_start = 0
        for number, step in enumerate(conversation.steps, start=1):
            where = f"step {number}"
            if isinstance(step, Expect):
                lines = self.console.lines[window_start:]
                reason = self._check(step, lines, before, await self._effects())
                if reason:
                    return Failure(where, step.line, reason, self.said(lines))
                checked = True
                continue
            if checked:
                window_start, before, checked = len(self.console.lines), await self._effects(), False
            action_start = len(self.console.lines)
            reason = await self._act(step)
            if reason:
                return Failure(where, step.line, reason, self.said(self.console.lines[max(0, action_start - 3):]))
        last = self.console.lines[action_start:]
        reason = self._outcome(conversation.outcome, await self._effects(), last)
        return Failure("outcome", conversation.line, reason, self.said(last)) if reason else None

    async def _act(self, step: Say | Click | Submit) -> str:
        """Do the step; a reason when it cannot be done (no such button or form)."""
        if isinstance(step, Say):
            replies = await self.console.say(self.user, step.text)
            if self.first_replies is None:
                self.first_replies = [line for line in replies if line["to"] == self.user]
            turn = self.console.last_turn
            parse = turn.parse if turn is not None else None
            intent = parse.get("intent") if parse else None
            self.intent = intent.get("name") if intent else None
            return ""
        if isinstance(step, Click):
            shown = [b for line in self._visible() for b in line["buttons"]]
            found = [b["id"] for b in shown if b["label"].strip().lower() == step.label.strip().lower()]
            if not found:
                labels = ", ".join(dict.fromkeys(repr(b["label"]) for b in shown)) or "none"
                return f"no button {step.label!r} was shown (buttons: {labels})"
            await self.console.click(self.user, found[-1])
            return ""
        forms = [line["form"] for line in self._visible() if line.get("form")]
        if not forms:
            return "no form was shown to submit"
        form = forms[-1]
        names = [item["name"] for item in form["inputs"]]
        unknown = [name for name in step.values if name not in names]
        if unknown:
            return f"the form {form['title']!r} has no input {unknown[0]!r} (inputs: {', '.join(names)})"
        values = {item["name"]: item["initial"] for item in form["inputs"]} | step.values
        await self.console.submit(self.user, form["submit"], values)
        return ""

    def _visible(self) -> list[Line]:
        """The replies this user can see: their own conversation, and the technicians' when they are one."""
        technician = self.bot.settings.is_technician(self.user)
        return [line for line in self.console.lines
                if line["to"] == self.user or (technician and line["to"] == TECHNICIANS)]

    def _check(self, expect: Expect, lines: list[Line], before: _Effects, after: _Effects) -> str:
        """The first expectation that does not hold, as a reason; "" when all hold."""
        if expect.intent is not None and self.intent != expect.intent:
            return f"expected intent {expect.intent}, the bot read {self.intent or 'nothing'}"
        answered = after.articles[len(before.articles):]
        if expect.article is not None and expect.article not in answered:
            got = ", ".join(answered) or "no article"
            return f"expected article {expect.article}, the bot answered with {got}"
        if expect.text is not None and not any(expect.text.search(line["text"]) for line in lines):
            return f"no reply matches /{expect.text.pattern}/"
        checks = (
            ("ticket", expect.ticket, after.tickets > before.tickets, "a ticket was filed"),
            ("approval", expect.approval, after.approvals > before.approvals, "an approval was asked"),
            ("to_technicians", expect.to_technicians, any(line["to"] == TECHNICIANS for line in lines),
             "the technicians were written to"),
        )
        for key, wanted, happened, what in checks:
            if wanted is not None and wanted != happened:
                return f"expected {key}: {str(wanted).lower()}, but {what if happened else 'not: ' + what}"
        return ""

    def _outcome(self, outcome: Outcome, effects: _Effects, last: list[Line]) -> str:
        """Why the conversation did not reach ``outcome``; "" when it did.

        The bot resolves a conversation alone when it files no ticket, asks no approval, and its
        last action's replies are not a dead end; a note to the technicians for their information (a phishing
        report nobody fell for) is allowed.
        """
        told = any(line["to"] == TECHNICIANS for line in self.console.lines)
        if outcome == Outcome.TICKET and not effects.tickets:
            return "expected outcome ticket, but no ticket was filed"
        if outcome == Outcome.APPROVAL and not effects.approvals:
            return "expected outcome approval, but no approval was asked"
        if outcome == Outcome.HANDOFF and not told:
            return "expected outcome handoff, but the technicians were never written to"
        if outcome in RESOLVED:
            routed = [what for what, happened in (("a ticket was filed", effects.tickets),
                                                  ("an approval was asked", effects.approvals)) if happened]
            if routed:
                return f"expected outcome {outcome.value} (the bot alone), but {routed[0]}"
            if not any(line["to"] == self.user for line in self.console.lines):
                return f"expected outcome {outcome.value}, but the bot never answered"
            if is_dead_end([line for line in last if line["to"] == self.user]):
                return f"expected outcome {outcome.value}, but the last reply is a dead end (nothing to click)"
        return ""

    async def _effects(self) -> _Effects:
        def count(session: Session) -> _Effects:
            tickets = session.exec(select(func.count()).select_from(Ticket)).one()
            approvals = session.exec(select(func.count()).select_from(Approval)).one()
            articles = session.exec(select(KbQuery.article_id).where(col(KbQuery.article_id).is_not(None))
                                    .order_by(col(KbQuery.id))).all()
            return _Effects(int(tickets), int(approvals), tuple(str(a) for a in articles))

        return await self.bot.db.run(count)

    def said(self, lines: list[Line]) -> str:
        """What the bot said in ``lines``: each text with its buttons; others' replies marked with who got them."""
        parts = []
        for line in lines:
            body = " ".join(line["text"].split())
            if line["buttons"]:
                body += " [buttons: " + ", ".join(b["label"] for b in line["buttons"]) + "]"
            if line.get("form"):
                body += f" [form: {line['form']['title']}]"
            parts.append(body if line["to"] == self.user else f"(to {line['to']}) {body}")
        return "\n".join(parts)
