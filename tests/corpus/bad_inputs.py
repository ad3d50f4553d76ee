"""The bad-input corpus (issue 18): families of inputs an outsider or a broken client sends, per surface.

``jsonl_cases`` are lines for ``helpdesk shell --jsonl``; ``slack_cases`` are bodies
for ``POST /slack/events`` (each signed by the harness); ``teams_cases`` are
bodies for ``POST /api/messages``. Every case names its family and says what a
correct answer is: ``refused`` (an error line, a 4xx, or a 200 that ignores it:
nothing is stored at all) or ``answered`` (a polite message, no "Something went
wrong", and no ticket, approval, request or acknowledgement made by it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ANN", "BOB", "Case", "TOM", "jsonl_cases", "jsonl_setup", "slack_cases", "teams_cases"]

ANN, BOB, TOM = "ann@city.example", "bob@city.example", "tom@city.example"
Expect = Literal["refused", "answered"]


@dataclass(frozen=True)
class Case:
    """One bad input: its family, the raw input, and what a correct answer is."""

    family: str
    raw: Any
    expect: Expect


def _deep(depth: int, leaf: str = '"x"') -> str:
    return "[" * depth + leaf + "]" * depth


NUL_AND_SURROGATES = ["a\u0000b", "\u0000", "x\ud800y", "\udfff", "\ud83d", "ok \u0000\ud800 mixed", "\x1b[31mred",
                      "\x07bell\x08"]
BIDI = ["invoice\u202efdp.exe", "\u202bright to left\u202c", "\u2066isolate\u2069", "mark\u200e\u200f",
        "arabic\u061cmark", "\u202dforced ltr\u202c", "\u2067\u2068nested\u2069\u2069"]
MARKUP = ["<!channel> the printer is down", "@here everyone look", "<@U0ADMIN> please reset me",
          "<http://evil.example/login|city portal> is broken", "[link=http://evil]click[/link] vpn",
          "<script>alert(1)</script> my email", "*bold* _it_ ~strike~ `code` printer", "<!subteam^S0123> help",
          "&lt;&gt;&amp; escaped printer", "<#C0TECHS001|technicians> vpn down"]
QUERY_METACHARACTERS = ['any update on HELP-1" OR project = SECRET', "any update on HELP-1 OR 1=1",
                        "status of ticket HELP-1'; DROP TABLE ticket;--", "reset the password of *)(uid=*",
                        "unlock the account of admin)(|(objectClass=*", "reset password for *@city.example",
                        "reset the password of tom@city.example)(mail=*", "any update on \\\\HELP-1",
                        'my tickets labels = "x" OR reporter is not EMPTY', "reset password for \\2a\\28\\29",
                        "any update on HELP-1 ORDER BY created", "is email down? project in (A,B)"]


def jsonl_setup() -> list[str]:
    """Lines run before the corpus so that it has things to act on: Ann's ticket HELP-1 and her reset request."""
    return [json.dumps({"user": ANN, "text": "the copier on the 3rd floor keeps jamming every morning"})]


