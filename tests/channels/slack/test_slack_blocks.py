"""Block Kit rendering: escaping, Slack's size limits, forms packed into buttons and read back from modals."""

from __future__ import annotations

import pytest

from bot.channels.slack.blocks import (
    OPEN_FORM,
    escape,
    fallback_text,
    form_from_value,
    form_to_value,
    home_view,
    message_blocks,
    modal_view,
    submitted_values,
)
from bot.core.messages import Button, Field, Form, FormInput, Reply


def test_user_text_cannot_mention_or_link() -> None:
    """&, < and > are escaped, so <!channel>, <@U1> and <http://x|y> arrive as plain text."""
    reply = Reply("hi <!channel> <@U123> <http://evil.example|click> & more",
                  fields=(Field("Summary", "<!here> printer"),))
    blocks = message_blocks(reply)
    rendered = str(blocks) + fallback_text(reply)
    assert "<!" not in rendered and "<@" not in rendered and "<http" not in rendered
    assert "&lt;!channel&gt;" in blocks[0]["text"]["text"] and "&amp; more" in blocks[0]["text"]["text"]
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_long_text_many_fields_and_buttons_fit_slacks_limits() -> None:
    """Sections hold 3,000 characters, ten fields and 25 buttons per block, 50 blocks per message."""
    reply = Reply("line\n" * 2000, fields=tuple(Field(f"F{i}", "v") for i in range(12)),
                  buttons=tuple(Button(f"b:{i}", f"Button {i}" * 20) for i in range(30)))
    blocks = message_blocks(reply)
    sections = [b for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(b["text"]["text"]) <= 3000 for b in sections) and len(sections) == 4
    assert [len(b["fields"]) for b in blocks if "fields" in b] == [10, 2]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 5]
    assert all(len(e["text"]["text"]) <= 75 for b in actions for e in b["elements"])
    huge = message_blocks(Reply("x" * 200_000))
    assert len(huge) == 50 and huge[-1]["type"] == "context"


FORM = Form("skill:notices:compose:7", "A very long title for a Slack modal", (
    FormInput("text", "Message", kind="textarea", initial="Outlook is down"),
    FormInput("who", "Audience", kind="multichoice", choices=(("all", "All staff"), ("it", "IT")), initial="all,it"),
    FormInput("level", "Level", kind="choice", choices=(("low", "Low"), ("high", "High")), initial="high"),
    FormInput("when", "Starts", kind="datetime", optional=True, hint="Sat 6am"),
    FormInput("ack", "Ask for acknowledgement", kind="boolean", initial="no"),
), submit_label="Preview")


def test_form_travels_in_a_button_and_becomes_a_modal() -> None:
    """A form survives the round trip through a button value; the modal keeps Slack's limits."""
    value = form_to_value(FORM)
    assert len(value) <= 2000 and form_from_value(value) == FORM
    opener = [e for b in message_blocks(Reply("Compose", form=FORM)) if b["type"] == "actions" for e in b["elements"]]
    assert opener[0]["action_id"] == OPEN_FORM and form_from_value(opener[0]["value"]) == FORM
    view = modal_view(FORM, "D0TOM00001")
    assert len(view["title"]["text"]) <= 24
    elements = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert elements["text"]["initial_value"] == "Outlook is down" and elements["text"]["multiline"]
    assert [o["value"] for o in elements["who"]["initial_options"]] == ["all", "it"]
    assert elements["level"]["initial_option"]["value"] == "high"
    assert elements["ack"]["initial_option"]["value"] == "no"
    assert [b["optional"] for b in view["blocks"]] == [False, False, False, True, False]
    with pytest.raises(ValueError):
        form_from_value("not-a-form")


def test_submitted_values_are_strings_by_input_name() -> None:
    """Selects give their value, multi-selects comma-separated, empty inputs an empty string."""
    view = {"state": {"values": {
        "text": {"value": {"type": "plain_text_input", "value": "Hello"}},
        "who": {"value": {"type": "multi_static_select", "selected_options": [{"value": "all"}, {"value": "it"}]}},
        "level": {"value": {"type": "static_select", "selected_option": None}},
        "when": {"value": {"type": "plain_text_input", "value": None}},
        "ack": {"value": {"type": "radio_buttons", "selected_option": {"value": "yes"}}},
    }}}
    assert submitted_values(view) == {"text": "Hello", "who": "all,it", "level": "", "when": "", "ack": "yes"}


def test_home_view_shows_approvals_only_to_technicians() -> None:
    """The App Home lists tickets and outages for everyone, approvals with buttons for technicians."""
    employee = home_view("Ann", [Button("intent:open_ticket", "Open a ticket")], [("HELP-1", "copier", "open")],
                         [], None)
    assert "Pending approvals" not in str(employee) and "No known outages" in str(employee)
    technician = home_view("Tom", [], [], [("Email down", "Mon 09:00")], [(3, "reset <b>", "ann@city.example")])
    assert "approval:3:approve" in str(technician) and "reset &lt;b&gt;" in str(technician)
