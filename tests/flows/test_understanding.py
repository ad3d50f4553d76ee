"""Understanding as staff write, and never a dead end: end to end through the console channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.core.messages import Turn
from bot.core.parse import IntentScore, ParseResult
from bot.engine.understanding import refers_back
from bot.nlu import EmbeddedParser
from bot.store import Approval, KbQuery, Ticket
from tests.support import Chat, Clock, button, make_settings, running_bot, texts

ANN = "ann@city.example"


def labels(lines: list[dict]) -> list[str]:
    """Every button label in ``lines``, in order."""
    return [b["label"] for line in lines for b in line["buttons"]]


async def after_guide(chat: Chat, first: str, guide: str, then: str) -> list[dict]:
    """The replies to ``then``, said by Ann after ``first`` got the guide titled ``guide``."""
    assert guide in texts(await chat.say(ANN, first))
    return await chat.say(ANN, then)


@pytest.fixture
def doubtful(database_url: str, parser: EmbeddedParser, clock: Clock) -> Iterator[Bot]:
    """A bot whose threshold no parse reaches, so every message takes the unsure path."""
    with running_bot(make_settings(database_url, nlu_threshold=0.99), nlu=parser, clock=clock) as instance:
        yield instance


async def test_below_the_threshold_offers_the_readings_in_words(doubtful: Bot) -> None:
    """An outage question below the threshold is offered as "Is outlook down?", one click from the answer."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "is outlook down for everyone or just me")
    assert "Is outlook down?" in labels(lines)
    assert labels(lines)[-2:] == ["Open a ticket", "Talk to a person"]
    answer = await chat.click(ANN, button(lines, "Is outlook down?"))
    assert "outlook" in texts(answer).lower() and "problem" in texts(answer).lower()


async def test_every_unclear_message_has_a_way_forward(doubtful: Bot) -> None:
    """Whatever the reading, nothing ends without a button, and the ticket keeps the person's words."""
    chat = Chat(doubtful)
    for text in ("the thing on my desk is doing the thing again", "zxqv plorp", "what's for lunch",
                 "copier says replace toner where is it", "cant get into the timesheets since friday"):
        lines = await chat.say(ANN, text)
        assert lines and all(line["buttons"] for line in lines if line["to"] == ANN), text
    preview = await chat.say(ANN, "the blue box under my desk beeps every few minutes")  # clearly a problem told
    assert "Summary: the blue box under my desk beeps every few minutes" in texts(preview)
    done = await chat.click(ANN, button(preview, "Submit"))
    assert "HELP-1" in texts(done, to=ANN)


async def test_an_offered_guide_opens_with_feedback(database_url: str, parser: EmbeddedParser) -> None:
    """A guide offered as a button shows its steps and asks whether it helped; the question is logged."""
    settings = make_settings(database_url, nlu_threshold=0.99, nlu_offer_over_guide=0.0)  # offer, never answer
    with running_bot(settings, nlu=parser) as offering:
        await _open_an_offered_guide(offering)


async def _open_an_offered_guide(doubtful: Bot) -> None:
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "how do i get my voicemail on the desk phone")
    guides = [b for line in lines for b in line["buttons"] if b["id"].startswith("skill:howto:article:")]
    assert guides, labels(lines)
    answer = await chat.click(ANN, guides[0]["id"])
    assert f"*{guides[0]['label']}*" in texts(answer) and "Yes, that helped" in labels(answer)
    logged = doubtful.db.call(lambda s: s.exec(select(KbQuery)).all())
    assert logged[-1].question == "how do i get my voicemail on the desk phone"


async def test_a_problem_a_guide_covers_shows_the_guide_before_the_ticket(chat: Chat, bot: Bot) -> None:
    """Self-service first: the guide comes first, the ticket preview is still one click away."""
    lines = await chat.say(ANN, "the copier keeps jamming and there's a picture of paper stuck on the screen")
    assert lines[0]["text"].startswith("This guide often fixes that")
    assert "That fixed it" in labels(lines) and "Submit" in labels(lines)
    fixed = await chat.click(ANN, button(lines, "That fixed it"))
    assert "haven't sent anything on" in texts(fixed)
    assert bot.db.call(lambda s: s.exec(select(Ticket)).all()) == []
    stale = await chat.click(ANN, button(lines, "Submit"))
    assert "no longer open" in texts(stale)


async def test_the_request_after_the_context(chat: Chat) -> None:
    """A sentence of context before the request: the request decides."""
    lines = await chat.say(ANN, "hi, hope your weekend was good. we had the water main break on elm st so "
                                "billing has been swamped all morning with calls. quick question how do i set "
                                "up voicemail on my desk phone")  # the whole reads as a greeting (0.29)
    assert "voicemail" in lines[0]["text"].lower() and "Yes, that helped" in labels(lines)


async def test_a_correction_is_read_with_the_message_before(chat: Chat) -> None:
    """"no wait, it's the ..." continues the previous message instead of starting over."""
    await chat.say(ANN, "my second monitor keeps flickering and going black")
    lines = await chat.say(ANN, "no wait its the docking station, the monitors are fine")
    shown = texts(lines)
    assert "Here is the ticket" in shown and "flickering" in shown and "docking station" in shown


async def test_an_unclear_problem_with_residents_waiting_is_an_urgent_ticket(doubtful: Bot) -> None:
    """Below the threshold, a problem report the signal reader reads as public-facing work stopped goes to
    the urgent ticket preview (the ticket intent is confirmed by urgency) instead of a list of choices."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "the case system wont open at the court clerk window and people are lined up")
    assert "Urgency: urgent" in texts(lines) and "Submit" in labels(lines)


async def test_a_part_the_person_may_not_ask_for_does_not_stand_for_the_message(chat: Chat) -> None:
    """"I want to post an update everyone can see" reads as an announcement, which only technicians make: from
    an employee, the part is passed over and the whole message is read (a how-to question about Teams)."""
    lines = await chat.say(ANN, "our section just moved over to teams and im lost. i want to post an update that "
                                "the whole team can see, not a private message. how do i do that")
    assert "only technicians" not in texts(lines)
    assert "*Teams basics" in texts(lines)


async def test_a_whole_reading_the_person_may_not_ask_for_gives_way_unless_sure(chat: Chat) -> None:
    """A message the parser reads first as an announcement, but not surely (0.55), is from an employee read without
    that reading: no refusal, and a way on from the next reading. A clear "announce ..." is still refused."""
    lines = await chat.say(ANN, "i want to send a note to everyone in billing about the new printer codes")
    assert "only technicians" not in texts(lines)
    assert lines and all(line["buttons"] for line in lines if line["to"] == ANN)
    lines = await chat.say(ANN, "announce email maintenance saturday 6am to 10am")
    assert "only technicians can do that" in texts(lines)


async def test_a_vague_part_does_not_outvote_the_whole_message(chat: Chat) -> None:
    """"Could someone get it put on for him?" alone reads as a wish to talk to a person; read with the rest it is
    a software request. A part stands for the message only with a reading the whole also has in its top three."""
    lines = await chat.say(ANN, "marcus on our plan review team still doesnt have bluebeam on his laptop and the "
                                "big reviews start thursday. everyone else in inspections has it. could someone get "
                                "it put on for him when you get a chance? thanks")
    assert "talk to a person" not in texts(lines, to="technicians")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)


async def test_a_how_to_reading_that_asks_the_desk_to_act_is_a_request(chat: Chat, bot: Bot) -> None:
    """"Can someone put the pdf program on my computer" reads as a how-to question, but asks the desk to do it:
    the ticket preview, one click to file. "Can someone tell me how ..." stays a guide."""
    lines = await chat.say(ANN, "can someone put the pdf program that lets me fill in and sign forms on my "
                                "computer, mine only opens them. my supervisor ok'd it")
    assert "Here is the ticket" in texts(lines)
    filed = await chat.click(ANN, button(lines, "Submit"))
    assert "HELP-1" in texts(filed)
    assert [t.summary for t in bot.db.call(lambda s: s.exec(select(Ticket)).all())][0].startswith("can someone")
    lines = await chat.say(ANN, "can someone tell me how to set an out of office reply in outlook")
    assert "*Turn on an out-of-office reply" in texts(lines) and "Submit" not in labels(lines)


async def test_asking_whether_others_have_it_too_is_an_outage_question(chat: Chat) -> None:
    """A symptom, then "anybody else seeing this": the question is whether it is down, not a new ticket."""
    lines = await chat.say(ANN, "munis wont open the timesheet screen, it just spins and payroll cutoff is at "
                                "noon. anybody else seeing this or is it my computer")
    assert "don't know of any problem with Munis" in texts(lines) and "Report it" in labels(lines)


async def test_public_safety_work_stopped_settles_a_doubt_in_second_place(chat: Chat) -> None:
    """Unsure between an outage question (first) and a problem report (second): the words say patrol officers
    cannot work, which confirms the ticket, so the urgent preview comes instead of a list of choices."""
    lines = await chat.say(ANN, "the mdt in unit 412 keeps dropping its connection every few minutes, officers on "
                                "that car end up running plates over the radio")
    assert "Urgency: urgent" in texts(lines) and "Submit" in labels(lines)


async def test_an_unsure_problem_report_with_a_clear_lead_gets_the_preview(doubtful: Bot) -> None:
    """Below the threshold, a problem the NLU reads as one well ahead of anything else (and no guide likely
    covers) gets the ticket preview, which itself asks before filing, instead of a list of choices."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "spilled my coffee on the keyboard this morning and now half the keys type the "
                                "wrong letter or nothing. parks admin office, desk by the window")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)
    assert doubtful.db.call(lambda s: s.exec(select(Ticket)).all()) == []


