"""A member of the technicians' channel who is not a technician clicks a technician's button (issue 18, hole 7).

The card keeps its buttons (no ``chat.update``; in Teams no card update), the refusal is seen by the clicker
only (ephemeral in Slack, the invoke's answer in Teams), and the click is audited.
"""

from __future__ import annotations

from pathlib import Path

from bot.nlu import EmbeddedParser
from bot.store import AuditEntry, Ticket
from tests.channels.slack.harness import TECH_CHANNEL, SlackHarness
from tests.channels.teams.harness import running_teams
from tests.contracts.channel import ANN, BOB, TOM, button, rows
from tests.support import Clock


async def test_take_it_by_a_non_technician_leaves_the_card_alone(slack: SlackHarness) -> None:
    lines = await slack.say(ANN, "the copier on 3rd floor keeps jamming")
    lines = await slack.click(ANN, button(lines, "Submit"))
    take = button([line for line in lines if line["to"] == "technicians"], "Take it")
    updates_before = len(slack.fake.calls_to("chat.update"))
    lines = await slack.click(BOB, take)
    assert len(slack.fake.calls_to("chat.update")) == updates_before
    [refusal] = slack.fake.calls_to("chat.postEphemeral")
    assert refusal.args["user"] == "U0BOB00001" and refusal.args["channel"] == TECH_CHANNEL
    assert "only IT technicians" in refusal.args["text"]
    assert not [c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == TECH_CHANNEL
                and "technician" in c.args["text"].lower() and "only" in c.args["text"].lower()]
    [ticket] = rows(slack.bot, Ticket)
    assert not ticket.assignee
    assert any(e.actor == "bob@city.example" and e.outcome == "refused" for e in rows(slack.bot, AuditEntry))
    lines = await slack.click(TOM, take)  # the buttons are still there for a technician
    assert rows(slack.bot, Ticket)[0].assignee == TOM


async def test_a_handoff_and_a_reset_task_refuse_the_same_way(slack: SlackHarness) -> None:
    lines = await slack.say(ANN, "can i talk to a real person please")
    handoff = [line for line in lines if line["to"] == "technicians"]
    before = len(slack.fake.calls_to("chat.update"))
    await slack.click(BOB, button(handoff, "I'll take it"))
    assert len(slack.fake.calls_to("chat.update")) == before
    assert len(slack.fake.calls_to("chat.postEphemeral")) == 1


async def test_teams_refuses_a_non_technician_in_the_technicians_channel(
        tmp_path: Path, parser: EmbeddedParser, clock: Clock) -> None:
    """The same in Teams: the invoke is answered to the clicker only, and the card is not touched."""
    async with running_teams(f"sqlite:///{tmp_path / 'teams.db'}", parser, clock) as teams:
        lines = await teams.say(ANN, "the copier on 3rd floor keeps jamming")
        lines = await teams.click(ANN, button(lines, "Submit"))
        take = button([line for line in lines if line["to"] == "technicians"], "Take it")
        await teams.say(BOB, "hi")  # known to the bot, but not a member of the technicians' channel
        status, answer = await teams.invoke(BOB, take, {"helpdesk_action": take})
        assert status == 200 and "only IT technicians" in answer["value"]
        assert teams.new_lines() == [] and not [c for c in teams.connector.calls if c.method == "PUT"]
        assert not rows(teams.bot, Ticket)[0].assignee
        assert any(e.actor == "bob@city.example" and e.outcome == "refused" for e in rows(teams.bot, AuditEntry))
