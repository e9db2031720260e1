"""The audit trail as pure values: entries chained by SHA-256, and their verification.

Every audit entry carries the hash of the previous one (:data:`GENESIS` for the first),
so removing, changing or inserting an entry breaks the chain from there on. A ledger
stores the entries; :func:`entry_hash` says what each entry's hash must be.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditVerification",
    "canonical",
    "chain_hash",
    "entry_hash",
]

GENESIS = "0" * 64
"""The "previous hash" of the first audit entry."""


@attrs.frozen
class AuditEntry:
    """One entry of the audit trail."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject_id: str | None
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def expected_hash(self) -> str:
        """Return the hash this entry must have, given its content and predecessor."""
        return entry_hash(
            self.prev_hash,
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.subject_id,
            self.details,
        )


@attrs.frozen
class AuditVerification:
    """The result of checking the audit chain.

    :ivar broken_at: the sequence number of the first entry that does not match.
    """

    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def canonical(details: Mapping[str, Any]) -> str:
    """Return ``details`` as canonical JSON: sorted keys, no spaces, UTF-8 text."""
    # default=str: keys of mapped tables may be UUIDs, decimals, ... (recorded as text)
    return json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject_id: str | None,
    details: Mapping[str, Any],
) -> str:
    """Return the SHA-256 (hex) of an entry's content chained to ``prev_hash``."""
    return chain_hash(prev_hash, seq, at, actor, action, subject_id, canonical(details))


def chain_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject_id: str | None,
    details_json: str,
) -> str:
    """Return the SHA-256 (hex) of an entry whose details are already canonical JSON."""
    content = json.dumps(
        [seq, at.astimezone(UTC).isoformat(), actor, action, subject_id, details_json],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()
