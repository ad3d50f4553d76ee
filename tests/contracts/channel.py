"""The channel contract: the same conversations every channel must carry, whatever the platform.

A channel's test module subclasses ``ChannelContract`` and provides a ``harness``
fixture: something that acts as a person on that platform (it posts the
platform's own events to the bot) and reads back what the bot sent, translated
into the console's line format::

    {"to": EMAIL | "technicians" | CONVERSATION, "text": str,
     "buttons": [{"id", "label"}], "private": bool, "replaces"?: KEY}

``to`` is the employee's email for their private chat with the bot and
``"technicians"`` for the technicians' conversation. ``replaces`` is set when
the bot updated an earlier message in place (Slack ``chat.update``, a Teams
card refresh). The harness returns only the lines caused by the one action,
after the bot has finished handling it (including work done after the ack).
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import select

from bot.app import Bot
from bot.store import Approval, AuditEntry, Ticket

Line = dict[str, Any]

ANN, BOB, TOM, TIA = "ann@city.example", "bob@city.example", "tom@city.example", "tia@city.example"


class Harness(Protocol):
    """One platform, driven as its users would drive it."""

    bot: Bot

    async def say(self, user: str, text: str) -> list[Line]:
        """``user`` (an email) writes ``text`` in their private chat with the bot; the lines it caused."""
        ...

    async def click(self, user: str, button_id: str) -> list[Line]:
        """``user`` clicks ``button_id`` where it was shown; the lines it caused."""
        ...


def button(lines: list[Line], label: str) -> str:
    """The id of the button labelled ``label`` in ``lines`` (the last one if several)."""
    found = [b["id"] for line in lines for b in line["buttons"] if b["label"] == label]
    assert found, f"no button {label!r} in {lines}"
    return found[-1]


def texts(lines: list[Line], to: str | None = None) -> str:
    """All line texts (to ``to`` only, when given), joined for searching."""
    return "\n".join(line["text"] for line in lines if to is None or line["to"] == to)


def rows(bot: Bot, model: type) -> list[Any]:
    """Every row of ``model``, in id order."""
    return list(bot.db.call(lambda s: s.exec(select(model).order_by(model.id)).all()))


class ChannelContract:
    """Conversations every channel must pass. Subclass it as ``Test<Channel>Contract``."""

    async def test_greeting_is_answered_in_the_private_chat(self, harness: Harness) -> None:
        """A hello gets an answer, addressed to the person who said it."""
        lines = await harness.say(ANN, "hi")
        assert lines and all(line["to"] == ANN for line in lines)
        assert texts(lines).strip()

    async def test_password_reset_through_approval(self, harness: Harness) -> None:
        """Ask, confirm, a technician approves in the technicians' conversation; the card updates in place."""
        lines = await harness.say(ANN, "I forgot my password")
        assert button(lines, "Yes") and button(lines, "No")
        lines = await harness.click(ANN, button(lines, "Yes"))
        card = [line for line in lines if line["to"] == "technicians"]
        assert len(card) == 1 and "Approval needed" in card[0]["text"]
        assert "I've asked the IT technicians" in texts(lines, to=ANN)
        lines = await harness.click(TOM, button(card, "Approve"))
        update = [line for line in lines if line.get("replaces")]
        assert update and "Approved by tom@city.example" in update[0]["text"] and update[0]["buttons"] == []
        assert "approved by tom@city.example" in texts(lines, to=ANN)
        [approval] = rows(harness.bot, Approval)
        assert approval.status == "approved" and approval.decided_by == TOM

    async def test_self_approval_is_refused(self, harness: Harness) -> None:
        """A technician cannot approve their own request; nothing is decided."""
        lines = await harness.say(TOM, "I forgot my password")
        lines = await harness.click(TOM, button(lines, "Yes"))
        card = [line for line in lines if line["to"] == "technicians"]
        lines = await harness.click(TOM, button(card, "Approve"))
        assert "Not done" in texts(lines)
        [approval] = rows(harness.bot, Approval)
        assert approval.status == "pending"
        assert any(e.action.startswith("approval") and e.outcome == "refused" for e in rows(harness.bot, AuditEntry))

    async def test_ticket_preview_and_submit(self, harness: Harness) -> None:
        """A described problem gets a preview; Submit files one ticket and tells the technicians."""
        lines = await harness.say(ANN, "the printer on the 2nd floor keeps jamming")
        assert "Summary: the printer on the 2nd floor keeps jamming" in texts(lines)
        lines = await harness.click(ANN, button(lines, "Submit"))
        assert "HELP-1" in texts(lines, to=ANN)
        assert "New ticket HELP-1" in texts(lines, to="technicians")
        [ticket] = rows(harness.bot, Ticket)
        assert ticket.reporter == ANN

    async def test_ticket_status_is_private_and_own_only(self, harness: Harness) -> None:
        """The reporter sees their ticket privately; another employee is refused."""
        lines = await harness.say(ANN, "my laptop fan is very loud and the laptop gets hot")
        await harness.click(ANN, button(lines, "Submit"))
        own = await harness.say(ANN, "any update on HELP-1?")
        assert "Status: open" in texts(own) and all(line["private"] for line in own if "HELP-1" in line["text"])
        other = await harness.say(BOB, "what's the status of HELP-1")
        assert "can't find a ticket of yours" in texts(other) and "laptop fan" not in texts(other)

    async def test_very_long_message_is_answered_politely(self, harness: Harness) -> None:
        """A 40,000-character message gets a short, polite answer and nothing breaks."""
        lines = await harness.say(ANN, "help " * 8000)
        assert "very long" in texts(lines, to=ANN)
        assert harness.bot.nlu_ready

    async def test_mention_injection_is_defused(self, harness: Harness) -> None:
        """Text that tries to ping everyone comes back defused in the ticket preview."""
        lines = await harness.say(ANN, "the scanner is broken <!channel> @channel @everyone please fix")
        joined = texts(lines)
        assert "<!channel>" not in joined and "<!everyone>" not in joined

    async def test_stale_button_does_nothing(self, harness: Harness) -> None:
        """Clicking Yes on a question that was already answered does nothing twice."""
        lines = await harness.say(ANN, "I forgot my password")
        yes = button(lines, "Yes")
        await harness.click(ANN, yes)
        again = await harness.click(ANN, yes)
        assert "no longer open" in texts(again)
        assert len(rows(harness.bot, Approval)) == 1
