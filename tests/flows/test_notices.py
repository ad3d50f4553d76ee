"""Announcements, outage status and phishing reports end to end, through the console channel.

Time is a test clock: the scheduler fires what is due when the test calls
``run_due``. Restarts are a second Bot on the same database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import Bot
from bot.channels.console.channel import ConsoleChannel
from bot.core.messages import Reply, Turn
from bot.nlu import EmbeddedParser
from bot.services.announcement_composer import read_composer
from bot.services.figures import Period, figures_for
from bot.store import Announcement, AuditEntry, Delivery, JobClaim, Notice, Ticket
from bot.surfaces.dashboard import desk_status
from tests.support import (
    Chat,
    Clock,
    button,
    form_of,
    fresh_postgres,
    initial_values,
    make_settings,
    running_bot,
    texts,
)

ANN, BOB, CAL, TOM, TIA = ("ann@city.example", "bob@city.example", "cal@city.example", "tom@city.example",
                           "tia@city.example")
CITY = "America/Chicago"


def settings(database_url: str, **overrides: Any) -> Any:
    """Test settings in the city's time zone."""
    return make_settings(database_url, timezone=CITY, **overrides)


@pytest.fixture
def city(database_url: str, parser: EmbeddedParser, clock: Clock) -> Iterator[Bot]:
    """A started bot whose city is in Chicago."""
    with running_bot(settings(database_url), nlu=parser, clock=clock) as instance:
        yield instance


@pytest.fixture
def talk(city: Bot) -> Chat:
    """The chat driver for ``city``."""
    return Chat(city)


async def meet(chat: Chat, *people: str) -> None:
    """Each person says hello once, so the bot can reach them."""
    for person in people:
        await chat.say(person, "hello")


async def compose(chat: Chat, user: str, text: str, **changes: str) -> list[dict[str, Any]]:
    """``user`` types ``text``, then submits the composer with ``changes``; the preview lines."""
    form = form_of(await chat.say(user, text))
    return await chat.submit(user, form["submit"], initial_values(form, **changes))


def rows(bot: Bot, model: type) -> list[Any]:
    """Every row of ``model`` in id order."""
    return list(bot.db.call(lambda s: s.exec(select(model).order_by(col(model.id))).all()))


def to(lines: list[dict[str, Any]], person: str) -> list[dict[str, Any]]:
    """The lines addressed to ``person``."""
    return [line for line in lines if line["to"] == person]


# Composing ------------------------------------------------------------------------


async def test_typed_start_prefills_the_composer(talk: Chat) -> None:
    """Kind, title, systems, start and end come from the sentence, read in the city's time zone."""
    lines = await talk.say(TOM, "announce email maintenance Saturday 6am to 10am")
    form = form_of(lines)
    values = initial_values(form)
    assert values["kind"] == "maintenance" and values["systems"] == "outlook"
    assert values["title"] == "Email maintenance"
    assert (values["start"], values["end"]) == ("2026-11-28 06:00", "2026-11-28 10:00")
    assert values["audience"] == "all" and values["schedule"] == "now"
    preview = await talk.submit(TOM, form["submit"], values)
    shown = texts(preview)
    assert "From: Sat 28 Nov 06:00 CST" in shown and "Expected end: Sat 28 Nov 10:00 CST" in shown
    assert "Audience: all staff" in shown and button(preview, "Ask for approval")