def jsonl_cases() -> list[Case]:
    """Bad lines for ``helpdesk shell --jsonl``."""
    cases: list[Case] = []

    def refused(family: str, *lines: str) -> None:
        cases.extend(Case(family, line, "refused") for line in lines)

    def answered(family: str, *lines: str) -> None:
        cases.extend(Case(family, line, "answered") for line in lines)

    def line(**fields: Any) -> str:
        return json.dumps(fields)

    refused("malformed json", "{", "[1, 2", "nul", "{'user': 'ann@city.example'}", '{"user": "a@b", "text": "hi"',
            '{"user": "ann@city.example", "text": "hi"} trailing', "NaN", "Infinity", '"just a string"', "[]",
            "42", "true", '{"user": "ann@city.example", "text": "\\x41"}', '{"user": "ann@city.example", "te',
            "\ufeff{}", '{"user": "ann@city.example",, "text": "hi"}')
    refused("wrong types", line(user=5, text="hi"), line(user=None, text="hi"), line(user=["ann@city.example"]),
            line(user={"email": ANN}, text="hi"), line(user=True, text="hi"), line(user=ANN, text=5),
            line(user=ANN, text=None), line(user=ANN, text=["hi"]), line(user=ANN, text={"t": "hi"}),
            line(user=ANN, click=5), line(user=ANN, click=["x"]), line(user=ANN, submit="f", values=[1]),
            line(user=ANN, submit="f", values="a=b"), line(user=ANN, submit="f", values=3),
            line(user=ANN, text="hi", conversation=5), line(user=ANN, text="hi", conversation=["x"]),
            line(user="not-an-email", text="hi"), line(user="", text="hi"), line(text="hi"), line(user=ANN))
    refused("huge values", line(user="a" * 10_000 + "@city.example", text="hi"), line(user=ANN, click="x" * 5000),
            line(user=ANN, text="hi", conversation="c" * 1000), line(user=ANN, submit="s" * 3000, values={}))
    answered("huge values", line(user=ANN, text="my printer is broken " * 1500),
             line(user=ANN, text="vpn " + "a" * 25_000))
    refused("deep values", _deep(100_000), _deep(1000), line(user=ANN, text="hi") [:-1] + ', "x": ' + _deep(40) + "}",
            '{"user": "ann@city.example", "submit": "f", "values": {"a": ' + _deep(5000) + "}}",
            '{"user": "ann@city.example", "click": "x", "deep": ' + "{\"a\": " * 50 + "1" + "}" * 50 + "}")
    refused("nul and surrogates in ids", *(line(user=f"ann{bad}@city.example", text="hi") for bad in
                                           NUL_AND_SURROGATES[:4]),
            line(user=ANN, text="hi", conversation="x\u0000"), line(user=ANN, click="approval:1\u0000:approve"),
            line(user=ANN, click="intent:\ud800"), line(user=ANN, submit="f\u0000", values={}))
    answered("nul and surrogates in text", *(line(user=ANN, text=f"how do I connect to the vpn {bad}")
                                             for bad in NUL_AND_SURROGATES))
    refused("empty text", line(user=ANN, text="\u0000\u0000"), line(user=ANN, text="   "))
    answered("bidi controls", *(line(user=ANN, text=f"my file {bad} will not open in outlook") for bad in BIDI))
    answered("markup and mentions", *(line(user=ANN, text=text) for text in MARKUP))
    answered("jql and ldap metacharacters", *(line(user=ANN, text=text) for text in QUERY_METACHARACTERS))
    refused("ids out of range", *(line(user=TOM, click=click) for click in (
        "approval:99999999999999999999:approve", "approval:2147483648:deny", "skill:accounts:done:99999999999",
        "skill:howto:helped:99999999999999999999", "skill:notices:ack:18446744073709551616",
        "approval:\uff11\uff12:approve", "approval:\u00b2:approve", "skill:howto:helped:\u0661\u0662")))
    answered("ids out of range", *(line(user=TOM, click=click) for click in (
        "approval:-1:approve", "approval:0:approve", "approval:1e9:approve", "approval:2147483647:approve",
        "approval:1:maybe", "approval::approve", "skill:tickets:take:HELP-99999999999999999999",
        "skill:howto:helped:-5", "skill:howto:unhelpful:1.5", "skill:notices:ack:0x10")))
    answered("things that do not exist", *(line(user=ANN, click=click) for click in (
        "confirm:deadbeef:yes", "slot:summary:x", "intent:no_such_intent", "skill:no_such_skill:x:y",
        "skill:notices:ack:424242", "skill:howto:helped:424242", "skill:accounts:done:424242", "nothing-like-ours",
        "skill:notices:subscribe:", "skill:tickets:nope:HELP-1", "skill:smalltalk:nope:x", "skill:accounts:nope:1")),
        line(user=ANN, text="any update on HELP-424242?"), line(user=ANN, text="add to HELP-424242: more info"),
        line(user=ANN, submit="skill:notices:compose:424242", values={"title": "x"}),
        line(user=ANN, submit="no-such-form", values={"a": "b"}))
    answered("someone else's things", line(user=BOB, text="any update on HELP-1?"),
             line(user=BOB, text="add to HELP-1: me too, and close it"),
             line(user=BOB, click="skill:tickets:take:HELP-1"), line(user=BOB, click="skill:tickets:resolve:HELP-1"),
             line(user=BOB, click="approval:1:approve"), line(user=BOB, click="skill:accounts:done:1"),
             line(user=BOB, click="skill:smalltalk:take:ann@city.example"),
             line(user=BOB, click="skill:notices:phish_notice:x"), line(user=BOB, click="skill:notices:send:1"),
             line(user=BOB, text="resolve HELP-1: fixed it myself"), line(user=BOB, text="take HELP-1"),
             line(user=BOB, text="announce email down tonight"))
    answered("form submissions", *(line(user=ANN, submit="skill:tickets:submit:x", values=values) for values in (
        {"summary": "a\u0000b"}, {"summary": "x" * 50_000}, {"summary": {"nested": "dict"}}, {"summary": [1, 2]},
        {f"k{i}": "v" for i in range(300)}, {"": ""}, {"summary": "\u202eexe.pdf"}, {"summary": None})))
    return cases


