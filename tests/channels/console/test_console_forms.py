"""Forms in the console channel: rendered as a ``form`` object, answered with ``submit`` and ``values``."""

from __future__ import annotations

import pytest

from bot.app import Bot
from bot.channels.console.channel import ConsoleChannel, _read_request
from bot.core.messages import Form, FormInput, Reply


async def test_a_form_reply_becomes_a_form_line(bot: Bot) -> None:
    """The line carries the submit id, the title and every input with its kind and choices."""
    console = ConsoleChannel(bot)
    form = Form("skill:notices:compose:", "New announcement", (
        FormInput("title", "Title"),
        FormInput("kind", "Kind", "choice", (("outage", "Outage"), ("general", "General"))),
    ))
    await console.send(Reply("Fill this in", form=form, to="ann@city.example"), None)
    [line] = console.lines
    assert line["form"]["submit"] == "skill:notices:compose:"
    assert [i["name"] for i in line["form"]["inputs"]] == ["title", "kind"]
    assert line["form"]["inputs"][1]["choices"] == [["outage", "Outage"], ["general", "General"]]


def test_a_submit_line_is_read_with_its_values() -> None:
    """``{"user", "submit", "values"}`` is a form submission; values become strings."""
    user, kind, value, conversation, values = _read_request(
        '{"user": "tom@city.example", "submit": "skill:notices:compose:", "values": {"title": "Email", "ack": true}}'
    )
    assert (user, kind, value, conversation) == ("tom@city.example", "submit", "skill:notices:compose:", None)
    assert values == {"title": "Email", "ack": "True"}


def test_values_must_be_an_object() -> None:
    """A submission whose values are not an object is refused with a clear message."""
    with pytest.raises(ValueError, match='"values" must be an object'):
        _read_request('{"user": "tom@city.example", "submit": "x", "values": [1]}')


async def test_a_room_address_goes_to_that_channel(bot: Bot) -> None:
    """``room_address(channel, conversation)`` reaches the named channel with the conversation as ``to``."""
    from bot.core.messages import room_address

    console = ConsoleChannel(bot)
    bot.add_channel(console)
    await bot.deliver(Reply("Email is down", to=room_address("console", "general")))
    await bot.deliver(Reply("nowhere", to=room_address("slack", "C1")))
    assert [(line["to"], line["text"]) for line in console.lines] == [("general", "Email is down")]


async def test_no_reply_can_page_a_whole_channel(bot: Bot) -> None:
    """Whatever a skill echoes back, @channel, @everyone, @here and <!channel> arrive defused."""
    from bot.core.messages import Field

    console = ConsoleChannel(bot)
    bot.add_channel(console)
    await bot.identity.resolve("console", "ann@city.example", email="ann@city.example")
    await bot.deliver(Reply("broken <!channel> @channel @everyone @here", fields=(Field("Summary", "<!here>"),),
                            to="user:ann@city.example"))
    [line] = console.lines
    for raw in ("<!channel>", "<!here>", " @channel", " @everyone", " @here"):
        assert raw not in line["text"]
    assert "@\u200bchannel" in line["text"]