async def test_back_by_3pm_is_the_end_and_since_9am_is_this_morning(talk: Chat, clock: Clock) -> None:
    """Typed at 09:41: "back by 3pm" is an outage from now to 15:00 today, "since 9am" started at 09:00 today;
    the title keeps the technician's words, and staff read the system as they call it, not "erp"."""
    clock.now = datetime(2026, 11, 23, 15, 41, tzinfo=UTC)  # Mon 09:41 in Chicago
    await meet(talk, ANN)
    form = form_of(await talk.say(TOM, "announce outlook is down, we expect it back by 3pm"))
    values = initial_values(form)
    assert values["kind"] == "outage" and values["title"] == "Outlook is down, we expect it back by 3pm"
    assert (values["start"], values["end"]) == ("2026-11-23 09:41", "2026-11-23 15:00")
    form = form_of(await talk.say(TOM, "announce munis down for the clerks since 9am"))
    values = initial_values(form)
    assert values["systems"] == "erp" and values["title"] == "Munis down for the clerks since 9am"
    assert values["start"] == "2026-11-23 09:00" and not values["end"]
    preview = await talk.submit(TOM, form["submit"], initial_values(form, audience="listed", departments="",
                                                                    channels="general"))
    assert "From: Mon 23 Nov 09:00 CST" in texts(preview)
    assert "Affected: Munis (finance, payroll, timesheets)" in texts(preview)
    await talk.say(ANN, "hello", conversation="general")
    lines = await talk.click(TOM, button(preview, "Send it"))
    [sent] = [line for line in lines if line["to"] == "general"]
    assert "Affected: Munis (finance, payroll, timesheets)" in sent["text"] and "erp" not in sent["text"]


async def test_bad_values_keep_what_was_typed(talk: Chat, city: Bot) -> None:
    """A time that cannot be read re-opens the form with the values kept and a clear message."""
    lines = await compose(talk, TOM, "announce vpn upgrade", schedule="whenever you like", body="Details")
    assert "Not yet:" in texts(lines) and "could not read a time" in texts(lines)
    again = initial_values(form_of(lines))
    assert again["schedule"] == "whenever you like" and again["body"] == "Details"
    lines = await compose(talk, TOM, "announce vpn upgrade", title="")
    assert "needs a title" in texts(lines)
    lines = await compose(talk, TOM, "announce vpn upgrade", title="x" * 10_000)
    assert "keep it under 200" in texts(lines)
    assert rows(city, Announcement) == []


async def test_non_technician_cannot_announce(talk: Chat, city: Bot) -> None:
    """Typing it is refused; forging a composer submission or a Send click is refused too; both audited."""
    lines = await talk.say(ANN, "announce email maintenance Saturday 6am to 10am")
    assert "only technicians" in texts(lines).lower() and "form" not in lines[0]
    tech = await compose(talk, TOM, "announce vpn maintenance tonight 9pm", audience="listed", departments="IT")
    lines = await talk.submit(ANN, "skill:notices:compose:", {"title": "Free pizza", "audience": "all"})
    assert "only technicians" in texts(lines).lower()
    lines = await talk.click(ANN, button(tech, "Send it"))
    assert "only technicians" in texts(lines).lower()
    refused = [e for e in rows(city, AuditEntry) if e.actor == ANN and e.outcome == "refused"]
    assert len(refused) == 3
    assert [a.status for a in rows(city, Announcement)] == ["draft"]


async def test_all_staff_needs_a_second_technician(talk: Chat, city: Bot) -> None:
    """The author cannot approve their own broadcast; the second technician's approval sends it."""
    await meet(talk, ANN, BOB, TIA)
    preview = await compose(talk, TOM, "announce outlook is down")
    lines = await talk.click(TOM, button(preview, "Ask for approval"))
    card = to(lines, "technicians")
    assert "send notice #1 to all staff" in texts(card)
    assert "Not done" in texts(await talk.click(TOM, button(card, "Approve")))
    assert rows(city, Delivery) == []
    lines = await talk.click(TIA, button(card, "Approve"))
    assert "Sent notice #1 to 3 people." in texts(lines, to=TOM)
    progress = [line for line in lines if line.get("key") == "notice-progress:1"]
    assert progress[0]["text"] == "Sending notice #1 to 3 recipients." and "replaces" not in progress[0]
    assert progress[-1]["replaces"] == "notice-progress:1" and progress[-1]["to"] == TOM
    assert {line["to"] for line in lines if line["text"].startswith("IT outage")} == {ANN, BOB, TIA}
    [row] = rows(city, Announcement)
    assert (row.status, row.approved_by, row.sent, row.total) == ("sent", TIA, 3, 3)