async def test_an_ok_what_about_follow_up_is_read_with_the_question_before(chat: Chat) -> None:
    """After an outage question, "ok what about accela, same thing there" asks the same of another system: read
    with the message before, it is an outage question too."""
    await chat.say(ANN, "is munis down for anyone else? the timesheet page wont load")
    lines = await chat.say(ANN, "ok what about accela, same thing there")
    assert "Here is the ticket" not in texts(lines) and "ticket" not in texts(lines).lower().split("report it")[0]
    assert "don't know of any problem" in texts(lines) and "Report it" in labels(lines)


@pytest.mark.parametrize("text", [
    "energov wont let me attach photos to the inspection since this morning, dwayne across the hall has the exact "
    "same problem",
    "accela keeps timing out whenever i open a permit record. gina across the hall has the exact same thing",
])
async def test_telling_that_others_have_it_too_is_an_outage_question(chat: Chat, text: str) -> None:
    """A symptom, then that a coworker has it too ("has the exact same problem"): staff ask whether it is down this
    way, so the outage answer comes, although the symptom alone reads as a problem to report: nothing is known to be
    down, so the outage report to send, one click away, and no ticket preview."""
    lines = await chat.say(ANN, text)
    assert "don't know of any problem" in texts(lines) and "Here is the report" in texts(lines)
    assert "Here is the ticket" not in texts(lines)


async def test_a_first_reading_its_words_confirm_is_not_outvoted_by_a_part(chat: Chat) -> None:
    """"... munis just spins on the sign in page, same in chrome and edge. wondering if its something on your side
    today": read first as an outage question, and the words ask whether the trouble is on the desk's side, so a
    clause read as a how-to question (the sign-in guide) does not stand for the message: the outage answer."""
    lines = await chat.say(ANN, "trying to approve the seasonal crew hours before the 5pm cutoff and munis just spins "
                                "on the sign in page, same in chrome and edge. wondering if its something on your "
                                "side today")
    assert "don't know of any problem with Munis" in texts(lines)


async def test_an_unsure_outage_reading_is_confirmed_by_others_having_it_too(doubtful: Bot) -> None:
    """Below the threshold, the outage reading first and the message telling that a coworker has the same trouble:
    the two agree, so the outage answer comes instead of a list of choices."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "the phones at the transfer station have no dial tone since 7 and neither does "
                                "dale's in the scale house, is something going on")
    assert "don't know of any problem" in texts(lines)
    assert "I'm not completely sure what you need" not in texts(lines)


async def test_an_unsure_how_to_reading_that_asks_the_desk_to_act_is_a_request(doubtful: Bot) -> None:
    """Below the threshold, read first as a how-to question but asking the desk to do it ("would you be able to give
    me access"): the ticket preview, under the guide that covers it, not the guide alone with nothing to file."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "the planning commission inbox is where applicants write in, i cover it while jo is "
                                "out but outlook doesnt show it. would you be able to give me access to it and send as")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)
    assert "*Open a shared or department mailbox" in texts(lines)


async def test_telling_more_of_the_problem_after_its_guide_offers_the_ticket_with_both(bot: Bot, chat: Chat) -> None:
    """A problem gets its guide; the next message goes on telling it ("and now it does it on the H drive too ...")
    without asking anything: the guide did not settle it, so the ticket preview comes with both messages, and
    Submit files them as one ticket."""
    first = "my s drive keeps disconnecting when i save the budget workbook, says the network name is no longer there"
    lines = await chat.say(ANN, first)
    assert "*Find and reconnect your S drive" in texts(lines) and "Submit" not in labels(lines)
    more = "and now it does it on the H drive too, i rebooted twice and i still lose whatever i typed each time"
    lines = await chat.say(ANN, more)
    assert "Here is the ticket" in texts(lines) and "*Find and reconnect" not in texts(lines)
    await chat.click(ANN, button(lines, "Submit"))
    [ticket] = bot.db.call(lambda s: s.exec(select(Ticket)).all())
    assert ticket.summary.startswith("my s drive keeps disconnecting") and more in ticket.description


async def test_a_follow_up_not_understood_alone_is_read_with_the_message_before(chat: Chat) -> None:
    """After the out-of-office guide, "people outside the city dont need all that detail in theirs" means little
    alone (and does not start like a correction): read with the question before, it is about the same reply, so the
    same guide comes, not one about sharing files with people outside the city."""
    await chat.say(ANN, "how do i turn on my out of office, im gone all next week for training")
    lines = await chat.say(ANN, "people outside the city dont need all that detail in theirs")
    assert "*Turn on an out-of-office reply" in texts(lines) and "*Share files" not in texts(lines)


async def test_how_will_someone_and_what_does_it_mean_are_questions_to_learn(chat: Chat) -> None:
    """"how will someone outside ..." and "what does ... mean" ask to learn: the guide, not the urgent security
    report or the phishing advice their words might suggest."""
    lines = await chat.say(ANN, "how will the adjuster at the insurance company open the encrypted email i send her?")
    assert "*Send an encrypted email" in texts(lines) and "alert the IT security team" not in texts(lines)
    lines = await chat.say(ANN, "what does the yellow external tag at the top of some of my emails mean?")
    assert "*How to spot a phishing email" in texts(lines)


async def test_a_new_question_that_starts_with_also_is_not_joined_to_the_one_before(chat: Chat) -> None:
    """"also how do i let my coworker see my calendar" starts like a continuation, but a guide answers it alone: it
    gets its own guide, not the out-of-office guide again (what reading it with the message before gave)."""
    await chat.say(ANN, "how do i turn on automatic replies, out all next week")
    lines = await chat.say(ANN, "also how do i let my coworker see my calendar while im gone")
    assert "*Share your Outlook calendar" in texts(lines) and "*Turn on an out-of-office" not in texts(lines)


