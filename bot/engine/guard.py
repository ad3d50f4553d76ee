"""Running a skill's work safely: our errors become messages, anything else is logged and counted."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from bot.core import metrics
from bot.core.errors import IntegrationError, PermissionDenied, UserFacingError

if TYPE_CHECKING:
    from bot.engine.context import Context

__all__ = ["guard"]

log = logging.getLogger(__name__)


async def guard(ctx: Context, work: Awaitable[object]) -> None:
    """Run a skill's coroutine; turn our errors into messages, log and count the rest."""
    try:
        await work
    except PermissionDenied as exc:
        await ctx.audit.record(ctx.employee.email, f"{ctx.skill.name}.denied", outcome="refused",
                               detail=str(exc))
        await ctx.reply(str(exc))
    except UserFacingError as exc:
        await ctx.reply(str(exc))
    except IntegrationError as exc:
        metrics.ERRORS.labels("integration").inc()
        log.warning("integration failed in skill %s: %s", ctx.skill.name, exc)
        await ctx.reply(
            f"{exc.system} is not answering right now, so I could not finish that. "
            "Nothing was changed. Please try again in a few minutes, or ask me to open a ticket."
        )
    except Exception:
        metrics.ERRORS.labels("skill").inc()
        log.exception("skill %s failed", ctx.skill.name)
        await ctx.reply("Something went wrong on my side, and the IT team can see the error. "
                        "Please try again, or ask for a person.")