async def test_an_edit_after_asking_voids_the_approval(talk: Chat, city: Bot) -> None:
    """Editing a notice that waits for approval withdraws the card; the old approval sends nothing,
    and what the second technician approves is exactly what goes out."""
    await meet(talk, ANN, TIA)
    preview = await compose(talk, TOM, "announce outlook is down")
    card = to(await talk.click(TOM, button(preview, "Ask for approval")), "technicians")
    form = form_of(await talk.click(TOM, button(preview, "Edit")))
    edited = await talk.submit(TOM, form["submit"], initial_values(
        form, title="Sign in again", body="sign in at http://evil.example/login"))
    withdrawn = [line for line in edited if line.get("replaces") == "approval:1"]
    assert withdrawn and "Withdrawn" in withdrawn[0]["text"] and not withdrawn[0]["buttons"]
    assert "already withdrawn" in texts(await talk.click(TIA, button(card, "Approve")))
    assert rows(city, Delivery) == []
    [row] = rows(city, Announcement)
    assert (row.status, row.approved_by) == ("draft", None)
    new_card = to(await talk.click(TOM, button(edited, "Ask for approval")), "technicians")
    assert "Sign in again" in texts(new_card) and "evil.example" in str(new_card)
    lines = await talk.click(TIA, button(new_card, "Approve"))
    assert {line["to"] for line in lines if "Sign in again" in line["text"]} >= {ANN, TIA}
    [row] = rows(city, Announcement)
    assert (row.status, row.approved_by) == ("sent", TIA)


async def test_a_change_behind_the_approval_is_not_sent(talk: Chat, city: Bot) -> None:
    """A row changed after approval was asked for by any path (not the composer) is refused at release."""
    await meet(talk, ANN, TIA)
    preview = await compose(talk, TOM, "announce outlook is down")
    card = to(await talk.click(TOM, button(preview, "Ask for approval")), "technicians")

    def tamper(session: Any) -> None:
        row = session.get(Announcement, 1)
        row.body = "sign in at http://evil.example/login"
        session.add(row)

    city.db.call(tamper)
    lines = await talk.click(TIA, button(card, "Approve"))
    assert "changed after" in texts(lines, to=TOM)
    assert rows(city, Delivery) == []
    [row] = rows(city, Announcement)
    assert row.status == "draft" and row.approved_by is None


async def test_one_person_broadcast_when_two_person_is_off(database_url: str, parser: EmbeddedParser,
                                                           clock: Clock) -> None:
    """With HELPDESK_BROADCAST_TWO_PERSON=false the author sends it straight away."""
    bot = Bot(settings(database_url, broadcast_two_person=False), nlu=parser, clock=clock)
    bot.start()
    try:
        chat = Chat(bot)
        await meet(chat, ANN)
        preview = await compose(chat, TOM, "announce outlook is down")
        lines = await chat.click(TOM, button(preview, "Send it"))
        assert "Sent notice #1 to 1 person." in texts(lines, to=TOM)
    finally:
        bot.close()


async def test_departments_and_groups(talk: Chat, city: Bot) -> None:
    """A department reaches its people only; user groups are skipped with a message when no channel knows them."""
    await city.identity.resolve("console", ANN, email=ANN, department="Parks", private_conversation=ANN)
    await city.identity.resolve("console", BOB, email=BOB, department="Police", private_conversation=BOB)
    preview = await compose(talk, TOM, "announce parks wifi maintenance", audience="listed",
                            departments="parks, Nowhere", groups="parks-staff")
    lines = await talk.click(TOM, button(preview, "Send it"))
    assert [line["to"] for line in lines if line["text"].startswith("Planned maintenance")] == [ANN]
    notes = texts(lines, to=TOM)
    assert "no connected chat platform knows user groups" in notes and "'nowhere'" in notes


async def test_user_groups_from_a_channel_that_knows_them(talk: Chat, city: Bot) -> None:
    """A channel with ``group_members`` resolves user groups to its members."""

    class GroupConsole(ConsoleChannel):
        name = "groups"

        async def group_members(self, handle: str) -> list[str]:
            return [BOB] if handle == "parks-staff" else []

    city.add_channel(GroupConsole(city))
    await meet(talk, ANN, BOB)
    preview = await compose(talk, TOM, "announce parks wifi maintenance", audience="listed", groups="@parks-staff")
    lines = await talk.click(TOM, button(preview, "Send it"))
    assert [line["to"] for line in lines if line["text"].startswith("Planned maintenance")] == [BOB]


