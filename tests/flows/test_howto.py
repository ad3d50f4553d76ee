"""How-to answers end to end: the answer, feedback, the honest no-answer, gaps, and reloading the KB."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.core.settings import PROJECT_ROOT
from bot.nlu import EmbeddedParser
from bot.services.questions import QuestionLog
from bot.store import KbQuery, Ticket
from tests.support import Chat, Clock, button, make_settings, running_bot, texts

ANN, BOB = "ann@city.example", "bob@city.example"
OUT_OF_OFFICE = "how do i set up my out of office reply in outlook"


def outcomes(bot: Bot) -> list[tuple[str, str | None, str]]:
    """(question, article, outcome) of every logged how-to question."""
    rows = bot.db.call(lambda s: s.exec(select(KbQuery).order_by(KbQuery.id)).all())
    return [(r.question, r.article_id, r.outcome) for r in rows]


async def test_answer_gives_first_steps_link_and_feedback(chat: Chat, bot: Bot) -> None:
    """An answer names the article, gives its first steps (not the whole article) and a link."""
    lines = await chat.say(ANN, OUT_OF_OFFICE)
    answer = texts(lines)
    assert "out-of-office" in answer.lower() or "automatic replies" in answer.lower()
    assert "1." in answer and "https://intranet.city.example/kb/outlook-out-of-office" in answer
    article = next(a for a in bot.kb.articles if a.id == "outlook-out-of-office")
    assert len(answer) < len(article.body)
    assert [b["label"] for b in lines[0]["buttons"]] == ["Yes, that helped", "No"]
    lines = await chat.click(ANN, button(lines, "Yes, that helped"))
    assert "glad that helped" in texts(lines)
    assert outcomes(bot) == [(OUT_OF_OFFICE, "outlook-out-of-office", "helpful")]


@pytest.mark.parametrize(("question", "title"), [
    ("my carrier is sending me a new phone next week, what do i need to do before it comes for my work login "
     "approvals", "*Move MFA to a new or replacement phone"),
    ("my id card went through the dryer with my uniform and split down the middle, how do i get another one made",
     "*Lost, stolen, or broken ID badge"),
])
async def test_questions_the_guides_were_missing_get_them(chat: Chat, question: str, title: str) -> None:
    """A phone about to be replaced (not yet new) is the guide on moving MFA, not the first-time setup; a badge
    ruined in the wash or snapped is the broken-badge guide, not the one for asking for door access."""
    lines = await chat.say(ANN, question)
    assert title in texts(lines)


async def test_unhelpful_answer_offers_a_filled_in_ticket(chat: Chat, bot: Bot) -> None:
    """'No' offers a ticket that already holds the question and the article that did not help."""
    lines = await chat.say(ANN, OUT_OF_OFFICE)
    lines = await chat.click(ANN, button(lines, "No"))
    lines = await chat.click(ANN, button(lines, "Open a ticket"))
    assert f"Summary: {OUT_OF_OFFICE}" in texts(lines)
    await chat.click(ANN, button(lines, "Submit"))
    [ticket] = bot.db.call(lambda s: s.exec(select(Ticket)).all())
    assert OUT_OF_OFFICE in ticket.description and "outlook-out-of-office" in ticket.description
    assert outcomes(bot)[0][2] == "unhelpful"


async def test_feedback_only_once_and_only_from_the_asker(chat: Chat, bot: Bot) -> None:
    """Someone else's click, or a second click, does not change the recorded feedback."""
    lines = await chat.say(ANN, OUT_OF_OFFICE)
    no = button(lines, "No")
    other = await chat.click(BOB, no)
    assert "only take one answer from the person who asked" in texts(other)
    await chat.click(ANN, button(lines, "Yes, that helped"))
    again = await chat.click(ANN, no)
    assert "only take one answer" in texts(again)
    assert outcomes(bot)[0][2] == "helpful"


async def test_no_answer_is_honest_and_offers_a_ticket(chat: Chat, bot: Bot) -> None:
    """With no article that fits, the bot says so instead of guessing, and offers a ticket."""
    lines = await chat.say(ANN, "how do i calibrate the plotter in the gis lab")
    assert "don't have a guide for that" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Open a ticket"))
    assert "Summary: how do i calibrate the plotter in the gis lab" in texts(lines)
    assert outcomes(bot) == [("how do i calibrate the plotter in the gis lab", None, "unanswered")]


