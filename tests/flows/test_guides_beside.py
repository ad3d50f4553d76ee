"""Self-service first: a guide that surely covers a request is shown before it, and the request stays one
click away (issue 14). End to end through the console channel."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.core.settings import PROJECT_ROOT
from bot.nlu import EmbeddedParser
from bot.store import Approval, KbQuery, OutageReport, Ticket
from tests.support import Chat, button, make_settings, running_bot, texts

ANN = "ann@city.example"
TOM = "tom@city.example"


def labels(lines: list[dict]) -> list[str]:
    """Every button label in ``lines``, in order."""
    return [b["label"] for line in lines for b in line["buttons"]]


async def test_a_reset_request_shows_the_self_service_guide_then_the_offer(chat: Chat, bot: Bot) -> None:
    """"I forgot my password": the self-service guide first, then the technician reset as Yes/No; "That fixed
    it" drops the offer, so a later Yes does nothing."""
    lines = await chat.say(ANN, "i forgot my password")
    assert lines[0]["text"].startswith("This guide often fixes that")
    assert "*Reset a forgotten password yourself*" in lines[0]["text"]
    assert labels(lines) == ["That fixed it", "No", "Yes", "No"]
    logged = bot.db.call(lambda s: s.exec(select(KbQuery)).all())
    assert [q.article_id for q in logged] == ["self-service-password-reset"]
    fixed = await chat.click(ANN, button(lines, "That fixed it"))
    assert "haven't sent anything on" in texts(fixed)
    late = await chat.click(ANN, button(lines, "Yes"))
    assert "no longer open" in texts(late)
    assert bot.db.call(lambda s: s.exec(select(Approval)).all()) == []


async def test_the_offer_beside_the_guide_still_works(chat: Chat, bot: Bot) -> None:
    """The guide does not stand in the way: "No" under it is noted for the guide's figures and leaves the
    offer open; Yes asks a technician as before."""
    lines = await chat.say(ANN, "i forgot my password")
    guide_no = next(b["id"] for b in lines[0]["buttons"] if b["label"] == "No")
    noted = await chat.click(ANN, guide_no)
    assert "still there above" in texts(noted)
    assert [q.outcome for q in bot.db.call(lambda s: s.exec(select(KbQuery)).all())] == ["unhelpful"]
    sent = await chat.click(ANN, button(lines, "Yes"))
    assert "technician" in texts(sent, to=ANN)
    assert len(bot.db.call(lambda s: s.exec(select(Approval)).all())) == 1


async def test_an_outage_question_with_nothing_known_down_gets_the_guide(chat: Chat, bot: Bot) -> None:
    """Nothing is known to be down: the guide that fixes it here and now, then "Report it"; with a notice
    posted, the notice answers and no guide is shown."""
    question = "the shared drive is gone from my computer, is it down?"
    lines = await chat.say(ANN, question)
    assert "*Find and reconnect your S drive" in lines[0]["text"]
    assert "don't know of any problem" in texts(lines) and labels(lines) == ["That fixed it", "No", "Report it"]
    await bot.notices.post(kind="outage", title="Shared drives are down", body="", systems=["shared drive"],
                           author=TOM)
    lines = await chat.say(ANN, question)
    assert "IT knows about this" in texts(lines) and "That fixed it" not in labels(lines)


async def test_a_security_report_shows_no_guide_of_its_own(chat: Chat) -> None:
    """A report of a hacked account or of someone posing as IT gets its own advice, never a guide the
    knowledge base only half matched ("someone got into my email" is not how to send encrypted email)."""
    for text in ("i think somebody got into my email, there are sent messages i never wrote",
                 "a man called the front desk saying he was from IT and asked for my password"):
        lines = await chat.say(ANN, text)
        assert lines[0]["text"].startswith("This sounds urgent"), text
        assert "This guide" not in texts(lines)


async def test_a_likely_guide_is_answered_with_the_next_ones_beside_it(chat: Chat) -> None:
    """A how-to question the judge finds likely but not sure gets the likeliest guide, with the next ones as
    buttons, instead of a list to choose from, also when the NLU is unsure what the message is."""
    lines = await chat.say(ANN, "whats the it process when a clerk quits")  # the judge: 0.55
    assert "*IT checklist when an employee leaves" in lines[0]["text"]
    assert labels(lines)[:2] == ["Yes, that helped", "No"] and len(labels(lines)) > 2


