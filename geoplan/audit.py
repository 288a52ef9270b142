"""The audit log: who exported or read exact positions, made or revoked keys, changed the policy
or edited a site by hand.

Each entry says who (a key's name, or the person at the command line), when (UTC), what action
on what, and how many rows. The log is append-only and chained: each entry holds the SHA-256 of
its own content and of the entry before it, so editing an entry breaks its hash, and deleting
one breaks the chain (or, for the last entries, the count the store keeps of entries ever
appended). :func:`verify_log` names the first entry that does not hold.

The entries are kept through the workspace's :class:`~geoplan.store.Store`
(:meth:`~geoplan.store.Store.append_audit`, :meth:`~geoplan.store.Store.read_audit`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from geoplan.store import AuditRecord, Store

GENESIS = "0" * 64
"""The ``previous`` hash of the first entry."""


class Action(StrEnum):
    """What an audit entry records."""

    EXPORT_EXACT = "export_exact"
    READ_EXACT = "read_exact"
    KEY_CREATED = "key_created"
    KEY_REVOKED = "key_revoked"
    POLICY_CHANGED = "policy_changed"
    PURGED = "purged"
    SITE_EDITED = "site_edited"


@dataclass(frozen=True)
class LogCheck:
    """What :func:`verify_log` found: entries checked, and the first bad one with why."""

    entries: int
    first_bad: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """Whether every entry holds."""
        return self.first_bad is None

    def summary(self) -> str:
        """The finding in one sentence."""
        if self.ok:
            return f"audit log intact: {self.entries} entr{'y' if self.entries == 1 else 'ies'}"
        return f"audit log broken at entry {self.first_bad}: {self.problem}"


def command_line_user() -> str:
    """Who runs the command (``cli:<login>``): the "who" of command-line entries."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli:unknown"


def record_event(
    store: Store, action: Action, *, who: str, what: str, rows: int | None = None
) -> AuditRecord:
    """Append one entry to the workspace's audit log and return it."""
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def seal(sequence: int, previous: str) -> AuditRecord:
        record = AuditRecord(sequence, when, who, str(action), what, rows, previous, "")
        return dataclasses.replace(record, hash=entry_hash(record))

    return store.append_audit(seal)


def entry_hash(record: AuditRecord) -> str:
    """The SHA-256 of an entry's content and the hash of the entry before it."""
    content = json.dumps(_fields(record)[:-1], separators=(",", ":"))
    return hashlib.sha256(content.encode()).hexdigest()


def _fields(record: AuditRecord) -> tuple[object, ...]:
    return (
        record.sequence,
        record.when,
        record.who,
        record.action,
        record.what,
        record.rows,
        record.previous,
        record.hash,
    )


def verify_log(store: Store) -> LogCheck:
    """Check every entry's hash, the chain and the count of entries ever appended."""
    records, appended = store.read_audit()
    previous = GENESIS
    for expected, record in enumerate(records, start=1):
        if record.sequence != expected:
            return LogCheck(len(records), expected, f"entry {expected} is missing (deleted)")
        if record.previous != previous:
            return LogCheck(len(records), expected, "it does not follow the entry before it")
        if entry_hash(record) != record.hash:
            return LogCheck(len(records), expected, "its content was changed after it was written")
        previous = record.hash
    if appended > len(records):
        first = len(records) + 1
        return LogCheck(len(records), first, f"entries {first}..{appended} are missing (deleted)")
    return LogCheck(len(records))


def read_log(store: Store, *, since: dt.datetime | None = None) -> list[AuditRecord]:
    """The log's entries, oldest first; with ``since`` (UTC), those from then on."""
    records, _ = store.read_audit()
    if since is None:
        return records
    stamp = since.astimezone(dt.UTC) if since.tzinfo else since.replace(tzinfo=dt.UTC)
    cutoff = stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [r for r in records if r.when >= cutoff]
