"""Consents (GDPR Art. 7): grant, withdraw, show, and export as a Kantara Consent Receipt.

A consent is never deleted: withdrawing sets its ``withdrawn_at`` and the row stays, so
the ledger always shows what was agreed, when, how and with which text. Withdrawal takes
effect at the instant given (default: now) and is one call, as easy as granting:

* a withdrawn ``keep_application`` consent makes the applicant's data due at the next
  sweep (S14);
* a withdrawn ``newsletter`` consent ends the newsletter purpose and nothing else (S7):
  see :func:`purposes_of`.

Example::

    from praclox_privacy import consents

    record = consents.grant(ws, "anna", "newsletter", method="web form")
    consents.withdraw(ws, "anna", "newsletter")
    receipt = consents.receipt(ws, record.id)   # a dict, dump it with json.dumps
"""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.errors import OperationRefused
from ..domain.guards import active_consent, purposes_in_effect
from ..domain.policy import LegalBasis
from ..domain.records import Consent, ConsentRecord, Evidence
from ..formats.documents.words import category_label

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = [
    "RECEIPT_VERSION",
    "grant",
    "is_active",
    "purposes_of",
    "receipt",
    "show",
    "withdraw",
]

RECEIPT_VERSION = "KI-CR-v1.1.0"
"""The Kantara Initiative Consent Receipt Specification version the receipts follow."""


def _kind(ws: "Workspace", kind: str) -> None:
    declared = {k.id for k in ws.policy.consent_kinds}
    if kind not in declared:
        raise OperationRefused(
            f"consent kind {kind!r} is not declared in the policy "
            f"(declared: {', '.join(sorted(declared))})"
        )


def grant(
    ws: "Workspace",
    subject_id: str,
    kind: str,
    *,
    method: str,
    text: str | None = None,
    reference: str = "",
    scope: str = "",
    until: datetime | None = None,
    at: datetime | None = None,
    lang: str = "nl",
    actor: str = "api",
) -> ConsentRecord:
    """Record that ``subject_id`` gave a consent of ``kind``; audited.

    :param method: how it was given (``web form``, ``e-mail``, ``phone``, ...).
    :param text: the text shown when asking; default: the policy's text in ``lang``.
    :param reference: where the evidence is (a message id, a form submission, ...).
    :param scope: what exactly it is for, when the kind needs it (a recording's session
        or call, a disclosure request's id).
    :param until: the consent lapses by itself then, if given.
    :param at: when it was given (default: now).
    :raises OperationRefused: for an undeclared kind or an unknown subject.
    """
    _kind(ws, kind)
    if not ws.ledger.has_subject(subject_id):
        raise OperationRefused(f"unknown subject {subject_id!r}")
    if text is None:
        text = ws.policy.consent_kind(kind).text.get(lang)
    consent = Consent(
        subject_id,
        kind,
        at or ws.clock(),
        Evidence(method, text, reference),
        None,
        until,
        scope,
    )
    consent_id = ws.ledger.add_consent(consent, actor)
    return ConsentRecord(consent_id, consent)


def withdraw(
    ws: "Workspace",
    subject_id: str,
    kind: str,
    *,
    scope: str | None = None,
    at: datetime | None = None,
    actor: str = "api",
) -> list[ConsentRecord]:
    """Withdraw every active consent of ``kind`` of ``subject_id`` at ``at`` (default: now).

    :param scope: only the consents for this scope (default: all of the kind).
    :returns: the consents withdrawn (empty when none was active).
    :raises OperationRefused: for an undeclared kind or an unknown subject.
    """
    _kind(ws, kind)
    if not ws.ledger.has_subject(subject_id):
        raise OperationRefused(f"unknown subject {subject_id!r}")
    at = at or ws.clock()
    regs = ws.ledger.registers
    done: list[ConsentRecord] = []
    with ws.ledger.transaction():
        for record in regs.consent_records(subject_id):
            c = record.consent
            if c.kind != kind or (scope is not None and c.scope != scope):
                continue
            if c.withdrawn_at is not None or (c.until is not None and c.until <= at):
                continue
            if c.granted_at > at:
                raise OperationRefused(
                    f"consent {record.id} was granted at {c.granted_at.isoformat()}, after "
                    f"{at.isoformat()}; a consent cannot be withdrawn before it was given"
                )
            done.append(regs.withdraw_consent(record.id, at, actor))
    return done


def show(ws: "Workspace", subject_id: str) -> list[ConsentRecord]:
    """Return every consent of ``subject_id``, withdrawn ones too, oldest first."""
    return ws.ledger.registers.consent_records(subject_id)


