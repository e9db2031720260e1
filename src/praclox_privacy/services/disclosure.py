"""Third-party disclosure requests (S9): Praclox never shares data without consent.

A request from another party is recorded (who asks, for which data, why) and stays
``pending`` until the person answers. The person is asked through the ``ask_consent``
plugin hook (the built-in notifier sends an e-mail, ``praclox_privacy.stores.notify``); a
notifier that fails leaves the request pending and is audited. The answer is recorded
with :func:`decide`: a consent (``consented``) or a refusal (``refused``); without an
answer by ``answer_by`` (the policy's ``[disclosure] answer_within``) the request is
``expired``, which counts as a refusal.

Nothing is ever handed over automatically: even a consented request is only marked
``disclosed`` when a person at Praclox carries it out and records it with
:func:`carry_out`, which checks the consent again (it may have been withdrawn). A
requester who asks again gets the same pending request back. Every step is audited.
"""

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.errors import OperationRefused
from ..domain.guards import (
    DisclosureRequest,
    DisclosureStatus,
    disclosure_status,
    may_disclose,
)
from .consents import grant

if TYPE_CHECKING:
    from ..domain.policy import DisclosurePolicy
    from .workspace import Workspace

__all__ = ["DisclosureRefused", "carry_out", "decide", "expire_overdue", "list_requests", "request"]


class DisclosureRefused(OperationRefused):
    """A disclosure may not be carried out (no consent, refused, expired, withdrawn)."""


def _policy(ws: "Workspace") -> "DisclosurePolicy":
    if ws.policy.disclosure is None:
        raise OperationRefused("the policy has no [disclosure] table (S9)")
    return ws.policy.disclosure


def request(
    ws: "Workspace",
    subject_id: str,
    requester: str,
    data: Iterable[str],
    reason: str,
    *,
    at: datetime | None = None,
    actor: str = "api",
) -> DisclosureRequest:
    """Record a third party's request for ``subject_id``'s ``data``, then ask the person.

    A request identical to a pending one (same person, requester and data) is a retry:
    the pending request is returned, the retry audited, and nothing else changes.

    :param data: the data categories asked for (declared in the policy).
    :raises OperationRefused: for an unknown subject, an undeclared category or an empty
        requester or reason.
    """
    rules = _policy(ws)
    wanted = tuple(sorted(set(data)))
    if not requester.strip() or not reason.strip():
        raise OperationRefused("a disclosure request needs a requester and a reason")
    if not wanted:
        raise OperationRefused("a disclosure request names at least one data category")
    declared = {c.id for c in ws.policy.categories}
    unknown = [c for c in wanted if c not in declared]
    if unknown:
        raise OperationRefused(f"category {', '.join(unknown)} is not declared in the policy")
    if not ws.ledger.has_subject(subject_id):
        raise OperationRefused(f"unknown subject {subject_id!r}")
    now = at or ws.clock()
    regs = ws.ledger.registers
    expire_overdue(ws, now, actor)
    for existing in regs.disclosures(subject_id, DisclosureStatus.PENDING):
        if existing.requester == requester and existing.data == wanted:
            ws.ledger.audit(
                "disclosure.retried",
                {"request": existing.id, "requester": requester, "at": now.isoformat()},
                subject_id,
                actor,
            )
            if not regs.disclosure_details(existing.id).get("asked"):
                _ask(ws, existing, actor)
            return existing
    new = DisclosureRequest(
        f"dr-{secrets.token_hex(6)}",
        subject_id,
        requester,
        wanted,
        reason,
        now,
        rules.answer_within.after(now),
    )
    with ws.ledger.transaction():
        regs.add_disclosure(new)
        ws.ledger.audit(
            "disclosure.requested",
            {
                "request": new.id,
                "requester": requester,
                "data": list(wanted),
                "reason": reason,
                "answer_by": new.answer_by.isoformat(),
            },
            subject_id,
            actor,
        )
    _ask(ws, new, actor)
    return new


def _ask(ws: "Workspace", req: DisclosureRequest, actor: str) -> None:
    """Call every ``ask_consent`` notifier on its own; audit each outcome."""
    regs = ws.ledger.registers
    details: dict[str, Any] = regs.disclosure_details(req.id)
    args = {"request": req, "subject_id": req.subject_id, "workspace": ws}
    asked = bool(details.get("asked"))
    for impl in reversed(ws.plugin_manager.hook.ask_consent.get_hookimpls()):
        try:
            how = impl.function(**{name: args[name] for name in impl.argnames})
        except Exception as exc:  # a broken notifier must never move the request on
            ws.ledger.audit(
                "disclosure.ask_failed",
                {"request": req.id, "notifier": impl.plugin_name, "error": _short(exc)},
                req.subject_id,
                actor,
            )
            continue
        if how is None:
            continue
        asked = True
        ws.ledger.audit(
            "disclosure.asked",
            {"request": req.id, "notifier": impl.plugin_name, "how": str(how)},
            req.subject_id,
            actor,
        )
    if not asked:
        ws.ledger.audit(
            "disclosure.not_asked",
            {"request": req.id, "note": "no notifier reached the person; ask them yourself"},
            req.subject_id,
            actor,
        )
    regs.update_disclosure(req.id, details={**details, "asked": asked})


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


