"""Slack's agent panel on the wire: signed ``assistant_thread_started`` and thread messages in, the fake's
``assistant.threads.*`` calls and the answers out; every skill answers there as it does in a DM."""

from __future__ import annotations

from bot.channels.slack.panel import STATUS, thread_title
from bot.engine.prompts import prompts_for
from bot.engine.skill import load_skills
from bot.store import Approval, KbQuery
from tests.channels.slack.harness import TECH_CHANNEL, SlackHarness
from tests.contracts.channel import ANN, BOB, TOM, button, rows


def _answers(lines: list[dict]) -> list[tuple[str, list[str]]]:
    return [(line["text"], [b["label"] for b in line["buttons"]]) for line in lines]


async def test_panel_greets_with_the_persons_prompts(slack: SlackHarness) -> None:
    """A new panel thread gets a greeting in the thread and the four prompts an employee may use."""
    thread, lines = await slack.open_panel(ANN)
    dm = slack.fake.user_by_email(ANN).dm
    [greeting] = lines
    assert greeting["thread"] == thread and greeting["to"] == ANN and "IT helpdesk" in greeting["text"]
    [call] = slack.fake.calls_to("assistant.threads.setSuggestedPrompts")
    assert (call.args["channel_id"], call.args["thread_ts"]) == (dm, thread)
    employee = await slack.channel.employee(slack.fake.user_by_email(ANN).id)
    assert employee is not None
    expected = [{"title": p.title, "message": p.message} for p in prompts_for(load_skills(), employee, 4)]
    assert slack.fake.threads[(dm, thread)]["prompts"] == expected
    assert [p["title"] for p in expected] == ["Reset my password", "Is email down?", "How do I …", "My tickets"]


async def test_panel_message_gets_a_status_a_title_and_the_dm_answer(slack: SlackHarness) -> None:
    """A message in the panel thread: status while it runs, the thread titled, the same answer as a DM (with its
    feedback buttons), in the thread; the feedback feeds the same outcome as in a DM."""
    thread, _ = await slack.open_panel(ANN)
    dm = slack.fake.user_by_email(ANN).dm
    question = "how do I connect to the VPN from home"
    before = len(slack.fake.calls)
    lines = await slack.say(ANN, question, thread=thread)
    state = slack.fake.threads[(dm, thread)]
    assert state["statuses"] == [STATUS, ""] and state["title"] == thread_title(question)
    # The status was set before the answer was posted, and cleared after.
    methods = [c.method for c in slack.fake.calls[before:] if c.method.startswith(("assistant.", "chat."))]
    assert methods == ["assistant.threads.setStatus", "assistant.threads.setTitle", "chat.postMessage",
                       "assistant.threads.setStatus"]
    assert all(line["thread"] == thread for line in lines)
    in_dm = await slack.say(BOB, question)
    assert _answers(lines) == _answers(in_dm) and _answers(lines)[0][1] == ["Yes, that helped", "No"]
    [answer] = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("thread_ts") == thread][-1:]
    assert [b["type"] for b in answer.args["blocks"]][-1] == "context_actions"  # Slack's feedback buttons
    # "No" on the feedback buttons: the question is marked unhelpful and a ticket is offered, as in a DM.
    offer = await slack.click(ANN, button(lines, "No"))
    assert any("open a ticket" in line["text"] for line in offer)
    assert {q.asked_by: q.outcome for q in rows(slack.bot, KbQuery)}[ANN] == "unhelpful"
    # The next message in the same thread is a new request, not a reply under the earlier answer.
    await slack.say(ANN, "is email down?", thread=thread)
    assert slack.fake.threads[(dm, thread)]["title"] == thread_title(question)  # titled once


async def test_panel_reset_goes_through_approval_as_in_a_dm(slack: SlackHarness) -> None:
    """Buttons and approvals work in the panel: Yes in the thread, Approve in the technicians' channel."""
    thread, _ = await slack.open_panel(ANN)
    lines = await slack.say(ANN, "I forgot my password", thread=thread)
    assert lines[0]["thread"] == thread and button(lines, "Yes")
    lines = await slack.click(ANN, button(lines, "Yes"))
    assert any(line["to"] == "technicians" for line in lines)
    card = [line for line in lines if line["to"] == "technicians"][0]
    await slack.click(TOM, button([card], "Approve"))
    [approval] = rows(slack.bot, Approval)
    assert approval.status == "approved" and approval.decided_by == TOM
    assert TECH_CHANNEL in {c.args["channel"] for c in slack.fake.calls_to("chat.update")}
