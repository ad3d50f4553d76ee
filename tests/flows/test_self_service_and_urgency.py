"""Self-service first, and urgency and security read from meaning, end to end through the console (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.nlu import EmbeddedParser
from bot.store import Approval, AuditEntry, Ticket
from tests.support import Chat, Clock, button, make_settings, running_bot, texts

ANN = "ann@city.example"
SELF_SERVICE = "https://passwordreset.city.example"


def tickets(bot: Bot) -> list[Ticket]:
    """Every ticket row."""
    return list(bot.db.call(lambda s: s.exec(select(Ticket).order_by(Ticket.id)).all()))


def approvals(bot: Bot) -> list[Approval]:
    """Every approval row."""
    return list(bot.db.call(lambda s: s.exec(select(Approval)).all()))


@pytest.fixture
def desk(database_url: str, parser: EmbeddedParser, clock: Clock) -> Iterator[Chat]:
    """A chat with a bot whose settings name a self-service password page."""
    settings = make_settings(database_url, password_self_service_url=SELF_SERVICE)
    with running_bot(settings, nlu=parser, clock=clock) as bot:
        yield Chat(bot)


# Self-service first ------------------------------------------------------------------


async def test_changing_ones_own_password_gets_the_guide_and_a_reset_button(desk: Chat) -> None:
    """Asking to change one's own password answers with the guide and the self-service page; the reset by a
    technician is only a button, and it starts the approved reset when clicked."""
    lines = await desk.say(ANN, "windows keeps reminding me my password runs out on thursday, i'd like to sort "
                                "it myself before then")
    answer = texts(lines)
    assert "Change your password when you know the current one" in answer
    assert f"Change it yourself: {SELF_SERVICE}" in answer
    assert "Do you want me to reset" not in answer
    assert texts(lines, to="technicians") == "" and approvals(desk.bot) == []
    lines = await desk.click(ANN, button(lines, "Reset it for me instead"))
    assert "Do you want me to reset the password of your account?" in texts(lines)
    lines = await desk.click(ANN, button(lines, "Yes"))
    assert "reset the password of ann@city.example" in texts(lines, to="technicians")
    assert [a.action for a in approvals(desk.bot)] == ["reset_password"]


async def test_password_rules_get_the_rules(chat: Chat, bot: Bot) -> None:
    """A question about the rules gets the rules article (no self-service page set: no such line)."""
    lines = await chat.say(ANN, "how long does a new password have to be and can it have spaces in it")
    assert "City password rules" in texts(lines)
    assert "Change it yourself" not in texts(lines)
    assert button(lines, "Reset it for me instead")
    assert approvals(bot) == []


async def test_a_sign_in_loop_is_troubleshooting_not_a_reset(chat: Chat, bot: Bot) -> None:
    """A sign-in prompt that keeps coming back is a how-to answer, not a password reset."""
    lines = await chat.say(ANN, "teams on my laptop logs me out and asks me to sign in again every hour, the "
                                "password itself is fine")
    assert "Do you want me to reset" not in texts(lines)
    assert texts(lines, to="technicians") == "" and approvals(bot) == []
    labels = {b["label"] for line in lines for b in line["buttons"]}
    assert labels & {"No", "Open a ticket"}  # the guide's "did this help?", or a ticket when there is no guide


@pytest.mark.parametrize(("message", "article", "offered"), [
    ("i forgot my password over the long weekend, how do i reset it myself without calling anyone",
     "Reset a forgotten password yourself", "Reset my password"),
    ("why does my account keep getting locked every morning when i never typed it wrong",
     "locked", "Unlock my account"),
    ("how can i tell if an email that looks like it is from payroll is fake",
     "phishing", "Report a suspicious email"),
])
async def test_a_question_how_or_why_gets_the_guide_with_the_action_one_click_away(
        chat: Chat, bot: Bot, message: str, article: str, offered: str) -> None:
    """Asking how or why is asking to learn: the guide answers, the action the words also fit is a button,
    and nothing is started or sent until it is clicked."""
    lines = await chat.say(ANN, message)
    assert "Did this help?" in texts(lines) and article.lower() in texts(lines).lower()
    assert approvals(bot) == [] and tickets(bot) == [] and texts(lines, to="technicians") == ""
    assert button(lines, offered)


async def test_asking_the_desk_to_act_is_not_a_question_how(chat: Chat, bot: Bot) -> None:
    """"Can you reset my password" asks the desk to do it: the reset starts, no guide comes first."""
    lines = await chat.say(ANN, "can you reset my password please, i forgot it")
    assert "Do you want me to reset the password of your account?" in texts(lines)


async def test_the_offered_action_starts_from_the_guide(chat: Chat, bot: Bot) -> None:
    """The button beside the guide starts the action as if it had been asked for."""
    lines = await chat.say(ANN, "i forgot my password over the long weekend, how do i reset it myself")
    lines = await chat.click(ANN, button(lines, "Reset my password"))
    assert "Do you want me to reset the password of your account?" in texts(lines)


# Security ------------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "reason", "advice"), [
    ("somebody smashed the window of my truck at the depot and my city phone is gone",
     "a city device was lost or stolen", "report it to the police"),
    ("a man at reception says the IT department sent him to pick up my laptop but nobody here knows him",
     "someone is impersonating staff or IT", "Give them no passwords"),
    ("my colleagues tell me they got a strange invoice from my mailbox this morning that i never wrote",
     "the account may be compromised", "Change your password now"),
])
async def test_a_security_matter_is_one_click_from_an_alert_and_an_urgent_ticket(
        chat: Chat, bot: Bot, message: str, reason: str, advice: str) -> None:
    """A lost device, someone posing as staff, or signs of a hijacked account: the employee sees the urgent
    report and what to do meanwhile at once; "Submit" alerts the technicians as a security matter and opens an
    urgent ticket that says why. Nothing is sent before that click."""
    preview = await chat.say(ANN, message)
    assert "Urgency: urgent" in texts(preview) and f"Why: {reason}" in texts(preview)
    assert advice in texts(preview, to=ANN)
    assert texts(preview, to="technicians") == "" and tickets(bot) == []
    lines = await chat.click(ANN, button(preview, "Submit"))
    alert = texts(lines, to="technicians")
    assert f"URGENT security: ann@city.example reports {reason} (ticket HELP-1)" in alert
    assert advice in texts(lines, to=ANN)
    [ticket] = tickets(bot)
    assert ticket.urgency == "urgent" and ticket.summary == f"Security: {reason}"
    assert ticket.description.startswith(f"Marked urgent: {reason}.") and message in ticket.description
    audit = bot.db.call(lambda s: s.exec(select(AuditEntry).where(AuditEntry.action == "security.report")).all())
    assert [entry.actor for entry in audit] == [ANN]


async def test_a_security_reading_below_the_threshold_is_taken_when_the_signal_reader_agrees(
        database_url: str, parser: EmbeddedParser) -> None:
    """Unsure of the intent, but the signal reader reads a lost device in the same words: the urgent report
    comes at once, still one click from being sent."""
    settings = make_settings(database_url, nlu_threshold=0.99)  # nothing is sure enough on its own
    with running_bot(settings, nlu=parser) as bot:
        chat = Chat(bot)
        lines = await chat.say(ANN, "i think the code enforcement tablet slid off the seat on the crosstown bus "
                                    "and the transit lost and found does not have it")
        assert "Urgency: urgent" in texts(lines) and button(lines, "Submit")
        assert texts(lines, to="technicians") == "" and tickets(bot) == []


async def test_not_a_security_matter_sends_nothing_and_leaves_a_way_forward(chat: Chat, bot: Bot) -> None:
    """A misread message costs the employee one "No": no alert, no ticket, and a normal ticket or a person."""
    preview = await chat.say(ANN, "lost my city phone somewhere at the fairgrounds yesterday")
    lines = await chat.click(ANN, button(preview, "Not a security matter"))
    assert "I sent nothing" in texts(lines)
    assert texts(preview + lines, to="technicians") == "" and tickets(bot) == []
    assert button(lines, "Open a normal ticket") and button(lines, "Talk to a person")


async def test_a_phishing_report_that_says_the_password_was_typed_is_the_urgent_security_report(chat: Chat,
                                                                                              bot: Bot) -> None:
    """When the message already says the password went into the fake page, there is no "did you click?": the
    urgent security report comes at once, and it is sent on Submit like every other (nothing without a click)."""
    lines = await chat.say(ANN, "that email about my paycheck had a link, i logged in on the page it opened and "
                                "only then saw the address was not ours")
    assert "Did you click" not in texts(lines) and "Urgency: urgent" in texts(lines)
    assert "URGENT security" not in texts(lines, to="technicians") and tickets(bot) == []
    lines = await chat.click(ANN, button(lines, "Submit"))
    assert "URGENT security" in texts(lines, to="technicians")
    assert button(lines, "Reset my password now")
    assert [t.urgency for t in tickets(bot)] == ["urgent"]


async def test_a_phishing_report_that_followed_the_link_is_the_security_report(chat: Chat) -> None:
    """"I followed the link and entered my city email and password on the page": the words say the scam was acted
    on, and the signal reader reads a compromise, so no "did you click?" but the urgent report, sent on Submit."""
    lines = await chat.say(ANN, "Earlier this morning I received an email that appeared to come from our benefits "
                                "carrier, saying that all employees had to confirm their dependents before the open "
                                "enrollment deadline. I followed the link and entered my city email and password on "
                                "the page before I noticed that the address was not the carrier's at all.")
    assert "Did you click" not in texts(lines) and "This sounds urgent" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Submit"))
    assert "URGENT security" in texts(lines, to="technicians")


async def test_a_phishing_report_asking_what_to_do_after_signing_in_is_the_security_report(chat: Chat) -> None:
    """"... software license ran out and to log in to renew, so i did ... what should i do": read as a phishing
    report that asks what to do, it got a guide with the phishing report one click away; the signal reader reads a
    compromise and the words say the password went in, so the urgent security report comes."""
    lines = await chat.say(ANN, "a notice came in saying our parking citation software license ran out and to log in "
                                "to renew, so i did, using my city login. only after did i see the link went to some "
                                "strange site. what should i do")
    assert "This sounds urgent" in texts(lines) and button(lines, "Submit")


async def test_a_phishing_report_that_says_the_login_went_in_without_an_i_is_the_security_report(chat: Chat) -> None:
    """"..., clicked the link and put my city login in before i saw the address": no "I" before what was done, and
    still the words say the scam was acted on; with the compromise the signal reader reads, the urgent report."""
    lines = await chat.say(ANN, "a message that looked like our toner vendor about a late invoice, clicked the link "
                                "and put my city login in before i noticed the web address was some odd foreign "
                                "thing. now what")
    assert "This sounds urgent" in texts(lines) and button(lines, "Submit")


async def test_a_hijacked_account_is_alerted_before_any_reset(chat: Chat, bot: Bot) -> None:
    """A reset asked for because someone else got in alerts security first; the reset is then a button."""
    lines = await chat.say(ANN, "somebody got into my account last night, the password i use every day is "
                                "suddenly wrong and i never changed it")
    assert "Do you want me to reset" not in texts(lines) and approvals(bot) == []
    lines = await chat.click(ANN, button(lines, "Submit"))
    assert "URGENT security: ann@city.example reports" in texts(lines, to="technicians")
    assert "Do you want me to reset" not in texts(lines) and approvals(bot) == []
    lines = await chat.click(ANN, button(lines, "Reset my password now"))
    assert "Do you want me to reset the password of your account?" in texts(lines)


# Urgency -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "reason"), [
    ("the receipt printer at the utility billing window died and there are a dozen residents in line",
     "customers are waiting at the counter"),
    ("the sound system in council chambers is silent and the public hearing begins in fifteen minutes",
     "a public meeting is about to start"),
    ("the dispatchers say the cad screens froze and they cannot enter new calls",
     "a dispatch or public-safety system is affected"),
    ("the online water bill payment page shows an error for everybody since this morning",
     "payments from the public cannot be taken"),
])
async def test_public_facing_work_stopped_is_urgent_and_says_why(chat: Chat, bot: Bot, message: str,
                                                                 reason: str) -> None:
    """A stoppage the public feels is urgent though it never says so; the preview and the ticket say why."""
    lines = await chat.say(ANN, message)
    preview = texts(lines)
    assert "Urgency: urgent" in preview and f"Why: Marked urgent: {reason}" in preview
    lines = await chat.click(ANN, button(lines, "Submit"))
    assert f"Why: Marked urgent: {reason}" in texts(lines, to="technicians")
    [ticket] = tickets(bot)
    assert ticket.urgency == "urgent" and ticket.description.startswith(f"Marked urgent: {reason}.")


async def test_an_unlock_at_the_counter_tells_the_technicians_it_is_urgent(chat: Chat, bot: Bot) -> None:
    """Locked out while serving the public: the approval card says why it cannot wait."""
    lines = await chat.say(ANN, "my login got locked while i was helping a resident at the permit window and "
                                "there are three more people waiting behind her")
    lines = await chat.click(ANN, button(lines, "Yes"))
    assert "Urgent: customers are waiting at the counter" in texts(lines, to="technicians")


async def test_an_ordinary_problem_stays_normal(chat: Chat, bot: Bot) -> None:
    """No public waiting, no security: normal urgency and no reason line."""
    lines = await chat.say(ANN, "the stapler tray on the 4th floor copier keeps jamming")
    assert "Urgency: normal" in texts(lines) and "Why:" not in texts(lines)
    await chat.click(ANN, button(lines, "Submit"))
    [ticket] = tickets(bot)
    assert ticket.urgency == "normal" and not ticket.description.startswith("Marked")


async def test_a_hand_off_carries_the_urgency_its_words_signal(desk: Chat) -> None:
    """Asking for a person while residents wait at the counter: the technicians see why it is urgent, the
    employee is told and gets the urgent ticket's preview; an ordinary call-back request carries no urgency."""
    lines = await desk.say(ANN, "need someone on the phone right away, the card machine at the billing counter "
                                "died and residents are lined up")
    alert = texts(lines, to="technicians")
    assert "asked to talk to a person" in alert and "Urgency: urgent" in alert and "counter" in alert
    assert "marked it urgent" in texts(lines, to=ANN)
    assert "Submit" in [b["label"] for line in lines for b in line["buttons"]]
    assert "Urgency: urgent" in texts(lines, to=ANN)
    calm = await desk.say(ANN, "can somebody call me about my laptop when you have a sec")
    assert "asked to talk to a person" in texts(calm, to="technicians")
    assert "Urgency" not in texts(calm, to="technicians") and "marked it" not in texts(calm, to=ANN)



async def test_a_scam_already_paid_is_the_urgent_security_report(chat: Chat, bot: Bot) -> None:
    """A phishing report that says the person already did what the scam asked (bought the gift cards) is no
    longer a question of "did you click?": the security reading it carries is enough for the urgent report."""
    lines = await chat.say(ANN, "pretty sure i got played. a text that looked like it came from the parks director "
                                "said to pick up three target gift cards for the volunteers and send photos of the "
                                "backs, i bought them at lunch and sent the pictures before i thought about it")
    assert "Did you click" not in texts(lines) and "Urgency: urgent" in texts(lines)
    assert tickets(bot) == []