def expire_overdue(ws: "Workspace", now: datetime | None = None, actor: str = "api") -> int:
    """Mark every pending request past its ``answer_by`` as expired (refused); audited.

    :returns: how many requests expired.
    """
    now = now or ws.clock()
    regs = ws.ledger.registers
    count = 0
    with ws.ledger.transaction():
        for req in regs.disclosures(status=DisclosureStatus.PENDING):
            if disclosure_status(req, now) is DisclosureStatus.EXPIRED:
                regs.update_disclosure(
                    req.id, status=DisclosureStatus.EXPIRED, decided_at=req.answer_by
                )
                ws.ledger.audit(
                    "disclosure.expired",
                    {
                        "request": req.id,
                        "answer_by": req.answer_by.isoformat(),
                        "note": "no answer in time counts as refusal",
                    },
                    req.subject_id,
                    actor,
                )
                count += 1
    return count


def decide(
    ws: "Workspace",
    request_id: str,
    consent: bool,
    *,
    method: str = "recorded by staff",
    reference: str = "",
    at: datetime | None = None,
    actor: str = "api",
) -> DisclosureRequest:
    """Record the person's answer to a pending request: consent or refusal; audited.

    A consent is recorded as a consent of the policy's disclosure kind whose ``scope`` is
    the request's id, so it covers this request only.

    :raises OperationRefused: when the request is not pending (decided, or expired: an
        answer after ``answer_by`` comes too late, and the requester must ask again).
    """
    rules = _policy(ws)
    now = at or ws.clock()
    regs = ws.ledger.registers
    expire_overdue(ws, now, actor)
    req = regs.disclosure(request_id)
    if req.status is not DisclosureStatus.PENDING:
        raise OperationRefused(
            f"disclosure request {request_id} is {req.status.value}; only a pending request "
            "can be decided"
        )
    with ws.ledger.transaction():
        if consent:
            grant(
                ws,
                req.subject_id,
                rules.consent_kind,
                method=method,
                reference=reference,
                scope=req.id,
                at=now,
                actor=actor,
            )
            status = DisclosureStatus.CONSENTED
        else:
            status = DisclosureStatus.REFUSED
        regs.update_disclosure(req.id, status=status, decided_at=now)
        ws.ledger.audit(
            f"disclosure.{status.value}",
            {"request": req.id, "requester": req.requester, "method": method},
            req.subject_id,
            actor,
        )
    return regs.disclosure(request_id)


def carry_out(
    ws: "Workspace", request_id: str, *, at: datetime | None = None, actor: str = "api"
) -> DisclosureRequest:
    """Record that a person at Praclox handed the data over, after checking the consent.

    :raises DisclosureRefused: (audited) when the request is not consented or the consent
        was withdrawn since.
    """
    rules = _policy(ws)
    now = at or ws.clock()
    regs = ws.ledger.registers
    expire_overdue(ws, now, actor)
    req = regs.disclosure(request_id)
    decision = may_disclose(req, ws.ledger.consents_of(req.subject_id), rules.consent_kind, now)
    with ws.ledger.transaction():
        if not decision:
            ws.ledger.audit(
                "disclosure.blocked",
                {"request": req.id, "requester": req.requester, "reason": decision.reason},
                req.subject_id,
                actor,
            )
        else:
            regs.update_disclosure(req.id, status=DisclosureStatus.DISCLOSED)
            ws.ledger.audit(
                "disclosure.disclosed",
                {"request": req.id, "requester": req.requester, "data": list(req.data)},
                req.subject_id,
                actor,
            )
    if not decision:
        raise DisclosureRefused(decision.reason)
    return regs.disclosure(request_id)


def list_requests(
    ws: "Workspace",
    subject_id: str | None = None,
    status: DisclosureStatus | None = None,
    *,
    now: datetime | None = None,
    actor: str = "api",
) -> list[DisclosureRequest]:
    """Expire overdue requests, then return the requests (of a subject, with a status)."""
    expire_overdue(ws, now, actor)
    return ws.ledger.registers.disclosures(subject_id, status)
