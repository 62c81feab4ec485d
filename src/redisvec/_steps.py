"""Operations written once for a sync and an async target (the pattern of `redisvec.index`).

An operation is a generator that yields `Step`s: a method to call on one of its targets (a
`SearchIndex` / `AsyncSearchIndex`, a redis-py client) with its arguments. `run` calls them with
blocking I/O, `arun` awaits them; the operation receives each reply (or the exception raised)
and returns its result. So the sync and async faces of the semantic cache and the message store
cannot drift apart, and their logic is testable without a server.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["Op", "Step", "arun", "run"]

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """Call ``target.method(*args, **kwargs)``; ``target`` names one of the runner's targets."""

    target: str
    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


Op = Generator[Step, Any, T]


def run(op: Op[T], targets: Mapping[str, Any]) -> T:
    """Drive ``op`` with blocking calls on ``targets``."""
    try:
        step = next(op)
        while True:
            try:
                reply = getattr(targets[step.target], step.method)(*step.args, **step.kwargs)
            except Exception as exc:
                step = op.throw(exc)
            else:
                step = op.send(reply)
    except StopIteration as stop:
        result: T = stop.value
        return result


async def arun(op: Op[T], targets: Mapping[str, Any]) -> T:
    """Drive ``op`` with awaits on ``targets`` (their async twins)."""
    try:
        step = next(op)
        while True:
            try:
                reply = await getattr(targets[step.target], step.method)(*step.args, **step.kwargs)
            except Exception as exc:
                step = op.throw(exc)
            else:
                step = op.send(reply)
    except StopIteration as stop:
        result: T = stop.value
        return result