# Scheduling ---------------------------------------------------------------------


async def test_scheduled_notice_survives_a_restart_and_goes_once(database_url: str, parser: EmbeddedParser,
                                                                 clock: Clock) -> None:
    """Scheduled for Saturday 8am, the bot restarts, and at 8am the new process sends it, once."""
    first = Bot(settings(database_url, broadcast_two_person=False), nlu=parser, clock=clock)
    first.start()
    chat = Chat(first)
    await meet(chat, ANN, BOB)
    preview = await compose(chat, TOM, "announce printer maintenance", schedule="Sat 8am")
    lines = await chat.click(TOM, button(preview, "Schedule"))
    assert "scheduled for Sat 28 Nov 08:00 CST" in texts(lines)
    assert await first.scheduler.run_due() == 0
    first.close()

    second = Bot(settings(database_url, broadcast_two_person=False), nlu=parser, clock=clock)
    second.start()
    try:
        chat = Chat(second)
        clock.now = datetime(2026, 11, 28, 14, 0, 1, tzinfo=UTC)  # 8:00:01 CST
        assert await second.scheduler.run_due() == 1
        assert await second.scheduler.run_due() == 0
        got = [line["to"] for line in chat.lines if line["text"].startswith("Planned maintenance")]
        assert sorted(got) == [ANN, BOB]
        assert second.scheduler.get("notice:1") is None
        [claim] = rows(second, JobClaim)
        assert claim.outcome == "done"
    finally:
        second.close()


async def test_late_runs_go_within_the_grace_time_and_are_reported_after(talk: Chat, city: Bot,
                                                                         clock: Clock) -> None:
    """Five minutes late it is sent; two hours late it is reported to the technicians and not sent."""
    await meet(talk, ANN)
    for title in ("early", "late"):
        form = form_of(await talk.say(TOM, "announce something"))
        values = initial_values(form, title=title, audience="listed", departments="", channels="general",
                                schedule="10am" if title == "early" else "11am")
        await talk.click(TOM, button(await talk.submit(TOM, form["submit"], values), "Schedule"))
    clock.now = datetime(2026, 11, 23, 16, 5, tzinfo=UTC)  # 10:05 CST
    await city.scheduler.run_due()
    assert any(line["to"] == "general" and "early" in line["text"] for line in talk.lines)
    clock.now = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # 13:00 CST, two hours after 11:00
    start = len(talk.lines)
    await city.scheduler.run_due()
    lines = talk.lines[start:]
    assert "was NOT sent" in texts(lines, to="technicians")
    assert not any(line["to"] == "general" for line in lines)
    assert [a.status for a in rows(city, Announcement)] == ["sent", "missed"]


async def test_recurring_notice_every_first_monday(talk: Chat, city: Bot, clock: Clock) -> None:
    """'every first Monday 8am' goes on the first Mondays at 8am Chicago time, once each, until stopped."""
    await meet(talk, ANN)
    preview = await compose(talk, TOM, "announce mfa reminder", audience="listed", departments="",
                            channels="general", schedule="every first Monday 8am", title="Enroll in MFA")
    lines = await talk.click(TOM, button(preview, "Schedule"))
    assert "will go out on its schedule" in texts(lines)
    sent: list[str] = []
    for moment in (datetime(2026, 12, 7, 14, 0, tzinfo=UTC), datetime(2027, 1, 4, 14, 0, tzinfo=UTC)):
        clock.now = moment
        await city.scheduler.run_due()
        await city.scheduler.run_due()
        sent = [line["text"] for line in talk.lines if line["to"] == "general"]
    assert len(sent) == 2
    occurrences = [a for a in rows(city, Announcement) if a.series_id == 1]
    assert [a.occurrence_at for a in occurrences] == [datetime(2026, 12, 7, 14, 0, tzinfo=UTC),
                                                      datetime(2027, 1, 4, 14, 0, tzinfo=UTC)]
    await talk.click(TOM, button(lines, "Stop it"))
    clock.now = datetime(2027, 2, 1, 14, 0, tzinfo=UTC)
    assert await city.scheduler.run_due() == 0