async def test_when_a_message_asks_the_request_is_the_part_that_asks(chat: Chat) -> None:
    """Context, then a question: "... there are about 150 requests in it with deadlines on them" alone reads as asking
    about one's tickets, but the message asks "any chance of getting it back?": only the parts that ask may stand
    for it, so the guide to bring deleted mail back comes, not "You have no open tickets"."""
    lines = await chat.say(ANN, "tidied up my mailbox yesterday and deleted the folder with all our open permit "
                                "requests, then emptied the deleted items too. there are about 150 requests in it "
                                "with deadlines on them. any chance of getting it back?")
    assert "*Get back an email or folder you deleted" in texts(lines) and "no open tickets" not in texts(lines)


@pytest.mark.parametrize(("text", "not_shown"), [
    ("opened a ticket friday about the plotter in engineering smearing every sheet it prints and streaking the plans, "
     "still no word from anyone", "Here is the ticket"),
    ("last monday i put in something about the big plotter in engineering leaving streaks down the plans, nothing "
     "since. where does that stand?", "not completely sure"),
    ("maybe ten days ago i put in a ticket about the public computer by the teen area at the branch, it keeps "
     "restarting by itself. nobody has been out and i havent gotten anything by email. where is that at",
     "Here is the ticket"),
])
async def test_telling_of_a_request_made_earlier_that_still_waits_asks_after_it(bot: Bot, chat: Chat, text: str,
                                                                               not_shown: str) -> None:
    """"opened a ticket friday about the plotter ... still no word from anyone" tells the problem again, but asks
    after the ticket already open: the status of one's tickets comes, not a preview of a second ticket. In "put in
    something about the plotter ... nothing since. where does that stand?" the problem comes first and the question
    about one's tickets is read only fourth, but the words tell of a request that still waits: the status again,
    not a list of choices."""
    lines = await chat.say(ANN, "please open a ticket, the plotter in engineering smears every sheet it prints")
    await chat.click(ANN, button(lines, "Submit"))
    lines = await chat.say(ANN, text)
    assert "HELP-1" in texts(lines) and not_shown not in texts(lines)
    assert len(bot.db.call(lambda s: s.exec(select(Ticket)).all())) == 1


@pytest.mark.parametrize("text", ["Is there any news on that one? The meeting starts at 6.",
                                  "has anyone had a chance to look at that yet"])
async def test_asking_how_it_stands_just_after_filing_asks_after_that_ticket(bot: Bot, chat: Chat, text: str) -> None:
    """Right after a ticket was filed, "is there any news on that one?" names nothing, and alone it reads as an
    outage question ("I don't know of any problem"); it asks after the ticket just filed: its status comes."""
    lines = await chat.say(ANN, "the microphones at the front table in the community room stopped picking up, the "
                                "hearing starts at 6, please send someone")
    await chat.click(ANN, button(lines, "Submit"))
    lines = await chat.say(ANN, text)
    assert "HELP-1" in texts(lines) and "I don't know of any problem" not in texts(lines)
    assert len(bot.db.call(lambda s: s.exec(select(Ticket)).all())) == 1


async def test_asking_the_desk_to_unlock_it_gets_the_offer_not_only_the_guide(chat: Chat) -> None:
    """"... so if my account could be unlocked on your end that would be a great help" asks the desk to do it: the
    offer to unlock comes (a technician approves it), with the guide on lockouts beside it, not the guide alone."""
    lines = await chat.say(ANN, "I seem to have locked myself out after the holiday, too many tries I suspect. The "
                                "minutes are due by noon, so if my account could be unlocked on your end that would "
                                "be a great help.")
    assert "Do you want me to unlock your account?" in texts(lines) and "Yes" in labels(lines)


async def test_a_call_wished_for_after_the_trouble_reaches_the_technicians(chat: Chat) -> None:
    """The trouble and what was tried, then "honestly easier if somebody just calls me, 555-0163": the technicians are
    told, not a ticket preview for the trouble."""
    lines = await chat.say(ANN, "the label printer at the evidence window has been feeding out blank labels all "
                                "morning, swapped the roll and turned it off and on. honestly easier if somebody just "
                                "calls me, 555-0163, im at the window till 4")
    assert "asked to talk to a person" in texts(lines, to="technicians")
    assert "Here is the ticket" not in texts(lines)


async def test_a_wish_for_a_person_told_after_the_problem_reaches_the_technicians(chat: Chat) -> None:
    """The trouble first, then "id rather somebody walk through it with me than type it all out here": an unsure
    reading as a wish to talk to a person, which the words confirm, so the technicians are told at once rather than
    the employee getting a guide about something else."""
    lines = await chat.say(ANN, "our new timekeeping kiosk at the yard logs people under the wrong crew and its a "
                                "whole tangle of settings, id rather somebody walk through it with me than type it all "
                                "out here. at my desk till 4")
    assert "asked to talk to a person" in texts(lines, to="technicians")
    assert "New-hire IT checklist" not in texts(lines)


async def test_a_call_wished_for_at_the_end_of_a_long_story_reaches_the_technicians(chat: Chat) -> None:
    """A formal message that sets out the whole background first and wishes for a call only after the first 300
    characters (all the parser reads): the wish still reaches the technicians, not a guide about scanning."""
    text = ("Lucinda Marsh, records clerk for the Municipal Court, writing. I have a rather tangled problem concerning "
            "the way case documents are being saved from the scanner into our department folders: some go to one "
            "place, some to another, and a few appear to vanish altogether. It is very difficult to set out in "
            "writing, and I suspect it would go far more quickly if one of your technicians could ring me at "
            "555-0138 at some point this afternoon.")
    assert text.index("ring me") > 300
    lines = await chat.say(ANN, text)
    assert "asked to talk to a person" in texts(lines, to="technicians")
    assert "*Scan a document" not in texts(lines)


async def test_asking_for_a_replacement_after_telling_what_broke_is_a_request(chat: Chat) -> None:
    """The headset broke and the mic cuts out; "is there any possibility of a replacement headset reaching me before
    the Tuesday docket?" asks the desk for one: the ticket preview comes, not only the guide to headset settings."""
    lines = await chat.say(ANN, "Since the court began holding some hearings remotely, I have used a headset at the "
                                "clerk's bench. This morning the left ear piece came away in my hand, and the "
                                "microphone now cuts in and out. Is there any possibility of a replacement headset "
                                "reaching me before the Tuesday remote docket?")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)


@pytest.mark.parametrize("text", [
    "The little gadget on my keychain that makes the numbers for signing in doesn't show anything anymore, the "
    "window on it is just blank. I work the front desk at the cemetery office and I don't have one of those smart "
    "phones. Can you send me a new one of the gadgets?",
    "collection dispatch. got Carla Benitez helpin me on mornings thru march and she has to answer the missed pickup "
    "emails out of the solid waste mailbox. i ok'd it, shes on my crew. can yall add her",
    "We close the biweekly pay run at 4:00 today, and since about 11 this morning the direct deposit export out of "
    "Munis comes back with \"Error 3041 - file could not be written\". I have restarted my PC and tried from another "
    "workstation as well. Roughly 1,140 employees expect to be paid on Friday, so I would be very grateful if someone "
    "could look at this as soon as possible.",
])
async def test_asking_the_desk_in_other_words_gets_the_ticket_preview(chat: Chat, text: str) -> None:
    """"can you send me a new one", "can yall add her", "grateful if someone could look at this": the desk is asked
    to do something, so the ticket preview comes, not a guide alone."""
    lines = await chat.say(ANN, text)
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)