def _event(event: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T0CITYHALL", "api_app_id": "A0HELPDESK", "event": event,
            "event_time": 1700000000}


def _dm(text: Any = "hi", **fields: Any) -> dict[str, Any]:
    event = {"type": "message", "channel_type": "im", "channel": "D0ANN00001", "user": "U0ANN00001", "text": text,
             "ts": "1700000000.000100"}
    event.update(fields)
    return event


def slack_cases() -> list[Case]:
    """Bad bodies for ``POST /slack/events``: ``(content type, body)`` pairs, signed by the test."""
    cases: list[Case] = []
    json_type, form_type = "application/json", "application/x-www-form-urlencoded"

    def body(family: str, expect: Expect, value: Any, content_type: str = json_type) -> None:
        text = value if isinstance(value, str) else json.dumps(value)
        cases.append(Case(family, (content_type, text), expect))

    for raw in ("{", "[]", "null", "42", '"x"', _deep(100_000), "{\"a\": " * 2000 + "1" + "}" * 2000):
        body("malformed json", "refused", raw)
    for raw in ("payload=%7Bbroken", "payload=", "payload=null", "payload=" + "%5B" * 3000, ""):
        body("malformed json", "refused", raw, form_type)
    for user in (5, None, ["U0ANN00001"], {"id": "U0ANN00001"}, "", "U0ANN\u000000001", "U" * 500, True):
        body("wrong types", "refused", _event(_dm(user=user)))
    body("wrong types", "refused", _event({k: v for k, v in _dm().items() if k != "user"}))
    body("wrong types", "refused", _event(_dm(text=5)))
    body("wrong types", "refused", _event(_dm(text=["hi"])))
    body("wrong types", "refused", _event(_dm(channel=7)))
    body("wrong types", "refused", _event(_dm(channel="D\u0000")))
    body("wrong types", "refused", {"type": "event_callback", "event": "not an object"})
    body("wrong types", "refused", {"type": "event_callback", "event": [1, 2]})
    body("wrong types", "refused", _event({"type": "app_mention", "channel": "C0GENERAL1", "text": "hi",
                                           "ts": "1.2"}))
    body("wrong types", "refused", _event({"type": "app_home_opened", "user": 5, "tab": "home"}))
    body("wrong types", "refused", _event({"type": "app_home_opened", "tab": "home"}))
    for text in NUL_AND_SURROGATES:
        body("nul and surrogates in text", "answered", _event(_dm(f"how do I connect to the vpn {text}")))
    for text in BIDI:
        body("bidi controls", "answered", _event(_dm(f"my file {text} will not open")))
    for text in MARKUP:
        body("markup and mentions", "answered", _event(_dm(text)))
    for text in QUERY_METACHARACTERS[:6]:
        body("jql and ldap metacharacters", "answered", _event(_dm(text)))
    body("huge values", "answered", _event(_dm("printer " * 4000)))
    for user in (5, None, {"id": 5}, {"id": "U\u0000"}, {}):
        body("wrong types", "refused", {"payload": {"type": "block_actions", "user": user, "actions": []}}, form_type)
    for number, value in enumerate(("approval:99999999999999999999:approve", "approval:1\u0000:approve",
                                    "x" * 3000, "skill:accounts:done:18446744073709551616")):
        # each a click of its own, as Slack sends them: its own trigger and action time (the inbox's key)
        payload = {"type": "block_actions", "user": {"id": "U0ANN00001"}, "trigger_id": f"t.1{number}",
                   "container": {"type": "message", "channel_id": "D0ANN00001", "message_ts": "1.1",
                                 "is_ephemeral": False},
                   "actions": [{"type": "button", "action_id": "a1", "value": value,
                                "action_ts": f"1.2{number}"}]}
        body("ids out of range", "answered", {"payload": payload}, form_type)
    for metadata in ("{broken", "[1]", json.dumps({"submit": 5}), _deep(5000)):
        view = {"type": "view_submission", "user": {"id": "U0ANN00001"}, "trigger_id": "t.2",
                "view": {"id": "V1", "type": "modal", "callback_id": "helpdesk_form", "private_metadata": metadata,
                         "state": {"values": {}}}}
        body("form submissions", "refused", {"payload": view}, form_type)
    for user_id in ("", "U\u0000", "x" * 500):
        body("wrong types", "refused", f"command=%2Fhelpdesk&user_id={user_id}&channel_id=C0GENERAL1&text=hi",
             form_type)
    return [_encoded(case) for case in cases]