async def test_edit_and_cancel_before_it_goes_out(talk: Chat, city: Bot, clock: Clock) -> None:
    """A scheduled notice is edited (new title and time) and later cancelled; nothing is sent."""
    await meet(talk, ANN)
    preview = await compose(talk, TOM, "announce vpn upgrade", audience="listed", departments="",
                            channels="general", schedule="tomorrow 9am")
    scheduled = await talk.click(TOM, button(preview, "Schedule"))
    form = form_of(await talk.click(TOM, button(scheduled, "Edit")))
    assert initial_values(form)["schedule"] == "2026-11-24 09:00"
    preview = await talk.submit(TOM, form["submit"], initial_values(form, title="VPN upgrade moved",
                                                                     schedule="tomorrow 10am"))
    assert "Title: VPN upgrade moved" in texts(preview) and "Tue 24 Nov 10:00 CST" in texts(preview)
    scheduled = await talk.click(TOM, button(preview, "Schedule"))
    [row] = rows(city, Announcement)
    assert (row.title, row.status) == ("VPN upgrade moved", "scheduled")
    assert city.scheduler.get("notice:1").next_run_time == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    lines = await talk.click(TOM, button(scheduled, "Cancel it"))
    assert "cancelled" in texts(lines)
    clock.now = datetime(2026, 11, 25, tzinfo=UTC)
    assert await city.scheduler.run_due() == 0
    assert not any(line["to"] == "general" for line in talk.lines)
    assert rows(city, Delivery) == []


# Follow-ups, acknowledgements, reminders -------------------------------------------------


async def announce_outage(chat: Chat, **changes: str) -> list[dict[str, Any]]:
    """Tom announces an email outage (approved by Tia); the lines of the send."""
    preview = await compose(chat, TOM, "announce email outage", start="8am", end="1pm", **changes)
    card = await chat.click(TOM, button(preview, "Ask for approval"))
    return await chat.click(TIA, button(card, "Approve"))


async def test_outage_status_updates_and_resolved(talk: Chat, city: Bot, clock: Clock) -> None:
    """'Is email down?' answers from the notice; updates reach everyone in the thread; resolved tells subscribers."""
    await meet(talk, ANN, BOB, TIA)
    clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 9am CST
    sent = await announce_outage(talk, systems="Email")  # the NLU's name for it is "outlook"
    lines = await talk.say(ANN, "is email down?")
    answer = texts(lines)
    assert "Email outage: since Mon 23 Nov 08:00 CST, expected to be back by Mon 23 Nov 13:00 CST" in answer
    await talk.click(ANN, button(lines, "Tell me when it's fixed"))

    form = form_of(await talk.click(TOM, button(sent, "Post an update")))
    lines = await talk.submit(TOM, form["submit"], {"text": "Microsoft says a fix is rolling out."})
    updates = [line for line in lines if line["text"].startswith("Update:")]
    assert {line["to"] for line in updates} == {ANN, BOB, TIA}
    assert all(line["thread"] == f"notice:1:user:{line['to']}" for line in updates)
    assert "Latest update (Mon 23 Nov 09:00 CST): Microsoft says a fix is rolling out." in texts(
        await talk.say(BOB, "is outlook down"))

    form = form_of(await talk.click(TOM, button(sent, "Resolved")))
    lines = await talk.submit(TOM, form["submit"], initial_values(form))
    assert {line["to"] for line in lines if line["text"].startswith("Update: Resolved")} == {ANN, BOB, TIA}
    assert "Outlook (email) is working again" in texts(lines, to=ANN)
    assert [n.status for n in rows(city, Notice)] == ["resolved"]
    assert "don't know of any problem with Outlook (email)" in texts(await talk.say(ANN, "is email down?"))


