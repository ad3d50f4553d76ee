"""Sending an announcement: list its recipients once, fan it out, tell its author how it went.

An announcement being sent has the status ``sending``; its recipients are
listed (``sent_at`` set) before the fan-out starts, so a process that died
while listing is seen and finished by the next one (``resume``). ``watch``, on
every serving replica, also takes over fan-outs whose sender died (see
``FanOut``). Each delivered message has the key ``notice:<announcement>:<recipient>``;
a follow-up goes to everyone the original reached, in its thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.address import Room, decode_address
from bot.core.messages import Button, Field, Reply, user_address
from bot.core.settings import Settings
from bot.core.text import neutralise_mentions
from bot.services.announcement_audience import AudienceResolver
from bot.services.announcement_composer import KIND_LABELS
from bot.services.announcement_rows import AnnouncementRows
from bot.services.audit import AuditLog
from bot.services.broadcast_approval import content_digest, needs_approval
from bot.services.fanout import WAIT_SECONDS, FanOut
from bot.services.notice_buttons import NoticeButtons
from bot.services.notices import NoticeBoard
from bot.store import Announcement

__all__ = ["BOARD_KINDS", "AnnouncementSender"]

log = logging.getLogger(__name__)

BOARD_KINDS = frozenset({"outage", "maintenance", "security"})
"""Kinds that also go on the notice board, so "is email down?" is answered from them."""


class AnnouncementSender:
    """Sends announcements (once each, across replicas and restarts) and reports their progress."""

    def __init__(self, rows: AnnouncementRows, fanout: FanOut, audience: AudienceResolver, *,
                 board: NoticeBoard, audit: AuditLog, deliver: Callable[[Reply], Awaitable[object]],
                 buttons: NoticeButtons, settings: Settings, system_name: Callable[[str], str],
                 on_sent: Callable[[Announcement], None]) -> None:
        self.rows = rows
        self.fanout = fanout
        self.audience = audience
        self.board = board
        self.audit = audit
        self.deliver = deliver
        self.buttons = buttons
        self.settings = settings
        self.system_name = system_name
        self.on_sent = on_sent
        self._sending: set[int] = set()  # fan-outs this process is running now
        self._taken: set[asyncio.Task[Announcement | None]] = set()  # fan-outs taken over, running

    async def send(self, announcement_id: int, *, resuming: bool = False) -> Announcement | None:
        """Send (or go on sending) an announcement to its audience; returns it as it ended.

        ``resuming`` (at start-up) also finishes listing the recipients when the
        process that started the send died while doing so.
        """
        row = await self.rows.get(announcement_id)
        if row is None or row.status not in ("scheduled", "sending"):
            return row
        if row.status == "scheduled" and not await self.still_approved(row):
            log.warning("notice #%s changed after its approval; not sent, kept as a draft", announcement_id)
            await self.rows.set(announcement_id, status="draft", approved_by=None, approved_digest=None,
                                only_from=("scheduled",))
            await self.audit.record("system", "notice.refused", target=f"notice #{announcement_id}",
                                    outcome="refused", detail="changed after approval")
            return await self.rows.get(announcement_id)
        if row.status == "scheduled":
            if not await self.rows.set(announcement_id, status="sending", only_from=("scheduled",)):
                return await self.rows.get(announcement_id)  # another replica started it
            await self._prepare(row)
        elif row.sent_at is None:  # its recipients are still being listed (or that process died doing so)
            if not resuming:
                return row
            await self._prepare(row)
        self._sending.add(announcement_id)
        try:
            await self._fan_out(announcement_id)
        finally:
            self._sending.discard(announcement_id)
        return await self.rows.get(announcement_id)

    async def still_approved(self, row: Announcement) -> bool:
        """A broadcast (or an occurrence of an approved series) says exactly what was approved."""
        if row.parent_id is not None:
            return True  # a follow-up of a sent notice, by its technicians
        approved = await self.rows.get(row.series_id) if row.series_id is not None else row
        if approved is None or not needs_approval(approved, self.settings.broadcast_two_person):
            return True
        return approved.approved_digest is not None and approved.approved_digest == content_digest(approved)

    async def _prepare(self, row: Announcement) -> None:
        """Make the delivery rows (and the notice board entry) once."""
        assert row.id is not None
        if row.parent_id is not None:
            recipients = await self.fanout.reached(row.parent_id)
            problems: list[str] = []
        else:
            recipients, problems = await self.audience.recipients(row)
        now = self.rows.clock()
        announcement_id = row.id
        total = await self.fanout.add(announcement_id, recipients)
        values: dict[str, Any] = {"total": total, "sent_at": now}
        if row.parent_id is None and row.series_id is None and row.kind in BOARD_KINDS and row.notice_id is None:
            notice = await self.board.post(kind=row.kind, title=row.title, body=row.body,
                                           systems=list(row.systems), author=row.created_by)
            values["notice_id"] = notice.id
        await self.rows.set(announcement_id, **values)
        for problem in problems:
            await self.deliver(Reply(f"Notice #{announcement_id}: {problem}.",
                                     to=user_address(row.created_by), private=True))
        await self.deliver(Reply(f"Sending notice #{announcement_id} to {total:,} recipients.",
                                 to=user_address(row.created_by), key=f"notice-progress:{announcement_id}"))

    async def _fan_out(self, announcement_id: int) -> None:
        row = await self.rows.get(announcement_id)
        assert row is not None
        parent_key = row.parent_id or row.id
        await self.fanout.run(announcement_id, lambda recipient: self.message(row, recipient, parent_key),
                              lambda: self._progress(announcement_id), f"notice #{announcement_id}")
        await self._finish(announcement_id)

    def message(self, row: Announcement, recipient: str, parent_key: int | None) -> Reply:
        """The message one recipient gets (defused text, acknowledgement button, thread of the original)."""
        label = KIND_LABELS.get(row.kind, "IT notice")
        if row.parent_id is not None:
            label = "Update"
        lines = [f"{label}: {neutralise_mentions(row.title)}"]
        if row.body:
            lines.append(neutralise_mentions(row.body))
        fields: list[Field] = []
        if row.systems:
            fields.append(Field("Affected", ", ".join(self.system_name(s) for s in row.systems)))
        if row.starts_at:
            fields.append(Field("From", self.settings.local_time(row.starts_at)))
        if row.ends_at:
            fields.append(Field("Expected end", self.settings.local_time(row.ends_at)))
        buttons: tuple[Button, ...] = ()
        if row.ack_required:
            buttons = self.buttons.acknowledge_buttons(int(row.id or 0))
        thread = f"notice:{parent_key}:{recipient}" if row.parent_id is not None else None
        mention = "channel" if row.allow_mentions and isinstance(decode_address(recipient), Room) else None
        return Reply("\n".join(lines), buttons, tuple(fields), to=recipient, key=f"notice:{row.id}:{recipient}",
                     thread=thread, mention=mention)  # type: ignore[arg-type]

    async def _progress(self, announcement_id: int, done: bool = False) -> None:
        """Count the deliveries into the row and show the author how far it got (one message, replaced)."""
        row = await self.rows.get(announcement_id)
        assert row is not None
        counts = await self.fanout.counts(announcement_id)
        sent, failed, total = counts.get("sent", 0), counts.get("failed", 0), sum(counts.values())
        await self.rows.set(announcement_id, sent=sent, failed=failed, total=total)
        if done:
            people = "person" if sent == 1 else "people"
            text = f"Sent notice #{announcement_id} to {sent:,} {people}."
            if failed:
                text += f" {failed:,} could not be reached."
        else:
            text = f"Sending notice #{announcement_id}: sent {sent:,} of {total:,}."
        key = f"notice-progress:{announcement_id}"
        buttons = self.buttons.sent_buttons(row) if done and row.parent_id is None else ()
        await self.deliver(Reply(text, buttons, to=user_address(row.created_by), key=key, replaces=key))

    async def _finish(self, announcement_id: int) -> None:
        counts = await self.fanout.counts(announcement_id)
        if counts.get("pending") or counts.get("sending"):
            return  # another sender is still on it; it finishes the job
        if not await self.rows.set(announcement_id, status="sent", only_from=("sending",)):
            return
        await self._progress(announcement_id, done=True)
        row = await self.rows.get(announcement_id)
        assert row is not None
        await self.audit.record(row.created_by, "notice.sent", target=f"notice #{announcement_id}",
                                detail=f"{counts.get('sent', 0)} sent, {counts.get('failed', 0)} unreachable")
        self.on_sent(row)

    async def resume(self) -> int:
        """Go on with every fan-out a stopped process left unfinished; returns how many."""
        ids = [int(row.id or 0) for row in await self.rows.with_status("sending")]
        for announcement_id in ids:
            await self.send(announcement_id, resuming=True)
        return len(ids)

    async def watch(self) -> None:
        """While serving: resume what a stopped process left, then take over fan-outs whose sender died."""
        try:
            await self.resume()
        except Exception:  # keep watching; the next round tries again
            log.exception("could not resume unfinished announcements")
        every = min(WAIT_SECONDS, self.fanout.lease.total_seconds() / 4)
        while True:
            await asyncio.sleep(every)
            try:
                await self.take_over()
            except Exception:
                log.exception("could not look for abandoned fan-outs")

    async def take_over(self) -> list[int]:
        """Start sending (in the background) every fan-out that no live sender holds; returns their ids."""
        stale = self.rows.clock() - self.fanout.lease
        candidates: list[int] = []
        listing: set[int] = set()  # still being listed, and nobody touched it for a lease: abandoned
        for row in await self.rows.with_status("sending"):
            if row.id is None or row.id in self._sending:
                continue
            if row.sent_at is None:
                if row.updated_at < stale:
                    listing.add(row.id)
                    candidates.append(row.id)
                continue
            candidates.append(row.id)
        unattended = set(await self.fanout.unattended([i for i in candidates if i not in listing]))
        ids = [i for i in candidates if i in listing or i in unattended]
        for announcement_id in ids:
            log.info("notice #%s: its sender stopped; taking the fan-out over", announcement_id)
            self._sending.add(announcement_id)  # so the next look does not start it a second time
            task = asyncio.create_task(self._send_taken(announcement_id))
            self._taken.add(task)
            task.add_done_callback(self._taken.discard)
        return ids

    async def drain(self) -> None:
        """Wait for the fan-outs taken over in the background to finish."""
        while self._taken:
            await asyncio.gather(*list(self._taken), return_exceptions=True)

    async def _send_taken(self, announcement_id: int) -> Announcement | None:
        try:
            return await self.send(announcement_id, resuming=True)
        finally:
            self._sending.discard(announcement_id)
