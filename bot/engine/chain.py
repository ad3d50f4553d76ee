"""A chain of small steps, each with one job, in the manner of bolt-python's middleware.

A step receives the request and ``call_next``: it answers the request itself (and the
chain stops there), or calls ``call_next()`` to let the rest of the chain answer it,
and may act before and after that call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

__all__ = ["Next", "Step", "run_chain"]

T = TypeVar("T")
R = TypeVar("R")

Next = Callable[[], Awaitable[R]]
"""What a step calls to hand its request on to the rest of the chain."""

Step = Callable[[T, Next[R]], Awaitable[R]]
"""One step: the request and the rest of the chain in, an answer out."""


async def run_chain(steps: Sequence[Step[T, R]], request: T, end: Callable[[T], Awaitable[R]]) -> R:
    """Run ``request`` through ``steps`` in order; ``end`` answers what every step handed on."""

    async def call(index: int) -> R:
        if index == len(steps):
            return await end(request)
        return await steps[index](request, lambda: call(index + 1))

    return await call(0)