async def test_a_problem_told_read_as_a_ticket_just_ahead_of_a_how_to_gets_the_preview(doubtful: Bot) -> None:
    """Below the threshold, a problem told (not asked how) read first as a ticket and second, close behind, as a
    how-to question: the ticket preview, under the guide that surely covers it, not the guide alone with nothing to
    file (the margin between two readings is for readings that ask different things)."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "code enforcement. i can log into accela fine but i only see cases read only, cant "
                                "add notes or close anything out, the others on my team can. think my role got set up "
                                "wrong when i transferred in june")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)
    assert "*Sign in to Accela" in texts(lines)


async def test_a_problem_told_read_as_a_how_to_just_ahead_of_a_ticket_gets_the_preview(doubtful: Bot) -> None:
    """Below the threshold, a problem told (not asked how) read first as a how-to question and second, close behind,
    as a ticket: the ticket preview under the guide, not the guide alone with nothing to file."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "the scanner on the permit counter saves everything as one giant pdf now instead of "
                                "separate files since the update last week")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)


async def test_an_unsure_self_service_reading_that_asks_how_is_answered(doubtful: Bot) -> None:
    """Below the threshold, read first as changing one's own password (which only answers: the guide, the
    self-service page, a reset by a technician as a button) and the message asks to do it oneself: that answer
    comes at once, with no approval (a close second reading, such as a reset, used to get a list of choices)."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "i think the guy fixing the copier watched me type my password in, id like to change "
                                "it to something new myself right away")
    assert "You can do this yourself" in texts(lines) and "Reset it for me instead" in labels(lines)
    assert "I'm not completely sure" not in texts(lines) and "Which did you mean" not in texts(lines)
    assert doubtful.db.call(lambda s: s.exec(select(Approval)).all()) == []


async def test_saying_the_guide_did_not_settle_it_offers_the_ticket(chat: Chat) -> None:
    """After a guide, "tried adding it like it says but outlook says i dont have permission ..." tells that its
    steps did not settle it (without starting like a continuation): the ticket preview with both messages."""
    lines = await chat.say(ANN, "how do i get the permits shared mailbox to show up in my outlook")
    assert "*Open a shared or department mailbox" in texts(lines)
    lines = await chat.say(ANN, "tried adding it like it says but outlook tells me i dont have permission to open "
                                "that mailbox, so somebody has to give me access to it first")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)
    assert "permits shared mailbox" in texts(lines)


async def test_saying_the_steps_were_done_exactly_offers_the_ticket(chat: Chat) -> None:
    """"ok did exactly that ... nothing has come to my inbox, tried it twice" after the scanning guide: the steps
    were followed and did not settle it, so the ticket preview, not the same guide again."""
    lines = await chat.say(ANN, "how do i scan something to my email on the copier")
    assert "*Scan a document to your email" in texts(lines)
    lines = await chat.say(ANN, "ok did exactly that, badge, scan, send to me, start. its been half an hour and "
                                "nothing has come to my inbox or junk folder, tried it twice")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)
    assert "*Scan a document to your email" not in texts(lines)


async def test_a_supervisor_telling_someone_needs_a_department_inbox_gets_the_preview(chat: Chat) -> None:
    """A supervisor tells that a coworker now needs to read and answer from a department inbox: the shared mailbox
    guide says access is asked of IT (``request: true``), so the ticket preview comes under it, not the guide
    alone with nothing to file."""
    lines = await chat.say(ANN, "keisha reyes moved over from the cashier window and as of monday she handles the "
                                "permits inbox that gary used to answer, she needs to be able to read and reply from "
                                "it like he did. i am her supervisor, code enforcement")
    assert "*Open a shared or department mailbox" in texts(lines)
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)


async def test_a_follow_up_asking_the_same_about_another_system_is_asked_again(chat: Chat) -> None:
    """After an outage question, "ok and the permits site too? ..." asks the same question about another system,
    although alone it reads as a problem to report: the outage answer again, no ticket preview."""
    await chat.say(ANN, "accela is crawling for me and the two inspectors next to me, is something going on with it?")
    lines = await chat.say(ANN, "ok and the online permit portal too? people at the counter say it wont load on "
                                "their phones either")
    assert "don't know of any problem" in texts(lines) and "Here is the ticket" not in texts(lines)


async def test_a_follow_up_asking_for_something_of_its_own_is_not_asked_again(chat: Chat) -> None:
    """After "any update on my tickets?", "and can i get a second monitor for my desk too?" starts like a
    follow-up but asks for something of its own: the ticket preview for it, not the list of tickets again."""
    await chat.say(ANN, "any update on my tickets?")
    lines = await chat.say(ANN, "and can i get a second monitor for my desk too?")
    assert "Here is the ticket" in texts(lines) and "no open tickets" not in texts(lines)


async def test_naming_the_request_after_choices_asks_after_it(chat: Chat) -> None:
    """"checking in on something i sent a while back" gets choices, the status of one's tickets first; "its the one
    about the label printer ..." then names which request: the status comes, not a guide about label printers."""
    lines = await chat.say(ANN, "checking in on something i sent you a while back")
    assert "Check on my tickets" in labels(lines)
    lines = await chat.say(ANN, "its the one about the label printer at the animal shelter front desk, from last week")
    assert "no open tickets" in texts(lines) and "*" not in texts(lines)


async def test_wishing_for_a_person_after_a_guide_reaches_the_technicians(chat: Chat) -> None:
    """After the docking guide, "did the steps ... now the right one is black ... if somebody could stop by": the
    steps were tried and a person is wished for, so the technicians are told, not the same guide again."""
    lines = await chat.say(ANN, "how do i get my laptop to use both monitors at my desk as separate screens")
    assert "*Use a docking station" in texts(lines)
    lines = await chat.say(ANN, "went through the display settings part, now the left one copies my laptop and the "
                                "right one is black. if somebody could stop by the permit counter for five minutes "
                                "that would help a lot")
    assert "asked to talk to a person" in texts(lines, to="technicians")
    assert "*Use a docking station" not in texts(lines)


async def test_a_visit_wished_for_after_a_guide_that_did_not_work_reaches_the_technicians(chat: Chat) -> None:
    """After the conference room guide, "that didnt work, ... no signal with the cable in. can someone just come look
    before the meeting": the steps did not settle it and a visit is wished for, so the technicians are told, not the
    same guide again."""
    lines = await after_guide(chat, "the planning commission meets in room 204 at 2 and the presenter wants her slides "
                                    "on the big screen. how do i get the laptop to show on it",
                              "*Use the conference room screen",
                              "that didnt work, the screen just says no signal with the cable in. can someone just "
                              "come look before the meeting, my extension is 4471")
    assert "asked to talk to a person" in texts(lines, to="technicians")
    assert "*Use the conference room screen" not in texts(lines)


async def test_still_stuck_after_the_steps_and_asking_for_a_fix_gets_the_preview(chat: Chat) -> None:
    """After the conference room guide, "plugged the cable in like it says ... the screen still says no signal ... any
    way to get that fixed before then?" asks a question, but it tells the steps were tried and asks for the fix: the
    ticket preview with both messages, not the same guide again."""
    lines = await after_guide(chat, "how do i get my laptop up on the wall screen in the training room, the budget "
                                    "workshop starts at 3",
                              "*Use the conference room screen",
                              "ok i plugged the cable in like it says and pressed source until it showed hdmi 2 but "
                              "the screen still says no signal. twenty people are coming at 3, any way to get that "
                              "fixed before then?")
    assert "Here is the ticket" in texts(lines) and "*Use the conference room screen" not in texts(lines)


async def test_already_restarted_is_added_to_the_waiting_preview(chat: Chat) -> None:
    """A broken MDT gets the preview with the MDT guide above it; "he already restarted it and checked the cable ..."
    tells what was tried since: it is added to that preview, not read anew (as a network problem with a guide and a
    preview of its own)."""
    lines = await chat.say(ANN, "the mdt in unit 2-07 wont let officer reyes sign in, says not authorized, but his "
                                "login works on the desk pc in the station")
    assert "*MDT in patrol cars" in texts(lines) and "Here is the ticket" in texts(lines)
    lines = await chat.say(ANN, "he already restarted it and checked the cable. the car goes back out at 6 so he "
                                "needs it working before then")
    assert "I've added that" in texts(lines) and "*No internet" not in texts(lines)