async def test_acknowledgements_report_and_reminders(talk: Chat, city: Bot, clock: Clock) -> None:
    """Ann acknowledges; the report shows who has not; after HELPDESK_ACK_REMINDER only Bob is reminded, once."""
    await meet(talk, ANN, BOB, TIA)
    sent = await announce_outage(talk, ack="yes")
    notice = next(line for line in sent if line["to"] == ANN)
    lines = await talk.click(ANN, button([notice], "I have read this"))
    assert "noted" in texts(lines)
    assert "already" in texts(await talk.click(ANN, button([notice], "I have read this")))
    lines = await talk.click(TOM, button(sent, "Who has read it"))
    assert "1 of 3 have read it" in texts(lines) and "bob@city.example, tia@city.example" in texts(lines)
    assert (await desk_status(city)).announcements[0]["acknowledged"] == "1"
    clock.advance(minutes=1)
    shown = (await figures_for(city, Period.last_days(7, clock()))).announcement_figures
    assert [(n["delivered"], n["acknowledged"], n["unacknowledged"]) for n in shown] == [(3, 1, 2)]
    clock.advance(hours=23)
    assert await city.scheduler.run_due() == 0
    clock.advance(minutes=59, seconds=1)
    start = len(talk.lines)
    assert await city.scheduler.run_due() == 1
    reminded = {line["to"] for line in talk.lines[start:] if line["text"].startswith("Reminder")}
    assert reminded == {BOB, TIA}
    assert "Reminded 2 people" in texts(talk.lines[start:], to=TOM)
    assert await city.announcements.remind(1) == 0


# Outage status and reports ------------------------------------------------------------


async def test_no_notice_offers_a_report_and_three_reports_alert(talk: Chat, city: Bot, clock: Clock) -> None:
    """Each report opens a ticket and tells the technicians; the third person in 15 minutes makes it probable."""
    for number, person in enumerate((ANN, BOB, ANN, CAL)):
        lines = await talk.say(person, "is the vpn down")
        assert "don't know of any problem with VPN" in texts(lines)
        lines = await talk.click(person, button(lines, "Report it"))
        assert f"ticket HELP-{number + 1}" in texts(lines, to=person)
        clock.advance(minutes=4)
    alerts = [line for line in talk.lines if line["text"].startswith("Probable outage")]
    assert len(alerts) == 1 and "3 people reported vpn down" in alerts[0]["text"]
    assert [t.system for t in rows(city, Ticket)] == ["vpn"] * 4
    form = form_of(await talk.click(TOM, button(alerts, "Announce an outage")))
    assert initial_values(form)["kind"] == "outage" and initial_values(form)["systems"] == "vpn"
    clock.advance(minutes=30)
    lines = await talk.click(BOB, button(await talk.say(BOB, "is the vpn down"), "Report it"))
    assert not [line for line in lines if line["text"].startswith("Probable outage")]


# Phishing ------------------------------------------------------------------------


async def test_phishing_yes_alerts_the_security_conversation(database_url: str, parser: EmbeddedParser,
                                                             clock: Clock) -> None:
    """With HELPDESK_SECURITY_CHANNEL the urgent alert goes there; one click makes a security notice draft."""
    bot = Bot(settings(database_url, security_channel="console:security"), nlu=parser, clock=clock)
    bot.start()
    try:
        chat = Chat(bot)
        lines = await chat.say(ANN, "I got an email saying my mailbox is full and to click a link")
        assert "security@city.example" in texts(lines)
        lines = await chat.click(ANN, button(lines, "Yes"))
        alert = to(lines, "security")
        assert "URGENT security" in texts(alert)
        assert button(lines, "Reset my password now")
        [ticket] = rows(bot, Ticket)
        assert ticket.urgency == "urgent" and "mailbox is full" in ticket.description
        refused = await chat.click(ANN, button(alert, "Turn into a security notice"))
        assert "only technicians" in texts(refused).lower()
        preview = await chat.click(TOM, button(alert, "Turn into a security notice"))
        assert "Title: Phishing warning" in texts(preview) and "mailbox is full" in texts(preview)
        assert button(preview, "Ask for approval")
    finally:
        bot.close()


async def test_phishing_no_informs_without_a_ticket(talk: Chat, city: Bot) -> None:
    """No click: safe next steps, the technicians' conversation is told, no ticket."""
    lines = await talk.say(ANN, "i think this email from the mayor asking for gift cards is a scam")
    lines = await talk.click(ANN, button(lines, "No"))
    assert "you are safe" in texts(lines)
    assert "Phishing report from ann@city.example" in texts(lines, to="technicians")
    assert rows(city, Ticket) == []


