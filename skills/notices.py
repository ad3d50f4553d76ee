"""Outage status, phishing reports, and announcements by technicians."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from bot.sdk import (
    KINDS,
    SURE,
    AnnouncementView,
    ApprovalView,
    Button,
    Context,
    Draft,
    Escalation,
    Field,
    Form,
    FormInput,
    Intent,
    PermissionDenied,
    Prompt,
    Reply,
    Skill,
    SkillClick,
    Slot,
    Turn,
    composer_inputs,
    composer_values,
    encode_action,
    neutralise_mentions,
    parse_window,
    read_composer,
    summary_of,
)

__all__ = ["Notices", "composer_inputs", "neutralise_mentions", "prefill"]

_ANNOUNCE = re.compile(
    r"^\s*(please\s+)?(make\s+an?\s+announcement|announce|post|send(\s+out)?|broadcast|notify|let\s+everyone\s+know)"
    r"\s+(an?\s+)?(all[- ]staff\s+)?(notice|announcement|message)?\s*(to\s+(all\s+staff|everyone)\s*)?"
    r"(that\s+|about\s+|:\s*)?", re.IGNORECASE)
_KIND_WORDS = (
    ("security", re.compile(r"\b(phish\w*|scam\w*|security|suspicious|fraud\w*|malware)\b", re.I)),
    ("maintenance", re.compile(r"\b(maintenance|planned|upgrades?|patch\w*|restarts?|window|scheduled)\b", re.I)),
    ("outage", re.compile(r"\b(down|outage|offline|not working|unavailable|out of service|degraded|issues?)\b",
                          re.I)),
)
_ASKS_STATUS = re.compile(
    r"\?|\b(?:is|are|was) (?:it|there|the|our|your|everything|\w+) (?:\w+ )?(?:down|out|up|working|broken)\b|"
    r"\b(?:any ?(?:one|body)|others?|every ?(?:one|body)) (?:else|too|also)\b|\bjust (?:me|us|my|our)\b|"
    r"\b(?:are|is) (?:you|it|IT|anyone|someone) (?:guys )?(?:aware|already|working|looking|on it)|"
    r"\b(?:do|did) (?:you|y'?all|u) (?:know|guys know|hear)|\bknown (?:issue|problem|outage)|"
    r"\b(?:any|what'?s the) (?:news|word|update|eta)\b|\bwondering\b",
    re.IGNORECASE,
)
"""How a message asks whether something is down, rather than telling that it is ("no dial tone on the 3rd floor")."""
_ACTED = re.compile(
    r"\b(?:so|and) i did\b|\bi (?:already |just |even )?(?:did it|did that|clicked|opened (?:it|the)|bought|paid|"
    r"sent (?:it|them|the|him|her)|typed|entered|put in|logged in|signed in|gave (?:it|them|him|her)|replied with|"
    r"followed (?:it|the|that|this|a))\b|"
    r"(?:^|[,.;]\s*|\b(?:and|then) )(?:clicked|tapped) (?:on )?(?:the|that|this|it)\b|"
    r"\b(?:put|typed|entered|gave) (?:in )?my (?:\w+ )?(?:login|password|credentials|creds|user ?name)\b",
    re.IGNORECASE,
)
"""How a report says the person already did what the scam asked (a security signal it carries is then enough)."""


def acted_on(text: str) -> bool:
    """Whether a report says the person already did what the scam asked ("i clicked", "so i did")."""
    return _ACTED.search(text) is not None


TECHNICIAN_ACTIONS = frozenset({"compose", "send", "edit", "discard", "cancel", "update", "followup", "resolve",
                                "resolved", "who", "announce_outage", "phish_notice"})


def prefill(text: str, systems: list[str], now: Any, timezone: str) -> dict[str, str]:
    """Composer values read from a typed start ("announce email maintenance Saturday 6am to 10am")."""
    rest = _ANNOUNCE.sub("", text or "").strip()
    if re.fullmatch(r"(a\s+)?(new\s+)?(notice|announcement|message)?\s*", rest, re.I):
        rest = ""
    values: dict[str, str] = {"kind": next((k for k, words in _KIND_WORDS if words.search(rest)), "general")}
    title = rest
    try:
        window = parse_window(rest, now, timezone)
    except ValueError:
        window = None
    if window is not None and (window.start or window.end) is not None:
        zone = ZoneInfo(timezone)
        values["start"] = (window.start or now).astimezone(zone).strftime("%Y-%m-%d %H:%M")  # "back by 3pm": from now
        if window.end is not None:
            values["end"] = window.end.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        title = window.strip_from(rest)
    title = title.strip(" .,:;-")
    values["title"] = (title[:1].upper() + title[1:])[:120]
    values["body"] = rest[:1].upper() + rest[1:] if rest else ""
    if systems:
        values["systems"] = ", ".join(dict.fromkeys(systems))
    return values


class Notices(Skill):
    """What is down, what to do with a suspicious email, and telling everyone."""

    name = "notices"
    summary = "Tell you whether a system is down, and take reports of suspicious emails"
    examples = ("is email down?", "I got a weird email asking for my password")
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("outage_status", slots=(Slot("system", "", entity="system", required=False),),
               label="Is something down?", label_about="Is {system} down?", confirmed_by="others",
               asked_again=True, problem_follows=True),
        Intent("report_phishing", label="Report a suspicious email", guide_first=True, guide_over_a_part=True,
               confirmed_by="security", confirmed_with=acted_on),
        Intent("announce", role="technician", slots=(Slot("system", "", entity="system", required=False),),
               label="Send an announcement", is_request=False),
    )
    prompts: ClassVar[tuple[Prompt, ...]] = (
        Prompt("Announce an outage", "announce an outage", "announce", "Tell staff about an outage (technicians)", 5),
        Prompt("Is email down?", "is email down?", "outage_status", "Current outages and maintenance", 20),
        Prompt("Report a phishing email", "I got a suspicious email", "report_phishing",
               "What to do about a suspicious email", 70),
    )

    # The buttons of the announcement service's messages (``NoticeButtons``) -----------

    def acknowledge_buttons(self, announcement_id: int) -> tuple[Button, ...]:
        """The "I have read this" button of a notice (answered by ``on_click``'s ``ack``)."""
        return (self._button("ack", announcement_id, "I have read this", "primary"),)

    def sent_buttons(self, announcement: AnnouncementView) -> tuple[Button, ...]:
        """The author's buttons once a notice went out: post an update, resolved, and who has read it."""
        number = int(announcement.id or 0)
        buttons: tuple[Button, ...] = (self._button("update", number, "Post an update"),
                                       self._button("resolve", number, "Resolved"))
        if announcement.ack_required:
            buttons += (self._button("who", number, "Who has read it"),)
        return buttons

    def _button(self, action: str, number: int, label: str, style: Literal["primary"] | None = None) -> Button:
        """A button of this skill outside a conversation (what ``ctx.button`` makes inside one)."""
        return Button(encode_action(SkillClick(self.name, action, str(number))), label, style)

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Answer an outage question, take a phishing report, or open the announcement composer."""
        if ctx.intent == "outage_status":
            await self._status(ctx)
        elif ctx.intent == "report_phishing":
            await self._phishing(turn, ctx)
        else:
            entities = turn.parse.get("entities", []) if turn.parse else []
            systems = [str(e["value"]) for e in entities if e["entity"] == "system"]
            values = prefill(turn.text, systems, ctx.now(), ctx.settings.timezone)
            await self._compose(ctx, values)

    # Outage status ---------------------------------------------------------------

    async def _status(self, ctx: Context) -> None:
        system = str(ctx.slots.get("system") or "")
        notices = await ctx.notices.active(system or None)
        settings = ctx.settings
        if notices:
            lines = []
            for notice in notices[:5]:
                announcement = await ctx.announcements.for_notice(int(notice.id or 0))
                since = (announcement.starts_at if announcement and announcement.starts_at else notice.created_at)
                upcoming = since > ctx.now()
                line = f"• {neutralise_mentions(notice.title)}: {'planned from' if upcoming else 'since'} " \
                       f"{settings.local_time(since)}"
                if announcement and announcement.ends_at:
                    line += f", expected to be back by {settings.local_time(announcement.ends_at)}"
                line += "."
                update = await ctx.announcements.latest_update(int(announcement.id or 0)) if announcement else None
                if update is not None:
                    line += f"\n  Latest update ({settings.local_time(update.created_at)}): " \
                            f"{neutralise_mentions(update.body or update.title)[:300]}"
                elif notice.body and notice.body.strip(" .").lower() != notice.title.strip(" .").lower():
                    line += f"\n  {neutralise_mentions(notice.body)[:300]}"
                lines.append(line)
            subscribe_to = system or next((s for n in notices for s in n.systems), "")
            buttons = (ctx.button("subscribe", subscribe_to, "Tell me when it's fixed"),) if subscribe_to else ()
            await ctx.reply("Yes, IT knows about this:\n" + "\n".join(lines), buttons=buttons)
            await ctx.outcomes.resolved(ctx.employee.email)
            return
        await ctx.show_guide()  # nothing known to be down: the guide may fix it here and now
        await ctx.outcomes.answered(ctx.employee.email)
        what = ctx.system_name(system) if system else "any system"
        if _ASKS_STATUS.search(ctx.turn.text) or ctx.turn.is_click:
            await ctx.reply(f"I don't know of any problem with {what} right now. If it isn't working for you, "
                            "I can report it to the IT team.",
                            buttons=(ctx.button("outage_report", system, "Report it"),))
            return
        words = ctx.turn.text
        fields = [Field("Summary", summary_of(words)), Field("Urgency", "high")]
        if system:
            fields.insert(1, Field("System", what))
        if summary_of(words) != words.strip():
            fields.append(Field("Description", words[:500] + ("…" if len(words) > 500 else "")))
        await ctx.confirm(f"I don't know of any problem with {what} right now, so this may be new. Here is the "
                          "report I'll send to the IT team:", "outage_report", {"system": system, "words": words},
                          fields=tuple(fields), yes="Submit", no="Not now")

    async def _report_outage(self, ctx: Context, system: str, words: str = "") -> None:
        """File the high-urgency ticket of an outage report, count the report, and alert the technicians when
        enough people report the same system. ``words`` is the report previewed (its summary is the ticket's);
        after "Report it", the question asked goes in the description."""
        email = ctx.employee.email
        asked = "" if words else await ctx.last_message()
        known = f"Reported through the helpdesk bot; no outage notice was known for {system or 'it'}."
        key, reference = await ctx.file_ticket(
            summary=summary_of(words) if words else f"{system or 'Something'} seems to be down",
            description=f"{known}\n\nThey wrote: {words or asked}" if words or asked else known,
            system=system, urgency="high",
        )
        reporters, alert = await ctx.notices.record_report(system, email, key)
        await ctx.audit.record(email, "outage.report", target=system or "(no system)", detail=reference)
        await ctx.outcomes.escalated(email, Escalation.TICKET)
        await ctx.tell_technicians(f"Outage report from {email}: {system or 'something'} seems to be down "
                                   f"({reference}).")
        if alert:
            await ctx.tell_technicians(
                f"Probable outage: {reporters} people reported {system} down in the last 15 minutes.",
                buttons=(ctx.button("announce_outage", system, "Announce an outage"),),
            )
        buttons = (ctx.button("subscribe", system, "Tell me when it's fixed"),) if system else ()
        await ctx.reply(f"Thanks, I've reported it to the IT team ({reference}).", buttons=buttons)

    # Phishing ------------------------------------------------------------------

    async def _phishing(self, turn: Turn, ctx: Context) -> None:
        signal = ctx.signal()
        acted = acted_on(turn.text)
        if signal is not None and not (signal.security and (signal.confidence >= SURE or acted)):
            signal = None  # a phishing report is already a security report: only a sure reading changes its course
        if signal is not None:
            # Someone posing as staff, a lost device, or the link already clicked: the urgent security report,
            # sent on the employee's Submit like every other.
            await ctx.hand_over("security_incident")
            return
        await ctx.reply(
            "Thank you for checking. Here is what to do:\n"
            "1. Don't click links, open attachments or reply.\n"
            "2. Report it with the **Report** button in Outlook (Report > Report phishing). No Report button? "
            f"Forward it as an attachment to {ctx.settings.security_email}, then delete it.\n"
            "3. If it claims to be from someone you know, call them on a number you already have."
        )
        await ctx.confirm("Did you click a link, open an attachment or type your password?", "phishing_exposed",
                          {"report": turn.text[:1000]})

    async def _phishing_answer(self, ctx: Context, data: dict[str, Any], exposed: bool) -> None:
        email = ctx.employee.email
        await ctx.audit.record(email, "phishing.report", outcome="exposed" if exposed else "reported")
        security = ctx.security_room()
        if not exposed:
            await ctx.outcomes.resolved(email)
            await ctx.reply("Good, then you are safe. Thanks for reporting it; the security team will look at it.")
            await ctx.send(Reply(f"Phishing report from {email} (no link clicked).",
                                 (ctx.button("phish_notice", "", "Turn into a security notice"),), to=security))
            return
        key, reference = await ctx.file_ticket(
            summary="Phishing: employee clicked a link or entered a password",
            description="Reported through the helpdesk bot. The employee wrote:\n" + str(data.get("report", "")),
            urgency="urgent",
        )
        await ctx.outcomes.escalated(email, Escalation.TICKET)
        await ctx.send(Reply(
            f"URGENT security: {email} clicked a phishing link or entered a password ({reference}).",
            (ctx.button("phish_notice", key, "Turn into a security notice"),), to=security,
        ))
        offer = await ctx.offer("reset_password", "Reset my password now")
        await ctx.reply(f"I've alerted the security team ({reference}); they will contact you. "
                        "To be safe, change your password now.", buttons=(offer,))

    async def on_confirm(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any], yes: bool) -> None:
        """The phishing follow-up question, or the preview of an outage report."""
        if action == "phishing_exposed":
            await self._phishing_answer(ctx, data, yes)
        elif action == "outage_report" and yes:
            await self._report_outage(ctx, str(data.get("system") or ""), str(data.get("words") or ""))
        elif action == "outage_report":
            await ctx.reply("OK, nothing was sent. If it keeps happening, tell me and I'll report it.")

    # Composing ----------------------------------------------------------------

    def _form(self, ctx: Context, values: dict[str, str], editing: str = "") -> Form:
        title = f"Edit notice #{editing}" if editing else "New announcement"
        return ctx.form("compose", editing, title, composer_inputs(values))

    async def _compose(self, ctx: Context, values: dict[str, str], editing: str = "", note: str = "") -> None:
        text = note or "Fill in the announcement. You will see a preview before anything is sent."
        await ctx.reply(text, form=self._form(ctx, values, editing), private=True)

    async def _preview(self, ctx: Context, row: AnnouncementView) -> None:
        settings = ctx.settings
        audience = row.audience
        who = "all staff" if audience.get("all") else "; ".join(
            f"{label}: {', '.join(audience.get(key, []))}" for key, label in
            (("departments", "departments"), ("groups", "user groups"), ("channels", "channels"))
            if audience.get(key))
        when = row.cron and f"recurring: {row.cron}" or (settings.local_time(row.send_at) if row.send_at else "now")
        fields = [Field("Kind", dict(KINDS)[row.kind]), Field("Title", neutralise_mentions(row.title))]
        if row.body:
            fields.append(Field("Message", neutralise_mentions(row.body)[:500]))
        if row.systems:
            fields.append(Field("Affected", ", ".join(ctx.system_name(s) for s in row.systems)))
        if row.starts_at:
            fields.append(Field("From", settings.local_time(row.starts_at)))
        if row.ends_at:
            fields.append(Field("Expected end", settings.local_time(row.ends_at)))
        fields += [Field("Audience", who), Field("Send", when),
                   Field("Acknowledgement", "required" if row.ack_required else "not asked")]
        if row.allow_mentions:
            fields.append(Field("Pages channels", "yes (@channel)"))
        needs_approval = ctx.announcements.needs_approval(row)
        label = "Ask for approval" if needs_approval else ("Schedule" if row.cron or row.send_at else "Send it")
        note = " A broadcast to all staff needs a second technician's approval." if needs_approval else ""
        await ctx.reply(
            f"Preview of notice #{row.id}.{note}", fields=tuple(fields), private=True,
            buttons=(ctx.button("send", str(row.id), label, "primary"), ctx.button("edit", str(row.id), "Edit"),
                     ctx.button("discard", str(row.id), "Cancel", "danger")),
        )

    async def _submitted(self, turn: Turn, ctx: Context, editing: str) -> None:
        values = dict(turn.form or {})
        try:
            draft: Draft = read_composer(values, ctx.now(), ctx.settings.timezone)
        except ValueError as exc:
            await self._compose(ctx, values, editing, note=f"Not yet: {exc}")
            return
        synonyms = ctx.kb.synonyms or {}  # the NLU's system names: "email" is asked about as "outlook"
        draft.systems = list(dict.fromkeys(synonyms.get(s, s) for s in draft.systems))
        existing = await ctx.announcements.get(int(editing)) if editing.isdigit() else None
        if existing is not None and existing.status not in ("draft", "awaiting_approval", "scheduled", "recurring"):
            await ctx.reply(f"Notice #{existing.id} has already gone out ({existing.status}); post an update "
                            "instead.", private=True)
            return
        row = await ctx.announcements.save_draft(draft, ctx.employee.email,
                                                 existing.id if existing else None, turn.channel)
        if existing is not None and existing.status in ("scheduled", "recurring"):
            await ctx.announcements.hold_for_approval(int(row.id or 0))  # paused until sent again
            await ctx.announcements.back_to_draft(int(row.id or 0))
        await self._preview(ctx, row)

    async def _send(self, ctx: Context, announcement_id: int) -> None:
        row = await ctx.announcements.get(announcement_id)
        if row is None or row.status not in ("draft", "awaiting_approval"):
            await ctx.reply("That notice is not waiting to be sent any more.", private=True)
            return
        if ctx.announcements.needs_approval(row):
            if row.status == "awaiting_approval":
                await ctx.reply(f"Notice #{row.id} is already waiting for approval.", private=True)
                return
            await ctx.announcements.hold_for_approval(announcement_id)
            await ctx.request_approval(
                "broadcast", f"send notice #{row.id} to all staff: {neutralise_mentions(row.title)}",
                details=[("Kind", dict(KINDS)[row.kind]), ("Title", neutralise_mentions(row.title)),
                         ("Message", neutralise_mentions(row.body)[:300] or "(none)")],
                data=ctx.announcements.approval_data(row), target=f"notice #{row.id}",
            )
            return
        await self._release(ctx, announcement_id, None)

    async def _release(self, ctx: Context, announcement_id: int, approved_by: str | None,
                       digest: str | None = None) -> None:
        try:
            row = await ctx.announcements.release(announcement_id, approved_by, digest=digest)
        except ValueError as exc:
            await ctx.reply(f"Not sent: {exc}.", private=True)
            return
        await ctx.audit.record(row.created_by, "notice.release", target=f"notice #{row.id}",
                               detail=f"{row.status}; approved by {approved_by or 'not needed'}")
        if row.status == "scheduled":
            await ctx.reply(f"Notice #{row.id} is scheduled for {ctx.settings.local_time(row.send_at)}"
                            if row.send_at else f"Notice #{row.id} is scheduled.",
                            buttons=(ctx.button("edit", str(row.id), "Edit"),
                                     ctx.button("cancel", str(row.id), "Cancel it", "danger")), private=True)
        elif row.status == "recurring":
            await ctx.reply(f"Notice #{row.id} will go out on its schedule ({row.cron}).",
                            buttons=(ctx.button("cancel", str(row.id), "Stop it", "danger"),), private=True)

    async def on_approval(self, ctx: Context, approval: ApprovalView) -> None:
        """A second technician decided on an all-staff broadcast."""
        announcement_id = int(approval.data.get("announcement_id", 0))
        if approval.status == "approved":
            await self._release(ctx, announcement_id, approval.decided_by, approval.data.get("digest"))
            return
        await ctx.announcements.back_to_draft(announcement_id)
        outcome = f"was not approved by {approval.decided_by}" if approval.status == "denied" else \
            "was not approved in time"
        await ctx.reply(f"Notice #{announcement_id} {outcome}, so it was not sent. It is kept as a draft.",
                        buttons=(ctx.button("edit", str(announcement_id), "Edit"),))

    # Clicks and form submissions -------------------------------------------------------

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """Buttons and forms of notices: technicians compose and follow up; everyone can acknowledge."""
        if action in TECHNICIAN_ACTIONS and not ctx.employee.is_technician:
            raise PermissionDenied("Sorry, only technicians can do that (announcements).")
        number = int(argument) if argument.isdigit() else 0
        if action == "ack":
            notice = await ctx.announcements.get(number) if number else None
            if notice is None or notice.status not in ("sending", "sent"):
                await ctx.reply("I can't find that notice, so there was nothing to confirm.", private=True)
                return
            first = await ctx.announcements.acknowledge(number, ctx.employee.email)
            await ctx.reply("Thanks, noted that you have read it." if first else "You had already confirmed this.",
                            private=True)
        elif action == "subscribe":
            await ctx.announcements.subscribe(argument, ctx.employee.email)
            await ctx.reply(f"OK, I'll message you when {ctx.system_name(argument)} is working again.", private=True)
        elif action == "outage_report":
            await self._report_outage(ctx, argument)
        elif action == "compose":
            await self._submitted(turn, ctx, argument)
        elif action == "send":
            await self._send(ctx, number)
        elif action == "edit":
            row = await ctx.announcements.get(number)
            if row is None or row.status not in ("draft", "awaiting_approval", "scheduled", "recurring"):
                await ctx.reply("That notice can't be edited any more.", private=True)
                return
            await self._compose(ctx, composer_values(row, ctx.settings.timezone), str(number),
                                note=f"Edit notice #{number}. It is sent only after you confirm the preview.")
        elif action in ("discard", "cancel"):
            done = await ctx.announcements.cancel(number, ctx.employee.email)
            await ctx.reply(f"Notice #{number} is cancelled; nothing more will be sent." if done
                            else f"Notice #{number} has already gone out, so it can't be cancelled.", private=True)
        elif action in ("update", "resolve"):
            verb = "Resolved" if action == "resolve" else "Update"
            optional = action == "resolve"
            inputs = (FormInput("text", "What to tell people", "textarea", optional=optional,
                                initial="The problem is fixed." if optional else ""),)
            submit = "resolved" if action == "resolve" else "followup"
            await ctx.reply(f"{verb} for notice #{number}: it goes to everyone who got it, in its thread.",
                            form=ctx.form(submit, argument, f"{verb}: notice #{number}", inputs, "Send"),
                            private=True)
        elif action in ("followup", "resolved"):
            text = (turn.form or {}).get("text", "").strip()
            if action == "followup" and not text:
                await ctx.reply("The update is empty, so nothing was sent.", private=True)
                return
            try:
                await ctx.announcements.follow_up(number, text, ctx.employee.email, resolved=action == "resolved")
            except ValueError as exc:
                await ctx.reply(f"Not sent: {exc}.", private=True)
        elif action == "who":
            await self._who(ctx, number)
        elif action == "announce_outage":
            await self._compose(ctx, {"kind": "outage", "title": f"{argument} is down", "systems": argument,
                                      "body": f"{argument} is not working. IT is working on it."})
        elif action == "phish_notice":
            await self._phish_notice(ctx, argument)

    async def _who(self, ctx: Context, announcement_id: int) -> None:
        report = await ctx.announcements.report(announcement_id)
        if report is None:
            await ctx.reply(f"There is no notice #{announcement_id}.", private=True)
            return
        total = len(report.acknowledged) + len(report.pending)
        lines = [f"Notice #{announcement_id}: {len(report.acknowledged)} of {total} have read it."]
        if report.pending:
            lines.append("Not yet: " + ", ".join(report.pending[:50]) + (" …" if len(report.pending) > 50 else ""))
        await ctx.reply("\n".join(lines), private=True)

    async def _phish_notice(self, ctx: Context, ticket_key: str) -> None:
        """One click: a security notice draft, ready to preview and send."""
        reported = ""
        if ticket_key:
            ticket = await ctx.tickets.get(ticket_key)
            reported = ticket.description.split("The employee wrote:\n", 1)[-1][:300] if ticket else ""
        body = ("A phishing email is going around. Do not click its links, open its attachments or enter your "
                f"password. Forward it as an attachment to {ctx.settings.security_email}, then delete it.")
        if reported:
            body += f"\nWhat was reported: {reported}"
        draft = read_composer({"kind": "security", "title": "Phishing warning", "body": body, "audience": "all"},
                              ctx.now(), ctx.settings.timezone)
        row = await ctx.announcements.save_draft(draft, ctx.employee.email, origin_channel=ctx.turn.channel)
        await self._preview(ctx, row)