async def test_the_guide_beside_a_reset_is_about_the_password(chat: Chat) -> None:
    """A reset request that also names a PIN or a computer code still gets the password guide, not the
    voicemail one: the account skill says what the guide should be about."""
    lines = await chat.say(ANN, "forgot my pin thing, the one i use for the computer and email both. could someone "
                                "reset it so i can get back in")
    assert "*Reset a forgotten password yourself*" in lines[0]["text"]
    assert labels(lines)[-2:] == ["Yes", "No"]



async def test_a_report_that_something_is_broken_for_many_previews_the_outage_report(chat: Chat, bot: Bot) -> None:
    """Telling (not asking) that something is down, with nothing known to be down: the report with the person's
    own words as a preview, Submit files the high-urgency ticket and counts the report; "Not now" sends nothing."""
    report = ("none of the desk phones on the 3rd floor have had a dial tone since about 7:45, planning and code "
              "enforcement both, calls just ring out")
    lines = await chat.say(ANN, "none of the desk phones have a dial tone, the whole 3rd floor")
    assert "don't know of any problem" in texts(lines) and labels(lines)[-2:] == ["Submit", "Not now"]
    dropped = await chat.click(ANN, button(lines, "Not now"))
    assert "nothing was sent" in texts(dropped)
    lines = await chat.say(ANN, report)
    filed = await chat.click(ANN, button(lines, "Submit"))
    assert "reported it to the IT team" in texts(filed) and "Outage report from" in texts(filed, to="technicians")
    (ticket,) = bot.db.call(lambda s: s.exec(select(Ticket)).all())
    assert ticket.urgency == "high" and "7:45" in ticket.description
    assert len(bot.db.call(lambda s: s.exec(select(OutageReport)).all())) == 1


async def test_report_it_after_an_outage_question_keeps_the_question(chat: Chat, bot: Bot) -> None:
    """"Report it" under "is the vpn down?" files the ticket with what the person wrote, for the technician."""
    lines = await chat.say(ANN, "is the vpn down? it kicks me off every 5 minutes since lunch")
    await chat.click(ANN, button(lines, "Report it"))
    (ticket,) = bot.db.call(lambda s: s.exec(select(Ticket)).all())
    assert ticket.summary.endswith("seems to be down") and "every 5 minutes" in ticket.description


@pytest.fixture
def request_kb(database_url: str, parser: EmbeddedParser, tmp_path: Path) -> Iterator[tuple[Bot, Path]]:
    """A bot on a copy of three real articles, one of them a guide to asking IT for something (``request: true``);
    a guide shown beside a request from confidence 0.5, since a three-article index judges lower than the whole."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ("request-new-hardware.md", "outlook-out-of-office.md", "vpn-from-home.md"):
        shutil.copy(PROJECT_ROOT / "data" / "kb" / name, folder / name)
    with running_bot(make_settings(database_url, kb_dir=folder, kb_beside_confidence=0.5), nlu=parser) as instance:
        yield instance, folder


async def test_a_need_told_that_a_guide_says_to_ask_it_for_gets_the_preview(request_kb: tuple[Bot, Path]) -> None:
    """A need told, read as a how-to question, that a guide with ``request: true`` covers: the guide first, the
    ticket preview right under it. Without the flag, the same message gets the guide alone; asking how always
    does."""
    bot, folder = request_kb
    chat = Chat(bot)
    need = "i'd really like a second monitor, i spend all day flipping between munis and email on one small screen"
    lines = await chat.say(ANN, need)
    assert "*Request new hardware" in texts(lines) and "Submit" in labels(lines)
    lines = await chat.say(TOM, "how do i ask for a second monitor for my desk")
    assert "*Request new hardware" in texts(lines) and "Submit" not in labels(lines)
    article = folder / "request-new-hardware.md"
    article.write_text(article.read_text(encoding="utf-8").replace("request: true\n", ""), encoding="utf-8")
    assert bot.reload_kb_if_changed() is True
    lines = await chat.say("bob@city.example", need)
    assert "*Request new hardware" in texts(lines) and "Submit" not in labels(lines)


async def test_blank_pages_from_a_printer_get_the_printer_guide_beside_the_preview(chat: Chat) -> None:
    """"the printer in the mailroom keeps spitting out blank sheets": the printer guide now tells what to do about
    blank or faded pages (the toner, the tape on a new cartridge), so it is shown before the ticket preview, where
    only the preview came."""
    lines = await chat.say(ANN, "the printer in the mailroom keeps spitting out blank sheets")
    assert "*Printer not printing" in texts(lines) and "Submit" in labels(lines)