# Crash and replicas ---------------------------------------------------------------------


class ProcessDied(BaseException):
    """Stands for the process being killed: nothing of ours catches it."""


class DyingConsole(ConsoleChannel):
    """A console that 'crashes the process' after ``limit`` sends, and can say what already arrived."""

    def __init__(self, bot: Bot, limit: int | None = None) -> None:
        super().__init__(bot)
        self.limit = limit
        self.arrived: set[str] = set()

    async def send(self, reply: Reply, origin: Turn | None) -> None:
        if self.limit is not None and reply.key and reply.key.startswith("notice:"):
            if self.limit == 0:
                raise ProcessDied("the process died")
            self.limit -= 1
            self.arrived.add(reply.key)
        await super().send(reply, origin)

    async def was_delivered(self, reply: Reply) -> bool:
        return reply.key in self.arrived


async def test_a_crash_mid_fan_out_resumes_without_duplicates(database_url: str, parser: EmbeddedParser,
                                                              clock: Clock) -> None:
    """The sender dies after 7 of 30; after a restart it finishes: everyone once, nobody twice."""
    people = [f"person{n:02d}@city.example" for n in range(30)]
    first = Bot(settings(database_url, broadcast_two_person=False, fanout_concurrency=4), nlu=parser, clock=clock)
    first.start()
    dying = DyingConsole(first, limit=7)
    first.add_channel(dying)
    for person in people:
        await first.identity.resolve("console", person, email=person, private_conversation=person)
    draft = await first.announcements.save_draft(
        read_composer({"title": "Email outage", "kind": "outage"}, clock(), CITY), TOM)
    with pytest.raises(BaseExceptionGroup) as died:
        await first.announcements.release(int(draft.id or 0))
    assert died.group_contains(ProcessDied)
    first.close()

    second = Bot(settings(database_url, broadcast_two_person=False), nlu=parser, clock=clock)
    second.start()
    try:
        survivor = DyingConsole(second)
        survivor.arrived = set(dying.arrived)
        second.add_channel(survivor)
        clock.advance(minutes=3)  # the dead sender's claims have lapsed
        assert await second.announcements.resume() == 1
        before = [line["to"] for line in dying.lines if line.get("key", "").startswith("notice:1:")]
        after = [line["to"] for line in survivor.lines if line.get("key", "").startswith("notice:1:")]
        assert len(before) == 7 and sorted(before + after) == sorted(people)
        assert {d.status for d in rows(second, Delivery)} == {"sent"}
        [row] = rows(second, Announcement)
        assert (row.status, row.sent) == ("sent", 30)
    finally:
        second.close()


