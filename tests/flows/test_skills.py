"""The other skills end to end: tickets, outage status, phishing, announcements, hand-off."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Bot
from bot.store import Notice, Ticket
from tests.support import Chat, button, form_of, initial_values, texts

ANN, BOB, TOM, TIA = "ann@city.example", "bob@city.example", "tom@city.example", "tia@city.example"


def tickets(bot: Bot) -> list[Ticket]:
    """Every ticket row."""
    return list(bot.db.call(lambda s: s.exec(select(Ticket).order_by(Ticket.id)).all()))


async def test_open_ticket_with_preview(chat: Chat, bot: Bot) -> None:
    """A described problem goes straight to a preview; Submit files it and tells the technicians."""
    lines = await chat.say(ANN, "the printer on the 2nd floor keeps jamming, can someone fix it asap")
    preview = texts(lines)
    assert "Summary: the printer on the 2nd floor keeps jamming" in preview
    assert "System: Printing" in preview and "Urgency: high" in preview
    lines = await chat.click(ANN, button(lines, "Submit"))
    assert "ticket HELP-1 is open" in texts(lines, to=ANN)
    assert "New ticket HELP-1 from ann@city.example" in texts(lines, to="technicians")
    [ticket] = tickets(bot)
    assert (ticket.reporter, ticket.system, ticket.urgency, ticket.status) == (ANN, "printer", "high", "open")


async def test_open_ticket_asks_for_what_is_missing(chat: Chat, bot: Bot) -> None:
    """'Open a ticket' alone makes the bot ask what the problem is, then preview it."""
    lines = await chat.say(ANN, "can you open a ticket for me")
    assert "what is the problem" in texts(lines).lower()
    lines = await chat.say(ANN, "my second monitor stays black after the update")
    assert "Summary: my second monitor stays black after the update" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Edit"))
    assert "corrected description" in texts(lines)
    lines = await chat.say(ANN, "no")
    assert "dropped" in texts(lines)
    assert tickets(bot) == []


async def test_duplicate_offer(chat: Chat, bot: Bot) -> None:
    """With an open ticket on the same system, the bot offers to add to it instead."""
    lines = await chat.say(ANN, "outlook keeps crashing when I open attachments")
    await chat.click(ANN, button(lines, "Submit"))
    lines = await chat.say(ANN, "outlook keeps freezing and wont send my emails")
    assert "already have an open ticket about outlook: HELP-1" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Add to it"))
    assert "Added to HELP-1" in texts(lines)
    assert len(tickets(bot)) == 1


async def test_status_own_and_someone_elses(chat: Chat, bot: Bot) -> None:
    """An employee sees their own ticket, privately; someone else's is refused; a technician sees any."""
    lines = await chat.say(ANN, "my laptop fan is very loud and the laptop gets hot")
    await chat.click(ANN, button(lines, "Submit"))
    own = await chat.say(ANN, "any update on HELP-1?")
    assert "HELP-1:" in texts(own) and "Status: open" in texts(own) and own[0]["private"] is True
    other = await chat.say(BOB, "what's the status of HELP-1")
    assert "can't find a ticket of yours" in texts(other)
    assert "laptop fan" not in texts(other)
    tech = await chat.say(TOM, "status of ticket help-1")
    assert "HELP-1:" in texts(tech)
    mine = await chat.say(ANN, "show me my tickets")
    assert "HELP-1 (open)" in texts(mine)


async def test_outage_status_without_and_with_a_notice(chat: Chat, bot: Bot) -> None:
    """No notice: the bot offers to report it. After a technician announces, it answers from the notice."""
    lines = await chat.say(ANN, "is outlook down right now?")
    assert "don't know of any problem with Outlook (email)" in texts(lines)
    assert button(lines, "Report it")
    await chat.say(TIA, "hello")
    lines = await chat.say(TOM, "announce outlook is down for everyone, we are working on it")
    form = form_of(lines)
    lines = await chat.submit(TOM, form["submit"], initial_values(form))
    card = await chat.click(TOM, button(lines, "Ask for approval"))
    lines = await chat.click(TIA, button(card, "Approve"))
    assert "Sent notice #1 to 2 people." in texts(lines, to=TOM)
    assert "IT outage: Outlook is down for everyone" in texts(lines, to=ANN)
    lines = await chat.say(ANN, "is email down?")
    assert "IT knows about this" in texts(lines)
    notices = bot.db.call(lambda s: s.exec(select(Notice)).all())
    assert [n.systems for n in notices] == [["outlook"]]


async def test_announcement_cannot_page_everyone(chat: Chat, bot: Bot) -> None:
    """@channel and @everyone in a notice are defused; only the composer's explicit option pages a channel."""
    await chat.say(ANN, "hello")
    lines = await chat.say(TOM, "announce @channel the vpn is down @everyone")
    form = form_of(lines)
    lines = await chat.submit(TOM, form["submit"], initial_values(form, audience="listed", departments="",
                                                                  channels="general"))
    assert "@channel" not in texts(lines)
    await chat.say(ANN, "hello", conversation="general")
    lines = await chat.click(TOM, button(lines, "Send it"))
    [sent] = [line for line in lines if line["to"] == "general"]
    assert "vpn" in sent["text"].lower() and "@channel" not in sent["text"] and "@everyone" not in sent["text"]
    assert "mention" not in sent
    lines = await chat.say(TOM, "announce @channel the vpn is down @everyone")
    form = form_of(lines)
    lines = await chat.submit(TOM, form["submit"], initial_values(form, audience="listed", departments="",
                                                                  channels="general", mentions="yes"))
    lines = await chat.click(TOM, button(lines, "Send it"))
    [sent] = [line for line in lines if line["to"] == "general"]
    assert sent["mention"] == "channel" and "@channel" not in sent["text"]


async def test_phishing_clicked_is_urgent(chat: Chat, bot: Bot) -> None:
    """A phishing report where a link was clicked alerts technicians, opens an urgent ticket, offers a reset."""
    lines = await chat.say(ANN, "I got a weird email asking me to verify my password and I clicked the link")
    assert "security@city.example" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Yes"))
    assert "URGENT security" in texts(lines, to="technicians")
    [ticket] = tickets(bot)
    assert ticket.urgency == "urgent"
    lines = await chat.click(ANN, button(lines, "Reset my password now"))
    assert "Do you want me to reset the password" in texts(lines)


async def test_phishing_not_clicked(chat: Chat, bot: Bot) -> None:
    """A report without a click thanks the employee and only informs the technicians."""
    lines = await chat.say(ANN, "i think this email from the mayor asking for gift cards is a scam")
    lines = await chat.click(ANN, button(lines, "No"))
    assert "you are safe" in texts(lines)
    assert "Phishing report from ann@city.example" in texts(lines, to="technicians")
    assert tickets(bot) == []


async def test_handoff_taken_by_a_technician(chat: Chat, bot: Bot) -> None:
    """A technician takes a hand-off from the technicians' conversation, and the employee is told."""
    lines = await chat.say(ANN, "can I talk to a real person please")
    take = button(lines, "I'll take it")
    refused = await chat.click(BOB, take)
    assert "Only technicians" in texts(refused)
    lines = await chat.click(TOM, take)
    assert "tom from IT will contact you" in texts(lines, to=ANN)