def is_active(
    ws: "Workspace",
    subject_id: str,
    kind: str,
    at: datetime | None = None,
    scope: str | None = None,
) -> bool:
    """Return whether ``subject_id`` has an active consent of ``kind`` at ``at``."""
    found = ws.ledger.consents_of(subject_id)
    return active_consent(found, kind, at or ws.clock(), scope) is not None


def purposes_of(ws: "Workspace", subject_id: str, at: datetime | None = None) -> frozenset[str]:
    """Return the purposes that may process ``subject_id``'s data at ``at`` (S7).

    See :func:`praclox_privacy.domain.guards.purposes_in_effect`.
    """
    subject = ws.ledger.subject(subject_id)
    return purposes_in_effect(
        ws.policy, subject, ws.ledger.consents_of(subject_id), at or ws.clock()
    )


def receipt(
    ws: "Workspace",
    consent_id: int,
    *,
    policy_url: str | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """Return consent ``consent_id`` as a Kantara Consent Receipt v1.1 (a JSON object).

    :param policy_url: where the privacy statement is published; default: a ``mailto:``
        link to the rights contact (pass the statement's real address).
    :param lang: the language of the labels (``en`` or ``nl``).
    :raises LedgerError: when there is no such consent.
    """
    record = ws.ledger.registers.consent_record(consent_id)
    consent = record.consent
    policy = ws.policy
    controller = policy.controller
    contact_name = controller.dpo.name if controller.dpo else controller.name
    contact_email = (
        policy.statement.rights_contact
        or (controller.dpo.email if controller.dpo else None)
        or controller.email
    )
    kind = policy.consent_kind(consent.kind)
    disclosure_kind = policy.disclosure.consent_kind if policy.disclosure else None
    third_party: str | None = None
    if consent.kind == disclosure_kind and consent.scope:
        try:
            third_party = ws.ledger.registers.disclosure(consent.scope).requester
        except Exception:  # the scope names no request: say nothing about the party
            third_party = None
    if consent.withdrawn_at is not None:
        termination = f"withdrawn at {consent.withdrawn_at.isoformat()}"
    elif consent.until is not None:
        termination = f"lapses at {consent.until.isoformat()}, or earlier on withdrawal"
    else:
        termination = "until withdrawn; withdrawing is possible at any time, as easily as granting"
    purposes: list[dict[str, Any]] = []
    matching = [
        p
        for p in policy.purposes
        if p.legal_basis is LegalBasis.CONSENT and p.consent_kind == consent.kind
    ]
    for index, p in enumerate(matching):
        purposes.append(
            _purpose(
                p.label.get(lang),
                p.id,
                [policy.category(c).label.get(lang) for c in p.categories],
                index == 0,
                termination,
                third_party,
                consent.kind == disclosure_kind,
            )
        )
    if not purposes:  # a consent kind no purpose names (a disclosure): the kind itself
        data: list[str] = []
        if third_party is not None:
            request = ws.ledger.registers.disclosure(consent.scope)
            data = [category_label(ws.policy, c, lang) for c in request.data]
        purposes.append(
            _purpose(
                kind.label.get(lang),
                kind.id,
                data,
                True,
                termination,
                third_party,
                consent.kind == disclosure_kind,
            )
        )
    receipt_id = uuid.uuid5(
        uuid.NAMESPACE_URL,
        f"praclox-privacy:{controller.email}:{consent_id}:{consent.granted_at.isoformat()}",
    )
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": controller.country,
        "consentTimestamp": int(consent.granted_at.timestamp()),
        "collectionMethod": consent.evidence.method,
        "consentReceiptID": str(receipt_id),
        "language": lang,
        "piiPrincipalId": consent.subject_id,
        "piiControllers": [
            {
                "piiController": controller.name,
                "onBehalf": False,
                "contact": contact_name,
                "address": {
                    "streetAddress": controller.address,
                    "addressCountry": controller.country,
                },
                "email": contact_email,
                "phone": "",
            }
        ],
        "policyUrl": policy_url or f"mailto:{contact_email}",
        "services": [{"service": kind.label.get(lang), "purposes": purposes}],
        "sensitive": False,
        "spiCat": [],
    }


def _purpose(
    purpose: str,
    category: str,
    pii: list[str],
    primary: bool,
    termination: str,
    third_party: str | None,
    disclosure: bool,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "purpose": purpose,
        "purposeCategory": [category],
        "consentType": "EXPLICIT",
        "piiCategory": pii,
        "primaryPurpose": primary,
        "termination": termination,
        "thirdPartyDisclosure": disclosure,
    }
    if disclosure:
        entry["thirdPartyName"] = third_party or "the party named in the request"
    return entry