async def test_doing_the_steps_like_the_guide_says_and_still_stuck_gets_the_preview(chat: Chat) -> None:
    """After the Accela guide, "did the sync three times like it says ... still only fridays list" tells that the
    steps were followed and did not settle it: the ticket preview with both messages, not the guide again."""
    lines = await after_guide(chat, "out at a job site on maple ave and the accela app on my tablet still shows "
                                    "fridays inspections, none of mondays are on it",
                              "*Sign in to Accela",
                              "did the sync three times like it says and closed the app too. still only fridays list "
                              "and the builder is here waiting")
    assert "Here is the ticket" in texts(lines) and "*Sign in to Accela" not in texts(lines)


async def test_asking_someone_to_do_it_after_a_guide_is_a_request_not_a_wish_for_a_person(chat: Chat) -> None:
    """After the voicemail guide, "could someone there clear it so i can set my own?" asks the desk to do something
    (its part alone reads as a wish for a person): the ticket preview, not a hand-off."""
    lines = await after_guide(chat, "the desk phone they gave me asks for a pin when i press the messages button and i "
                                    "never got one",
                              "*Set up and check voicemail",
                              "nobody gave me a starting pin, i just transferred here from parks last week. could "
                              "someone there clear it so i can set my own? ext 4410")
    assert "Here is the ticket" in texts(lines) and "asked to talk to a person" not in texts(lines, to="technicians")


async def test_a_follow_up_whose_second_guide_is_the_one_given_stays_with_it(chat: Chat) -> None:
    """After the out-of-office guide, "the residents and vendors emailing me dont need to know Dee is covering. can
    outside people just get a short version" reads alone first as sharing files with outside people, and second as
    the out-of-office guide just given: read with that guide, the judge is surer of it, so it comes again (it says how
    to send a different reply outside the city). "also how do i let kim see my calendar", where the out-of-office
    guide is far down, still gets its own guide."""
    lines = await after_guide(chat, "im off the 9th through the 20th for my brothers wedding and Dee Alvarez is "
                                    "covering permits while im out. how do i get outlook to tell people that",
                              "*Turn on an out-of-office reply",
                              "also the residents and vendors emailing me dont need to know Dee is covering. can "
                              "outside people just get a short version")
    assert "*Turn on an out-of-office reply" in texts(lines) and "*Share files safely" not in texts(lines)
    lines = await chat.say(ANN, "also how do i let kim see my calendar while im gone")
    assert "*Share your Outlook calendar" in texts(lines)


async def test_telling_what_was_tried_while_a_preview_waits_adds_to_it(bot: Bot, chat: Chat) -> None:
    """While the ticket preview waits, "just tried the spare pc in the back too and its the same blank screen" tells
    more of the same problem (read alone it is a how-to question no guide answers): it goes into the draft, and
    Submit files one ticket with both messages."""
    lines = await chat.say(ANN, "since the update last night the cad workstation in dispatch shows a blank white "
                                "window when we open the mapping program, so we cant see unit locations")
    assert "Here is the ticket" in texts(lines)
    lines = await chat.say(ANN, "just tried the spare pc in the back too and its the same blank screen on that one")
    assert "I've added that" in texts(lines)
    await chat.click(ANN, button(lines, "Submit"))
    tickets = bot.db.call(lambda s: s.exec(select(Ticket)).all())
    assert len(tickets) == 1 and "spare pc in the back" in tickets[0].description


async def test_a_question_no_guide_answers_alone_is_read_about_the_guide_before(chat: Chat) -> None:
    """After the out-of-office guide, "will it switch itself off when im back on the 20th" names no topic, and no
    guide answers it alone: read as a question about the guide just given, the same guide answers it, where before
    it got a list of other guides."""
    lines = await chat.say(ANN, "im at a training in denver all next week and the vendors email me constantly. how "
                                "do i get outlook to send them something back saying im away")
    assert "*Turn on an out-of-office reply" in texts(lines)
    lines = await chat.say(ANN, "will it switch itself off when im back on the 20th or do i have to remember to do "
                                "that")
    assert "*Turn on an out-of-office reply" in texts(lines) and "not sure I have the right guide" not in texts(lines)


async def test_doing_the_same_from_home_is_asked_about_the_guide_before(chat: Chat) -> None:
    """After the change-password answer, "can i also do that from home on my laptop tonight" is about changing the
    password, not about working from home in general: the change-password guide again, not the remote-work tips."""
    await chat.say(ANN, "that little box by the clock keeps saying my password runs out in 3 days, id rather change "
                        "it myself now")
    lines = await chat.say(ANN, "can i also do that from home on my laptop tonight")
    assert "*Change your password" in texts(lines) and "Security tips for working from home" not in texts(lines)


async def test_a_real_security_matter_asked_about_gets_the_report_and_the_guide(chat: Chat) -> None:
    """"my city laptop was stolen last night ... what do i do now" asks how, but the signal reader reads a real
    security matter: the urgent report comes at once (sent on Submit), and the guide answers the question below it,
    instead of the guide with the report one more click away."""
    lines = await chat.say(ANN, "somebody broke into my car at the rec center lot last night and grabbed my backpack "
                                "with my city laptop in it, police report is filed. what do i do now")
    assert "This sounds urgent" in texts(lines) and "Submit" in labels(lines)
    assert "*Report a lost or stolen laptop" in texts(lines)
    assert texts(lines).index("This sounds urgent") < texts(lines).index("*Report a lost or stolen laptop")


async def test_a_lost_tablet_told_as_a_how_to_question_gets_the_report_its_guide_asks_for(chat: Chat) -> None:
    """Read as a how-to question, with the signal reader below its own surety to act alone: the guide on lost devices
    says to report at once (``reported: security``), and the signal reader reads a lost device too, so the urgent
    report comes first (sent on Submit), the guide below it, rather than the guide alone telling them to ask."""
    lines = await chat.say(ANN, "so this is awkward. i left the parks permit ipad on the shuttle after the festival "
                                "and nobody has turned it in, the drivers havent seen it. its still logged into the "
                                "reservations system. what do i do?")
    assert "This sounds urgent" in texts(lines) and "Submit" in labels(lines)
    assert "*Report a lost or stolen laptop" in texts(lines)


def test_a_guide_that_says_to_report_counts_when_the_search_ranks_it_second(bot: Bot) -> None:
    """"city iphone with my email and teams on it is gone ...": the search ranks the guide on email on a phone first and
    the one on lost devices (``reported: security``) second, the judge sure of both; with the lost device the signal
    reader reads, the report is the one to start, as when the lost-device guide ranks first."""
    text = ("city iphone with my email and teams on it is gone. pretty sure i left it on the running board of truck 12 "
            "at the yard about 5 and we rolled out. called, straight to vm")
    assert [hit.article.id for hit in bot.kb.search(text, limit=2)] == ["mobile-email-phone", "lost-stolen-device"]
    turn = Turn(channel="console", user_id="ann", conversation_id="ann", text=text)
    assert bot.router.understanding.reported_in_guide(turn) == "security_incident"


async def test_anybody_else_or_is_it_my_tablet_is_an_outage_question(chat: Chat) -> None:
    """"... or is it my tablet" asks whether others have it too, like "... or is it my computer"."""
    lines = await chat.say(ANN, "the cityworks app shows a white screen when i open my work orders since lunch. "
                                "anyone else on the streets crew seeing that or is it my tablet")
    assert "don't know of any problem" in texts(lines) and "Report it" in labels(lines)
    assert "Submit this and I alert the IT security team" not in texts(lines)