async def test_a_surviving_replica_takes_over_a_dead_sender_s_fan_out_once_its_claims_lapse(
        database_url: str, parser: EmbeddedParser, clock: Clock) -> None:
    """Two replicas; the one sending dies after 7 of 30. The other, running all along (no restart), leaves the
    fan-out alone while the claims are fresh and takes the rest over once they lapse: everyone once."""
    people = [f"person{n:02d}@city.example" for n in range(30)]
    first = Bot(settings(database_url, broadcast_two_person=False, fanout_concurrency=4, lease="30s"),
                nlu=parser, clock=clock)
    second = Bot(settings(database_url, broadcast_two_person=False, lease="30s"), nlu=parser, clock=clock)
    first.start()
    second.start()
    try:
        dying, survivor = DyingConsole(first, limit=7), DyingConsole(second)
        first.add_channel(dying)
        second.add_channel(survivor)
        for person in people:
            await first.identity.resolve("console", person, email=person, private_conversation=person)
        draft = await first.announcements.save_draft(
            read_composer({"title": "Email outage", "kind": "outage"}, clock(), CITY), TOM)
        with pytest.raises(BaseExceptionGroup):
            await first.announcements.release(int(draft.id or 0))
        survivor.arrived = set(dying.arrived)

        clock.advance(seconds=29)
        assert await second.announcements.take_over() == []  # fresh claims: the sender may be alive
        clock.advance(seconds=2)
        assert await second.announcements.take_over() == [draft.id]
        assert await second.announcements.take_over() == []  # already being finished here
        await second.announcements.drain()
        before = [line["to"] for line in dying.lines if line.get("key", "").startswith("notice:1:")]
        after = [line["to"] for line in survivor.lines if line.get("key", "").startswith("notice:1:")]
        assert len(before) == 7 and sorted(before + after) == sorted(people)
        [row] = rows(second, Announcement)
        assert (row.status, row.sent) == ("sent", 30)
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
async def test_two_replicas_send_each_notice_once(parser: EmbeddedParser, clock: Clock) -> None:
    """Two bots on one PostgreSQL database fire the same due jobs at once: each notice goes out once."""
    url = fresh_postgres()
    one = Bot(settings(url, broadcast_two_person=False), nlu=parser, clock=clock)
    two = Bot(settings(url, broadcast_two_person=False), nlu=parser, clock=clock)
    one.start()
    two.start()
    try:
        chat_one, chat_two = Chat(one), Chat(two)
        people = [f"p{n}@city.example" for n in range(12)]
        for person in people:
            await one.identity.resolve("console", person, email=person, private_conversation=person)
        for minute in (0, 1, 2):
            preview = await compose(chat_one, TOM, "announce printer maintenance", title=f"at 11:0{minute}",
                                    schedule=f"11:0{minute}am")
            await chat_one.click(TOM, button(preview, "Schedule"))
        clock.now = datetime(2026, 11, 23, 17, 5, tzinfo=UTC)  # 11:05 CST: all three are due
        fired = await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        assert sum(fired) == 3
        got = [(line["to"], line["text"]) for chat in (chat_one, chat_two) for line in chat.lines
               if line["text"].startswith("Planned maintenance")]
        assert len(got) == 3 * len(people) and len(set(got)) == len(got)
        assert len(rows(one, JobClaim)) == 3
        assert {d.status for d in rows(one, Delivery)} == {"sent"}

        # Both replicas resume the same half-sent fan-out at once: still once each.
        draft = await one.announcements.save_draft(
            read_composer({"title": "Both at once", "kind": "general"}, clock(), CITY), TOM)
        await one.announcements._set(int(draft.id or 0), status="scheduled")
        await asyncio.gather(one.announcements.send(int(draft.id or 0)), two.announcements.send(int(draft.id or 0)))
        got = [line["to"] for chat in (chat_one, chat_two) for line in chat.lines
               if line["text"].startswith("IT notice: Both at once")]
        assert sorted(got) == sorted(people)
        done = await one.announcements.get(int(draft.id or 0))
        assert done is not None and (done.status, done.sent, done.total) == ("sent", 12, 12)
    finally:
        one.close()
        two.close()


def test_delivery_key_is_unique(city: Bot) -> None:
    """The database refuses a second delivery of one announcement to one recipient."""
    from sqlalchemy.exc import IntegrityError

    city.db.call(lambda s: s.add(Delivery(announcement_id=1, recipient="user:ann@city.example")))
    with pytest.raises(IntegrityError):
        city.db.call(lambda s: s.add(Delivery(announcement_id=1, recipient="user:ann@city.example")))



async def test_a_crash_while_listing_recipients_is_finished_at_start(talk: Chat, city: Bot) -> None:
    """A process that died after 'sending' but before the delivery rows: the next start lists and sends."""
    await meet(talk, ANN, BOB)
    draft = await city.announcements.save_draft(
        read_composer({"title": "Half started", "kind": "general"}, city.clock(), CITY), TOM)
    await city.announcements._set(int(draft.id or 0), status="sending")
    assert (await city.announcements.send(int(draft.id or 0))).status == "sending"  # type: ignore[union-attr]
    assert await city.announcements.resume() == 1
    got = sorted(line["to"] for line in talk.lines if line["text"].startswith("IT notice: Half started"))
    assert got == [ANN, BOB]
    assert (await city.announcements.get(int(draft.id or 0))).status == "sent"  # type: ignore[union-attr]