async def test_gaps_are_grouped_and_counted(chat: Chat, bot: Bot) -> None:
    """Unanswered and unhelpful questions group by what they ask, most frequent first."""
    for who, question in [(ANN, "how do i calibrate the plotter in the gis lab"),
                          (BOB, "how do i calibrate the gis plotter"),
                          (ANN, "how do i add a watermark in word")]:
        await chat.say(who, question)
    lines = await chat.say(BOB, OUT_OF_OFFICE)
    await chat.click(BOB, button(lines, "No"))
    gaps = QuestionLog(bot.db, bot.clock).gaps()
    assert [gap.count for gap in gaps] == [2, 1, 1]
    assert "plotter" in gaps[0].examples[0]
    assert any(gap.articles == {"outlook-out-of-office"} for gap in gaps)
    assert QuestionLog(bot.db, bot.clock).gaps(since=bot.clock() + timedelta(minutes=1)) == []


@pytest.fixture
def kb_folder(tmp_path: Path) -> Path:
    """A copy of three real articles that a test may change."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ("outlook-out-of-office.md", "vpn-from-home.md", "scan-to-email.md"):
        shutil.copy(PROJECT_ROOT / "data" / "kb" / name, folder / name)
    return folder


@pytest.fixture
def own_kb_bot(database_url: str, parser: EmbeddedParser, clock: Clock, kb_folder: Path) -> Iterator[Bot]:
    """A bot on its own knowledge base folder."""
    with running_bot(make_settings(database_url, kb_dir=kb_folder), nlu=parser, clock=clock) as instance:
        yield instance


NEW_ARTICLE = """---
id: plotter-calibration
title: Calibrate the large-format plotter in the GIS lab
tags: [plotter, gis, calibrate, large format printer]
systems: [printer]
audience: GIS staff
updated: 2026-11-01
---
The GIS lab plotter drifts after a roll change; calibrate it before big print runs.

## Steps
1. On the plotter's touch panel, open Settings, then Calibration.
2. Choose Color calibration and load a full roll of matte paper.
3. Wait for the test sheet to print and the plotter to read it.
"""


async def test_reindex_picks_up_a_new_article(own_kb_bot: Bot, kb_folder: Path) -> None:
    """A new file in the folder is answered after the watcher's next look, with no restart."""
    chat = Chat(own_kb_bot)
    question = "how do i calibrate the plotter in the gis lab"
    assert "don't have a guide" in texts(await chat.say(ANN, question))
    assert own_kb_bot.reload_kb_if_changed() is False
    (kb_folder / "plotter-calibration.md").write_text(NEW_ARTICLE, encoding="utf-8")
    assert own_kb_bot.reload_kb_if_changed() is True
    lines = await chat.say(ANN, question)
    assert "Calibrate the large-format plotter" in texts(lines)


async def test_a_broken_article_is_named_and_the_rest_still_answer(own_kb_bot: Bot, kb_folder: Path) -> None:
    """A bad front matter is reported with its file and line; the other articles keep working."""
    (kb_folder / "broken.md").write_text("---\nid: broken\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    own_kb_bot.reload_kb_if_changed()
    [problem] = own_kb_bot.kb.errors
    assert "broken.md:" in problem and problem.split("broken.md:")[1][:1].isdigit()
    assert len(own_kb_bot.kb.articles) == 3
    lines = await Chat(own_kb_bot).say(ANN, "how do i connect to the vpn from home")
    assert "VPN" in texts(lines)


async def test_an_empty_folder_answers_honestly(own_kb_bot: Bot, kb_folder: Path) -> None:
    """With no articles at all, how-to questions get the honest answer and a ticket offer."""
    for path in kb_folder.glob("*.md"):
        path.unlink()
    own_kb_bot.reload_kb_if_changed()
    assert own_kb_bot.kb.articles == []
    lines = await Chat(own_kb_bot).say(ANN, "how do i connect to the vpn from home")
    assert "don't have a guide" in texts(lines) and button(lines, "Open a ticket")