async def test_an_unsure_problem_report_a_guide_covers_gets_the_guide_and_the_preview(doubtful: Bot) -> None:
    """Below the threshold, a problem told (not asked how) with a clear ticket lead that a guide also covers: the
    guide first and the ticket preview under it, instead of the guide alone with nothing to file."""
    chat = Chat(doubtful)
    lines = await chat.say(ANN, "munis gives me an error that the posting period is closed whenever i enter the "
                                "quarterly adjustments, our accountant says it is open")
    assert "Here is the ticket" in texts(lines) and "Submit" in labels(lines)
    assert "*Sign in to Munis" in texts(lines)


@pytest.mark.parametrize(("text", "back"), [
    ("ok and the payment site too?", True),
    ("and the S drive? the budget folder wont load either", True),
    ("what about the phones?", True),
    ("and how do i do that?", False),
    ("and can i get a second monitor too?", False),
])
def test_a_follow_up_that_only_names_something_else_refers_back(text: str, back: bool) -> None:
    """"and the S drive? ..." names another thing and asks nothing of its own: the question before, asked again about
    it; "and how do i do that?" asks a question of its own."""
    assert refers_back(text) is back


async def test_a_question_about_a_detail_after_a_guide_stays_with_the_guide(chat: Chat) -> None:
    """After the encryption guide, "will the prosecutor need some kind of program ... or not" asks about a detail of
    it; alone it reads as a problem to report, so it got a ticket preview. The same guide answers it."""
    lines = await chat.say(ANN, "i need to email a police report with a juveniles name in it to the county "
                                "prosecutor, how do i make sure its encrypted")
    assert "*Send an encrypted email" in texts(lines)
    lines = await chat.say(ANN, "will the prosecutor need some kind of program on their computers to open it or not")
    assert "*Send an encrypted email" in texts(lines) and "Here is the ticket" not in texts(lines)


async def test_an_expiry_told_with_a_lockout_only_feared_gets_the_change_guide(chat: Chat) -> None:
    """"... would like to sort it out today rather than get locked out at the worst time": the lockout is feared, not
    had; the answer is how to change the password, and no reset or unlock is started."""
    lines = await chat.say(ANN, "got a message my sign in expires thursday. would like to sort it out today rather "
                                "than get locked out at the worst time, whats the process")
    assert "*Change your password when you know the current one*" in texts(lines)
    assert "*My account is locked" not in texts(lines) and "approve" not in texts(lines, to="technicians")


async def test_a_question_after_changing_ones_password_gets_the_rules(chat: Chat) -> None:
    """After the change-password answer, "i usually keep the same word and bump the number ..., will it accept that"
    asks what a new password may be: the password rules, not the change-password steps again."""
    lines = await chat.say(ANN, "my windows password expires friday and im in the office today, can i just change it "
                                "myself? how")
    assert "*Change your password" in texts(lines)
    lines = await chat.say(ANN, "i usually keep the same word and bump the number at the end by one, will it accept "
                                "that")
    assert "*City password rules" in texts(lines)


async def test_asking_whats_wrong_with_a_rejected_password_gets_the_rules(chat: Chat) -> None:
    """"Tried Harbor2027! as my new password and it got rejected ... so what's wrong with it?" reads as a reset, barely;
    it asks why, and the rules answer it: the rules with the reset one click beside them, not the reset asked for."""
    lines = await chat.say(ANN, "Tried Harbor2027! as my new password and it got rejected. It has a capital, a number "
                                "and a symbol, so what's wrong with it?")
    assert "*City password rules" in texts(lines) and "Reset my password" in labels(lines)
    assert "Do you want me to reset" not in texts(lines)


@pytest.mark.parametrize("detail", [
    "could it be a whole sentence with spaces in it, like a line out of a poem",
    "so how many characters does it need now, the last few i tried all got turned down",
])
async def test_a_passphrase_or_length_asked_after_changing_ones_password_gets_the_rules(chat: Chat,
                                                                                        detail: str) -> None:
    """After the change-password answer, a passphrase told in everyday words ("a whole sentence with spaces") or a
    length asked about ("how many characters does it need") is a question for the password rules, which answer it
    alone: the rules, not the change steps again (read with the message before, those would lead)."""
    lines = await chat.say(ANN, "popup says my password runs out in 3 days and im working from the office all week, "
                                "rather change it now than be stuck later, hows it done")
    assert "*Change your password" in texts(lines)
    lines = await chat.say(ANN, detail)
    assert "*City password rules" in texts(lines)


async def test_a_need_of_its_own_after_a_guide_gets_its_guide_not_the_preview(chat: Chat) -> None:
    """After the out-of-office guide, "also my assistant has to be able to see my schedule ..." goes on like more of
    the same problem, but another guide answers it alone: that guide, not a ticket for the absence."""
    await chat.say(ANN, "out for surgery the next two weeks, how do i set outlook to tell people im away")
    lines = await chat.say(ANN, "also my assistant has to be able to see my schedule and book appointments on it while "
                                "im gone")
    assert "*Share your Outlook calendar" in texts(lines) and "Here is the ticket" not in texts(lines)


async def test_a_phishing_reading_of_one_part_gives_way_to_a_sure_guide(chat: Chat) -> None:
    """"... got the confirmation email and all, but when i answer people from it my own name shows": the part about
    the email reads as a phishing report, the message is about a shared mailbox. The guide comes, the phishing report
    one click away beside it, not the phishing advice and its question."""
    lines = await chat.say(ANN, "they gave me access to the parks reservations inbox yesterday, got the confirmation "
                                "email and all, but when i answer people from it my own name shows on the reply")
    assert "*Open a shared or department mailbox" in texts(lines) and "Report a suspicious email" in labels(lines)
    assert "Did you click a link" not in texts(lines)


async def test_a_sure_security_matter_in_a_part_is_not_turned_into_a_guide(chat: Chat) -> None:
    """"... an email 'from me' asking them to switch their bank account ... i never sent that": read as a phishing
    report in a part, but the signal reader is sure someone poses as staff: the urgent report, not a guide."""
    lines = await chat.say(ANN, "finance here. the fuel vendor just phoned to check on an email supposedly from me "
                                "telling them to change the bank account we pay them at. it came from a gmail with my "
                                "name. i never wrote that")
    assert "alert the IT security team" in texts(lines) and "Submit" in labels(lines)



async def test_a_question_a_guide_answers_is_not_added_to_a_waiting_preview(chat: Chat) -> None:
    """While the preview for "print permit does nothing in accela" waits, "also the inspectors say todays inspections
    dont show up on their tablets ..., is that covered in there too" starts like more of the problem but asks a
    question the Accela guide surely answers: the guide, not "I've added that"."""
    await chat.say(ANN, "when i hit print on a building permit in accela nothing happens at all, no error, this is the "
                        "front counter pc")
    lines = await chat.say(ANN, "also the inspectors say todays inspections dont show up on their tablets when they "
                                "get to the site, is that covered in there too")
    assert "*Sign in to Accela" in texts(lines) and "I've added that" not in texts(lines)


async def test_a_question_read_as_a_wish_for_a_person_for_its_phone_words_gets_the_guide(chat: Chat) -> None:
    """"is there a phone number folks can dial into my teams meeting with?" reads as a wish to talk to a person (its
    phone words), but no wish for a person is told and the Teams guide surely answers it: the guide, with "Talk to a
    person" beside it; the technicians are not bothered. A wish for a person told in words still reaches them."""
    lines = await chat.say(ANN, "is there a phone number folks can dial into my teams meeting with? two of the "
                                "commissioners only have a landline")
    assert "*Schedule a Teams meeting" in texts(lines) and "Talk to a person" in labels(lines)
    assert "asked to talk to a person" not in texts(lines, to="technicians")
    lines = await chat.say(ANN, "would a technician be able to drop by the library annex tomorrow? the plotter and two "
                                "workstations all misbehave and i dont know where to start explaining it")
    assert "asked to talk to a person" in texts(lines, to="technicians")


