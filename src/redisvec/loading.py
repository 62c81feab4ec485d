"""A load's bookkeeping: which records were written, refused, or sent but never confirmed.

`SearchIndex.load` streams batches (see `redisvec.index`); this module only reads the replies of
each batch and, when the load cannot finish, builds the error that says exactly which ids are
stored (`BatchWriteError`: ``written_ids``, ``failed_ids``, ``unconfirmed_ids``). No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from redisvec.errors import BatchWriteError, WriteDeniedError, denied_text
from redisvec.records import PreparedRecord

__all__ = ["LoadLedger", "transaction_outcome"]


@dataclass
class LoadLedger:
    """The outcome of one load so far, batch by batch.

    Compact, whatever the load's size: the ids sent (in order: the load's return value, so they
    are held once), how many of them have their replies read, and the refused ones with their
    errors. What was written is derived from these when an error needs it.

    ``transactional``: each record's commands ran as MULTI / queued commands / EXEC (else one
    reply per command, e.g. one script per record on a cluster client)."""

    index: str
    transactional: bool = True
    ids: list[str] = field(default_factory=list)
    settled: int = 0
    failed: list[tuple[str, BaseException]] = field(default_factory=list)

    def sent(self, batch: Sequence[PreparedRecord]) -> None:
        self.ids += [r.id for r in batch]

    @property
    def written(self) -> list[str]:
        """The ids whose replies say they were written."""
        bad = {i for i, _ in self.failed}
        settled = self.ids[: self.settled]
        return [i for i in settled if i not in bad] if bad else settled

    @property
    def in_flight(self) -> list[str]:
        """The ids sent whose replies were not read."""
        return self.ids[self.settled :]

    def settle(
        self, batch: Sequence[PreparedRecord], counts: Sequence[int], results: Sequence[Any]
    ) -> BaseException | None:
        """Record a batch's outcome (``counts``: how many replies each record has; a record
        refused by the server does not stop the others); the error that refused the batch for
        lack of permission, if one did."""
        refused = None
        batch_failed: list[tuple[str, BaseException]] = []
        if self.transactional:
            step = counts[0] if counts else 1  # every record of a batch has as many commands
            if not all(  # the common case: every EXEC ran, and every command in it
                type(done) is list and not any(isinstance(r, BaseException) for r in done)
                for done in results[step - 1 :: step]
            ):
                batch_failed, refused = _transaction_failures(batch, counts, results)
        else:
            batch_failed = _failures(batch, counts, results)
        self.settled += len(batch)
        self.failed += batch_failed
        denied = [e for _, e in batch_failed if isinstance(e, redis.exceptions.NoPermissionError)]
        return denied[0] if denied else refused  # a write refused says more than MULTI

    def denied(self, denied: BaseException, pending: Sequence[str]) -> WriteDeniedError:
        """An ACL user without write permission has every record refused alike: the load stops
        at the first such batch (``pending``: the ids of the records not sent), with an error
        that says so rather than a per-record list."""
        written = self.written
        return WriteDeniedError(
            f"{denied_text(self.index, str(denied))}; {len(self.failed) + len(pending)} records "
            f"were not written ({len(written)} were), the remaining records were not sent",
            failed_ids=[i for i, _ in self.failed] + list(pending),
            errors=[e for _, e in self.failed],
            written_ids=written,
        )

    def error(self, pending: Sequence[str], lost: str | None = None) -> BatchWriteError:
        """The error of a load that did not write everything: ``pending`` ids were not sent;
        ``lost`` says how the connection was lost, if it was (the ids sent whose replies were
        not read are then unconfirmed)."""
        failed, written = self.failed, self.written
        in_flight = self.in_flight if lost is not None else []
        failed_ids = [i for i, _ in failed] + in_flight + list(pending)
        # str(), not repr(): redis-py 8 exceptions repr as "server:ResponseError", without the text
        first = f"{failed[0][0]!r}: {failed[0][1]}" if failed else "connection lost"
        if lost is not None:
            first = lost
        shown = ", ".join(map(repr, failed_ids[:5])) + (", ..." if len(failed_ids) > 5 else "")
        return BatchWriteError(
            f"{len(failed_ids)} of {len(failed_ids) + len(written)} records were not written to "
            f"index {self.index!r} ({shown}; first error: {first}); every other record was "
            "written"
            + (
                f"; the {len(in_flight)} records in flight when the connection was lost (sent, "
                "replies not read) may or may not be stored (unconfirmed_ids)"
                if in_flight
                else ""
            )
            + "; loading the same records again is safe",
            failed_ids=failed_ids,
            errors=[e for _, e in failed],
            written_ids=written,
            unconfirmed_ids=in_flight,
        )

    def note(self, stopped: BaseException) -> None:
        """Say on an error that stopped a load part-way (a record found invalid, the records'
        iterable raising) what the records read before it became: batches already sent stay
        written."""
        if self.ids and hasattr(stopped, "add_note"):  # Python 3.11+
            failed = [i for i, _ in self.failed]
            stopped.add_note(
                f"redisvec: the load into {self.index!r} stopped there; the {len(self.ids)} "
                f"records before were sent in earlier batches: {len(self.ids) - len(failed)} "
                f"written{f', refused: {failed[:5]}' if failed else ''}"
            )


def transaction_outcome(replies: Sequence[Any]) -> tuple[BaseException | None, bool]:
    """One record's transaction (the replies to MULTI, each queued command, EXEC): the error
    that kept it from being written whole (None: written), and whether MULTI itself was
    refused (an ACL user without @transaction: the commands then ran one by one, their
    replies where the QUEUED would be).

    EXEC refused (the transaction discarded: a command refused while queueing, for lack of
    memory or permission): nothing was applied; the queued command's refusal is the cause
    (rather than EXECABORT)."""
    opened, queued, outcome = replies[0], replies[1:-1], replies[-1]
    if isinstance(opened, BaseException):
        return next((r for r in queued if isinstance(r, BaseException)), None), True
    if isinstance(outcome, list):
        return next((r for r in outcome if isinstance(r, BaseException)), None), False
    return next((r for r in queued if isinstance(r, BaseException)), outcome), False


def _transaction_failures(
    batch: Sequence[PreparedRecord], counts: Sequence[int], results: Sequence[Any]
) -> tuple[list[tuple[str, BaseException]], BaseException | None]:
    """The records whose transaction did not write them, and the refusal of MULTI if any."""
    batch_failed = []
    refused = None
    pos = 0
    for record, n in zip(batch, counts):
        error, multi_refused = transaction_outcome(results[pos : pos + n])
        if error is not None:
            batch_failed.append((record.id, error))
        if multi_refused and refused is None:
            refused = results[pos]
        pos += n
    return batch_failed, refused


def _failures(
    batch: Sequence[PreparedRecord], counts: Sequence[int], results: Sequence[Any]
) -> list[tuple[str, BaseException]]:
    """The records a reply refused (each record's replies in turn: ``counts`` of them)."""
    if not any(isinstance(r, BaseException) for r in results):
        return []  # the common case, in one pass
    failed = []
    pos = 0
    for record, n in zip(batch, counts):
        errors = [r for r in results[pos : pos + n] if isinstance(r, BaseException)]
        if errors:
            failed.append((record.id, errors[0]))
        pos += n
    return failed