def _encoded(case: Case) -> Case:
    """A form case given as ``{"payload": {...}}`` becomes the urlencoded body Slack sends."""
    from urllib.parse import quote

    content_type, text = case.raw
    if content_type.startswith("application/x-www-form-urlencoded") and text.startswith('{"payload"'):
        payload = json.loads(text)["payload"]
        text = "payload=" + quote(payload if isinstance(payload, str) else json.dumps(payload))
    return Case(case.family, (content_type, text), case.expect)


def teams_cases(activity: Any) -> list[Case]:
    """Bad bodies for ``POST /api/messages``; ``activity(**fields)`` makes a well-formed personal message."""
    cases: list[Case] = []

    def add(family: str, expect: Expect, value: Any) -> None:
        cases.append(Case(family, value if isinstance(value, str) else json.dumps(value), expect))

    for raw in ("{", "[]", "null", _deep(100_000), "{\"a\": " * 3000 + "1" + "}" * 3000, "not json at all"):
        add("malformed json", "refused", raw)
    base = activity(text="hi")
    for sender in (5, "x", [1], {"id": 5, "aadObjectId": "aad-ann"}, {"id": "29:ann", "aadObjectId": 7},
                   {"id": "29:ann", "aadObjectId": "aad\u0000ann"}, {"id": "29:\ud800", "aadObjectId": "aad-ann"},
                   {"id": "29:ann", "aadObjectId": "a" * 500}):
        add("wrong types", "refused", {**base, "from": sender})
    for conversation in ({"id": 5}, {"id": "a:\u0000"}, {"id": "x" * 1000}, {}, "a:personal"):
        add("wrong types", "refused", {**base, "conversation": conversation})
    add("wrong types", "refused", {k: v for k, v in base.items() if k != "type"})
    add("wrong types", "refused", {**base, "serviceUrl": "ftp://nowhere"})
    add("wrong types", "refused", {**base, "text": 5})
    for text in NUL_AND_SURROGATES:
        add("nul and surrogates in text", "answered", activity(text=f"how do I connect to the vpn {text}"))
    for text in BIDI[:4] + MARKUP[:4]:
        add("markup and bidi", "answered", activity(text=f"my file {text} will not open"))
    return cases