async def test_a_refused_new_password_and_what_does_it_want_gets_the_rules(chat: Chat) -> None:
    """"... it still says no. what does it even want" asks what the password must be, with no question mark: the
    password rules answer it (they say why a capital and a number are not enough), where the problem report read
    first made a ticket preview."""
    lines = await chat.say(ANN, "made a new pasword like it asked and it wont take it, has a capital and a number and "
                                "it still says no. what does it even want")
    assert "*City password rules" in texts(lines) and "Here is the ticket" not in texts(lines)


async def test_cutting_off_the_link_after_the_big_file_guide_gets_the_sharing_guide(chat: Chat) -> None:
    """After the guide on files too big to email, "once theyve got it how do i cut off their access" asks how to stop
    sharing: read with the guide given, that guide leads, but the sharing guide (its own likely answer) is among the
    first three, and it says how: the sharing guide, not the big-file steps again."""
    lines = await chat.say(ANN, "the appraisal firm needs the 450 mb of site photos for the riverside parcel and "
                                "outlook keeps bouncing it. whats the right way to get it to them")
    assert "*Send a file that is too big to email" in texts(lines)
    lines = await chat.say(ANN, "ok and once theyve got it how do i cut off their access to it")
    assert "*Share files safely with people outside the city" in texts(lines)


async def test_telling_the_big_file_is_for_someone_outside_gets_the_same_guide(chat: Chat) -> None:
    """After the guide on files too big to email, "fyi the person getting it is at the county, not somebody in this
    building" asks nothing, and alone reads as a wish for a person: it tells whom the file is for, and the same guide
    (with its part for people outside the city) answers; the technicians are not bothered."""
    lines = await chat.say(ANN, "i have the drone video of the bridge deck from monday, about 900 mb, and outlook "
                                "keeps bouncing it back to me")
    assert "*Send a file that is too big to email" in texts(lines)
    lines = await chat.say(ANN, "fyi the person getting it is at the county, not somebody in this building")
    assert "*Send a file that is too big to email" in texts(lines)
    assert "asked to talk to a person" not in texts(lines, to="technicians")


async def test_asking_how_to_stop_it_after_a_guide_gets_that_guide(chat: Chat) -> None:
    """After the call-forwarding guide, "and when im back in the office friday how do i turn it off" names no topic
    of its own ("it" is the forwarding); read alone its words are surely about an out-of-office reply, but it asks
    how to undo what the guide set up, so the same guide answers."""
    lines = await chat.say(ANN, "heading out to the treatment plant for two days of audits, how do i have my desk "
                                "line ring my city cell")
    assert "*Forward your desk phone" in texts(lines)
    lines = await chat.say(ANN, "and when im back in the office friday how do i turn it off")
    assert "*Forward your desk phone" in texts(lines) and "*Turn on an out-of-office" not in texts(lines)


async def test_a_wish_for_a_person_in_words_settles_a_close_call(database_url: str, parser: EmbeddedParser,
                                                                clock: Clock) -> None:
    """On a bot that calls every pair of readings a close call and acts from 0.3, "... outlook keeps popping up
    asking for my password ... if somebody has a minute to talk me through it instead" reads as a wish for a person
    and as a how-to question a guide answers: the wish is said in words, so the technicians are told, not the guide
    shown."""
    settings = make_settings(database_url, nlu_ambiguity_margin=1.0, nlu_threshold=0.3)
    with running_bot(settings, nlu=parser, clock=clock) as wavering:
        chat = Chat(wavering)
        lines = await chat.say(ANN, "sorry, ive typed this out three times. outlook keeps popping up asking for my "
                                    "password. im at 555-0144 till 4 if somebody has a minute to talk me through it "
                                    "instead")
    assert "asked to talk to a person" in texts(lines, to="technicians")
    assert "Did this help?" not in texts(lines)


async def test_asking_whether_a_caller_was_really_one_of_you_is_a_security_matter(chat: Chat) -> None:
    """"not sure that was really one of you guys" asks who called, it wishes for no person: a caller posing as IT who
    got an authenticator code gets the urgent security report, not a hand-off."""
    lines = await chat.say(ANN, "a guy phoned the clerks counter saying he was from city it and got marta to read him "
                                "the code off her authenticator app, then her email logged her out. not sure that "
                                "was really one of you guys")
    assert "This sounds urgent" in texts(lines) and "Submit" in labels(lines)
    assert "asked to talk to a person" not in texts(lines, to="technicians")


async def test_a_problem_told_after_no_known_outage_carries_the_question(chat: Chat) -> None:
    """"is the permit system down ...": nothing is known. "ok so nothing posted. three contractors are standing at the
    counter ..." goes on from it: the ticket preview carries both messages, the question as the summary, and is
    urgent for the people waiting, where alone it read "ok so nothing posted." at normal urgency."""
    lines = await chat.say(ANN, "is the permit system down for everyone or only us at the east counter? none of us "
                                "can pull up a record")
    assert "Report it" in labels(lines)
    lines = await chat.say(ANN, "ok so nothing posted. three contractors are standing at the counter waiting on "
                                "permits and we cant print a single one")
    assert "Summary: is the permit system down" in texts(lines) and "Urgency: urgent" in texts(lines)
    assert "three contractors" in texts(lines)


async def test_some_of_them_after_a_guide_is_about_the_people_of_that_guide(chat: Chat) -> None:
    """After the guest Wi-Fi guide for a class of visitors, "a couple of them said the sign in page never showed up on
    their phones" points back at those visitors; alone its words are surely about setting up MFA, but the guest Wi-Fi
    guide read with it is surer still, so it answers again."""
    lines = await chat.say(ANN, "twelve volunteers are coming in thursday for the tax help clinic with their own "
                                "laptops, which wifi do they use")
    assert "*Get visitors and personal devices on guest Wi-Fi" in texts(lines)
    lines = await chat.say(ANN, "some of them said last time the sign in page never popped up on their phones")
    assert "*Get visitors and personal devices on guest Wi-Fi" in texts(lines)
    assert "*Set up multi-factor authentication" not in texts(lines)


async def test_a_question_after_a_guide_shown_beside_a_request_is_about_that_guide(chat: Chat) -> None:
    """"it turns down every new password i come up with ..." gets the password rules beside the reset offered; "can
    it have spaces in it then" asks about the rules just shown, where it was read alone as a problem to file."""
    lines = await chat.say(ANN, "it turns down every new password i come up with, says the requirements arent met. i "
                                "added a capital and a number")
    assert "*City password rules" in texts(lines)
    lines = await chat.say(ANN, "can it have spaces in it then")
    assert "*City password rules" in texts(lines) and "Here is the ticket" not in texts(lines)


async def test_a_link_and_a_code_after_the_encrypted_email_guide_is_about_that_guide(chat: Chat) -> None:
    """After the encrypted email guide, "the paralegal ... got a link and a request for a code instead of the document"
    reads as a phishing report for its link and code, but the encrypted email guide read with it is surer: it answers
    again, rather than the advice on suspicious emails."""
    lines = await chat.say(ANN, "our attorney has to send a settlement with a claimants social security number to a "
                                "private firm this afternoon, is there a way to lock it in outlook")
    assert "*Send an encrypted email" in texts(lines)
    lines = await chat.say(ANN, "the paralegal on their side has written back to say she got a link and a request for "
                                "a code instead of the document. should i send it again another way?")
    assert "*Send an encrypted email" in texts(lines) and "Thank you for checking" not in texts(lines)


async def test_a_phishing_report_after_an_unrelated_guide_stays_a_phishing_report(chat: Chat) -> None:
    """After the self-service reset guide shown beside a reset offer, "I got a weird email asking for my password" is
    a phishing report of its own: the reset guide read with it leads only by its title's words, and the message
    alone does not lean to it, so the phishing advice comes, not a guide."""
    await chat.say(ANN, "I forgot my password")
    lines = await chat.say(ANN, "I got a weird email asking for my password")
    assert "Thank you for checking" in texts(lines) and "Did this help?" not in texts(lines)


async def test_what_should_tip_me_off_asks_how_to_spot_a_fake(chat: Chat) -> None:
    """"what should tip me off that an email ... is a fake" asks how to tell, with no "how": the guide on spotting
    phishing answers, with the report one click away, rather than the steps for an email already received."""
    lines = await chat.say(ANN, "what should tip me off that an email from the finance director asking for a wire "
                                "transfer is a fake")
    assert "*How to spot a phishing email" in texts(lines) and "Report a suspicious email" in labels(lines)


async def test_a_security_matter_the_signal_reader_confirms_settles_a_close_call(database_url: str,
                                                                                parser: EmbeddedParser,
                                                                                clock: Clock) -> None:
    """On a bot that calls every pair of readings a close call, "left the pool's front desk tablet on the city van ...
    what do I do?" reads about as much as a how-to question as a security matter; the signal reader reads a lost
    device, so the urgent report comes first and the guide below it, not the guide with the report one click away."""
    settings = make_settings(database_url, nlu_ambiguity_margin=1.0, nlu_threshold=0.3)
    with running_bot(settings, nlu=parser, clock=clock) as wavering:
        lines = await Chat(wavering).say(ANN, "so embarrassing. left the pool's front desk tablet on the city van "
                                              "yesterday, its not in lost and found and the driver hasnt seen it. its "
                                              "still signed in to the rec software. what do I do?")
    assert "This sounds urgent" in texts(lines) and "Submit" in labels(lines)
    assert "*Report a lost or stolen" in texts(lines)
    assert texts(lines).index("This sounds urgent") < texts(lines).index("*Report a lost or stolen")


class _ReadsAs:
    """A parser that reads every message the same way, with ``scores``: what the embedded parser did with some
    messages (a dispatcher's report that half matched the MDT guide read as a how-to question)."""

    ready = True

    def __init__(self, *scores: tuple[str, float]) -> None:
        self.scores: list[IntentScore] = [{"name": name, "confidence": confidence} for name, confidence in scores]
        self.name = f"reads-as-{scores[0][0]}"

    async def parse(self, text: str) -> ParseResult:
        return {"text": text, "intent": self.scores[0], "entities": [], "intent_ranking": list(self.scores)}


async def test_public_safety_work_stopped_read_as_a_question_is_a_report(database_url: str, clock: Clock) -> None:
    """Read as a how-to question, "comm center, position 6 ... the dispatcher misses the first words of the unit
    talking" asks nothing, and the signal reader reads a dispatch system affected: the ticket preview, urgent, where
    a guide its words half match came alone."""
    howto = _ReadsAs(("howto", 0.7), ("open_ticket", 0.2))
    with running_bot(make_settings(database_url), nlu=howto, clock=clock) as reading:
        lines = await Chat(reading).say(ANN, "Comm center, position 6. On the radio side the select audio cuts out "
                                             "for a second or two every few minutes and the dispatcher misses the "
                                             "first words of the unit talking.")
    assert "Here is the ticket" in texts(lines) and "Urgency: urgent" in texts(lines)


@pytest.mark.parametrize("threshold", [0.45, 0.3])
async def test_emails_posing_as_the_employee_are_a_security_report_not_a_phishing_answer(database_url: str,
                                                                                      clock: Clock,
                                                                                      threshold: float) -> None:
    """Read first as a phishing report and close behind as a security matter (below the threshold, or a close call
    above it), "vendors have been calling about emails that seem to come from me ... I did not write these": the
    signal reader reads someone posing as staff. That confirms the security report; it would confirm the phishing
    report only if the words said the person did what the email asked. So the security report comes (Submit alerts
    the technicians), not the advice for a suspicious email one received."""
    reading = _ReadsAs(("report_phishing", 0.42), ("security_incident", 0.38), ("howto", 0.1))
    with running_bot(make_settings(database_url, nlu_threshold=threshold), nlu=reading, clock=clock) as bot:
        lines = await Chat(bot).say(ANN, "Vendors have been calling about emails that seem to come from me, Dana "
                                         "Whitfield in purchasing, but from an outside address, asking them to change "
                                         "where they send payments. I did not write these.")
    assert "This sounds urgent" in texts(lines) and "Submit" in labels(lines)
    assert "Thank you for checking" not in texts(lines)


async def test_a_need_told_that_a_guide_says_to_ask_it_for_is_a_request_whatever_the_unsure_reading(
        database_url: str, clock: Clock) -> None:
    """Read unsurely as a wish for a person, "Jordan starts at the permit counter on monday and nothing is ready for
    him, no login, no email, no desk phone" tells a need the new-hire guide says to ask IT for: the ticket preview,
    under the guide, not the guide alone with nothing to file."""
    reading = _ReadsAs(("human_handoff", 0.3), ("open_ticket", 0.2), ("howto", 0.15))
    with running_bot(make_settings(database_url), nlu=reading, clock=clock) as bot:
        lines = await Chat(bot).say(ANN, "Jordan Ellis starts at the permit counter on monday and as far as i can see "
                                         "nothing is ready for him, no login, no email, no desk phone. he sits at the "
                                         "old front desk by the window")
    assert "Here is the ticket" in texts(lines) and "*New-hire IT checklist" in texts(lines)


@pytest.mark.parametrize(("text", "alarm"), [
    ("I had the parks ipad at the softball tournament to check the brackets, put it down on the bleachers between "
     "games and now it is not there. we walked the whole field and asked at the snack bar", True),
    ("my laptop sat in a drawer the whole time I was on leave and now it wont get on the staff wireless, just fails",
     False),
])
async def test_a_sure_security_signal_stands_for_a_message_the_parser_is_unsure_of(database_url: str, clock: Clock,
                                                                                  text: str, alarm: bool) -> None:
    """Read unsurely as a how-to question, "put it down on the bleachers between games and now it is not there" is a
    lost device the signal reader is sure of: the urgent security report, whatever the parser ranks. A laptop that sat
    in a drawer during a leave, which the reader takes for a lost device only unsurely (0.67), gets no alarm."""
    reading = _ReadsAs(("howto", 0.4), ("open_ticket", 0.2), ("out_of_scope", 0.1))
    with running_bot(make_settings(database_url), nlu=reading, clock=clock) as bot:
        lines = await Chat(bot).say(ANN, text)
    assert ("This sounds urgent" in texts(lines)) is alarm


async def test_wishing_how_others_should_be_answered_asks_how(database_url: str, clock: Clock) -> None:
    """Read unsurely as a phishing report for "people emailing me" (as the embedded parser read a part of it), "off
    from the 14th thru the 25th ... Rosa is covering licensing while im out. want people emailing me to know that"
    tells what the person wants others to get, which a setting does: it asks how, and the out-of-office guide is the
    answer rather than a list of choices."""
    reading = _ReadsAs(("report_phishing", 0.35), ("out_of_scope", 0.3), ("human_handoff", 0.1))
    with running_bot(make_settings(database_url), nlu=reading, clock=clock) as bot:
        lines = await Chat(bot).say(ANN, "off from the 14th thru the 25th for my sons graduation and Rosa is covering "
                                         "licensing while im out. want people emailing me to know that")
    assert "*Turn on an out-of-office reply" in texts(lines) and "not completely sure" not in texts(lines)

