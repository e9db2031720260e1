"""Data-subject requests as pure values and decisions (GDPR Art. 12 and 15 to 21).

Nothing here does I/O: the request register (a :class:`~praclox_privacy.ports.RequestRegister`)
stores these values and the services (:mod:`praclox_privacy.services.requests` and
:mod:`praclox_privacy.services.rights`) carry the rights out. This module decides:

* **deadlines** (Art. 12(3)): a request is due one month after it was received (sooner
  when the policy's ``statement.response_time`` is shorter); the deadline may be extended
  once or twice, by at most two further months in all, with a recorded reason, and only
  while the first month runs (the person must be told within it);
* **the lifecycle**: ``pending`` (received) -> ``in_progress`` (the requester's identity
  is verified) -> ``completed``, or ``cancelled`` from either open state. Access,
  portability, erasure and rectification act only on a verified request.

What restrictions and objections forbid is decided in
:mod:`~praclox_privacy.domain.restrictions`; what the answers to a person hold, in
:mod:`~praclox_privacy.domain.answers`.
"""

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from .errors import InvalidValue, PracloxPrivacyError
from .periods import Period
from .records import aware, check_subject_id

__all__ = [
    "IDENTITY_FORMATS",
    "MAX_EXTENSION",
    "ONE_MONTH",
    "DataRequest",
    "Identity",
    "RequestNotFound",
    "RequestRefused",
    "RequestStatus",
    "RequestType",
    "cancel",
    "complete",
    "due_date",
    "extend",
    "new_request",
    "require_actionable",
    "verify",
]

ONE_MONTH = Period(months=1)
"""GDPR Art. 12(3): a request is answered within one month of receipt."""

MAX_EXTENSION = Period(months=2)
"""GDPR Art. 12(3): the deadline may be extended by two further months at most."""

_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
IDENTITY_FORMATS = ("raw", "sha1", "md5", "sha256")
"""How an identity's value is encoded (the OpenDSR formats)."""


class RequestRefused(PracloxPrivacyError):
    """A request operation is not allowed now (unverified, closed, late extension, ...)."""


class RequestNotFound(RequestRefused):
    """No request or restriction with that id is in the register."""


class RequestType(enum.StrEnum):
    """The rights a data subject can exercise through a request."""

    ACCESS = "access"
    """Art. 15: a copy of everything held, with purposes, bases and retention."""
    PORTABILITY = "portability"
    """Art. 20: the same data in a machine-readable format."""
    ERASURE = "erasure"
    """Art. 17: erase everything no legal hold keeps."""
    RECTIFICATION = "rectification"
    """Art. 16: correct (or complete) an item."""
    RESTRICTION = "restriction"
    """Art. 18: keep, but use for nothing else, until lifted."""
    OBJECTION = "objection"
    """Art. 21: stop processing for a purpose (always for direct marketing)."""

    @property
    def article(self) -> str:
        """The GDPR article of this right, e.g. ``Art. 17 GDPR``."""
        return f"Art. {_ARTICLES[self]} GDPR"

    @property
    def needs_verification(self) -> bool:
        """Whether the requester's identity must be verified before the right is carried out.

        Restriction and objection only limit processing, and an objection to direct
        marketing must take effect at once (Art. 21(3)); the other rights disclose or change
        data and wait for verification.
        """
        return self not in (RequestType.RESTRICTION, RequestType.OBJECTION)


_ARTICLES = {
    RequestType.ACCESS: 15,
    RequestType.PORTABILITY: 20,
    RequestType.ERASURE: 17,
    RequestType.RECTIFICATION: 16,
    RequestType.RESTRICTION: 18,
    RequestType.OBJECTION: 21,
}


class RequestStatus(enum.StrEnum):
    """Where a request stands (the OpenDSR status values)."""

    PENDING = "pending"
    """Received; the requester's identity is not verified yet."""
    IN_PROGRESS = "in_progress"
    """Verified; being carried out."""
    COMPLETED = "completed"
    """Carried out; ``result`` says what was done."""
    CANCELLED = "cancelled"
    """Withdrawn or refused; ``result`` says why."""

    @property
    def is_open(self) -> bool:
        """Whether the request still awaits an answer."""
        return self in (RequestStatus.PENDING, RequestStatus.IN_PROGRESS)


def _request_id(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise InvalidValue(
            attribute.name,
            f"{value!r} is not a valid request id (1-64 letters, digits or '._-', "
            "starting with a letter or digit)",
        )


def _optional_subject(instance: object, attribute: "attrs.Attribute[Any]", value: object) -> None:
    if value is not None:
        try:
            check_subject_id(value)  # type: ignore[arg-type]
        except InvalidValue as exc:
            raise InvalidValue(attribute.name, exc.message) from None


@attrs.frozen
class Identity:
    """An identity the requester gave: an e-mail address, a subject id, ...

    :ivar kind: ``email``, ``subject_id``, or another OpenDSR identity type (kept, but not
        used to find the subject).
    :ivar format: ``raw`` or a hash (``sha256``, ...); only raw values are looked up.
    """

    kind: str = attrs.field()
    value: str = attrs.field()
    format: str = attrs.field(default="raw")

    @kind.validator
    def _check_kind(self, attribute: "attrs.Attribute[str]", value: str) -> None:
        if not isinstance(value, str) or not _KIND.fullmatch(value):
            raise InvalidValue(attribute.name, f"{value!r} is not a valid identity kind")

    @value.validator
    def _check_value(self, attribute: "attrs.Attribute[str]", value: str) -> None:
        if not isinstance(value, str) or not value.strip() or len(value) > 320:
            raise InvalidValue(attribute.name, "an identity is 1-320 characters, not blank")
        if self.kind == "email" and self.format == "raw":
            local, at, domain = value.partition("@")
            if not (local and at and domain) or any(c.isspace() for c in value):
                raise InvalidValue(attribute.name, f"{value!r} is not an e-mail address")
        if self.kind == "subject_id":
            try:
                check_subject_id(value)
            except InvalidValue as exc:
                raise InvalidValue(attribute.name, exc.message) from None

    @format.validator
    def _check_format(self, attribute: "attrs.Attribute[str]", value: str) -> None:
        if value not in IDENTITY_FORMATS:
            raise InvalidValue(
                attribute.name,
                f"{value!r} is not an identity format ({', '.join(IDENTITY_FORMATS)})",
            )

    @property
    def usable(self) -> bool:
        """Whether this identity can find a subject (a raw e-mail address or subject id)."""
        return self.format == "raw" and self.kind in ("email", "subject_id")


def _identities(value: Iterable[Identity]) -> tuple[Identity, ...]:
    return tuple(value)


def _mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen(eq=True, hash=False)
class DataRequest:
    """A data-subject request in the register.

    :ivar identities: what the requester gave to identify themselves.
    :ivar received_at: when the request reached the controller; the deadline runs from it.
    :ivar due_at: the deadline of Art. 12(3) before any extension.
    :ivar extended_until: the extended deadline, if any (at most two more months).
    :ivar subject_id: the subject the request concerns, once known (set on verification).
    :ivar details: what carrying the right out needs (the OpenDSR request's callbacks,
        the category to rectify, a note); kept in the register, never audited.
    :ivar result: what was done (counts, kept items and their grounds), once closed.
    """

    id: str = attrs.field(validator=_request_id)
    type: RequestType = attrs.field(converter=RequestType)
    identities: tuple[Identity, ...] = attrs.field(converter=_identities)
    received_at: datetime = attrs.field(validator=aware)
    due_at: datetime = attrs.field(validator=aware)
    status: RequestStatus = attrs.field(default=RequestStatus.PENDING, converter=RequestStatus)
    subject_id: str | None = attrs.field(default=None, validator=_optional_subject)
    verified_at: datetime | None = attrs.field(default=None, validator=aware)
    verified_by: str = ""
    extended_until: datetime | None = attrs.field(default=None, validator=aware)
    extension_reason: str = ""
    closed_at: datetime | None = attrs.field(default=None, validator=aware)
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=_mapping)
    result: Mapping[str, Any] = attrs.field(factory=dict, converter=_mapping)

    @property
    def deadline(self) -> datetime:
        """The deadline that applies now: the extended one, if extended."""
        return self.extended_until or self.due_at

    @property
    def is_verified(self) -> bool:
        """Whether the requester's identity was verified."""
        return self.verified_at is not None

    def is_overdue(self, now: datetime) -> bool:
        """Whether the request is still open after its deadline."""
        return self.status.is_open and now > self.deadline


def due_date(received_at: datetime, response_time: Period = ONE_MONTH) -> datetime:
    """Return the deadline of a request received at ``received_at`` (GDPR Art. 12(3)).

    :param response_time: the controller's own promise (the policy's
        ``statement.response_time``); the deadline is never later than one month.
    :raises ValueError: when ``received_at`` is naive.
    """
    return min(response_time.after(received_at), ONE_MONTH.after(received_at))


def new_request(
    request_id: str,
    type: RequestType | str,
    identities: Iterable[Identity],
    received_at: datetime,
    *,
    response_time: Period = ONE_MONTH,
    subject_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> DataRequest:
    """Return a new, pending request due :func:`due_date` after ``received_at``.

    :raises RequestRefused: when no identity is given.
    :raises InvalidValue: for an invalid id, type or instant.
    """
    identities = tuple(identities)
    if not identities:
        raise RequestRefused("a request needs at least one identity (an e-mail address or id)")
    try:
        kind = RequestType(type)
    except ValueError:
        allowed = ", ".join(t.value for t in RequestType)
        raise InvalidValue("type", f"{type!r} is not a request type ({allowed})") from None
    aware(None, attrs.fields(DataRequest).received_at, received_at)
    return DataRequest(
        request_id,
        kind,
        identities,
        received_at,
        due_date(received_at, response_time),
        subject_id=subject_id,
        details=details,
    )


def _require_open(request: DataRequest) -> None:
    if not request.status.is_open:
        raise RequestRefused(
            f"request {request.id} is {request.status.value}"
            + (f" since {request.closed_at.isoformat()}" if request.closed_at else "")
            + "; nothing was changed"
        )


def verify(request: DataRequest, verified_by: str, at: datetime, subject_id: str) -> DataRequest:
    """Return ``request`` with the requester's identity verified by ``verified_by``.

    :param subject_id: the subject the verified requester is.
    :raises RequestRefused: when the request is closed or already verified, or
        ``verified_by`` is blank.
    """
    _require_open(request)
    if request.is_verified:
        assert request.verified_at is not None
        raise RequestRefused(
            f"request {request.id} was already verified by {request.verified_by} at "
            f"{request.verified_at.isoformat()}"
        )
    if not verified_by.strip():
        raise RequestRefused("say who verified the requester's identity (verified_by)")
    return attrs.evolve(
        request,
        status=RequestStatus.IN_PROGRESS,
        verified_at=at,
        verified_by=verified_by.strip(),
        subject_id=subject_id,
    )


def extend(request: DataRequest, months: int, reason: str, at: datetime) -> DataRequest:
    """Return ``request`` with its deadline extended by ``months`` (Art. 12(3)).

    The extension runs from the original deadline; all extensions together end no later
    than two months after it. It must be decided (and the person told) before the original
    deadline passes.

    :raises RequestRefused: when the request is closed, the first month is over, the
        reason is blank, or the extension is not 1 or 2 months or goes beyond the limit.
    """
    _require_open(request)
    if not reason.strip():
        raise RequestRefused(
            "an extension needs a reason (the complexity or number of requests), which is "
            "told to the person"
        )
    if months not in (1, 2):
        raise RequestRefused(f"an extension is 1 or 2 months, not {months}")
    if at > request.due_at:
        raise RequestRefused(
            f"request {request.id} was due at {request.due_at.isoformat()}; an extension "
            "must be decided and told to the person within the first month (GDPR Art. 12(3))"
        )
    limit = MAX_EXTENSION.after(request.due_at)
    until = Period(months=months).after(request.due_at)
    if request.extended_until is not None and until <= request.extended_until:
        raise RequestRefused(
            f"request {request.id} is already extended until {request.extended_until.isoformat()}"
        )
    if until > limit:  # pragma: no cover - months <= 2 keeps it within the limit
        raise RequestRefused(f"an extension ends at {limit.isoformat()} at the latest")
    return attrs.evolve(request, extended_until=until, extension_reason=reason.strip())


def require_actionable(request: DataRequest, types: Iterable[RequestType], subject_id: str) -> None:
    """Check that ``request`` may be carried out now for ``subject_id``.

    :raises RequestRefused: naming what is missing (verification, the right type, ...).
    """
    wanted = tuple(types)
    _require_open(request)
    if request.type not in wanted:
        raise RequestRefused(
            f"request {request.id} is a {request.type.value} request, not "
            f"{' or '.join(t.value for t in wanted)}"
        )
    if request.type.needs_verification and not request.is_verified:
        raise RequestRefused(
            f"request {request.id} is not verified: verify the requester's identity first "
            "(`praclox-privacy request verify`); nothing was exported or erased"
        )
    if request.subject_id is not None and request.subject_id != subject_id:
        raise RequestRefused(
            f"request {request.id} concerns subject {request.subject_id!r}, not {subject_id!r}"
        )


def complete(request: DataRequest, result: Mapping[str, Any], at: datetime) -> DataRequest:
    """Return ``request`` completed at ``at`` with ``result``.

    :raises RequestRefused: when it is closed, or needs verification and is not verified.
    """
    _require_open(request)
    if request.type.needs_verification and not request.is_verified:
        raise RequestRefused(f"request {request.id} is not verified")
    return attrs.evolve(request, status=RequestStatus.COMPLETED, result=result, closed_at=at)


def cancel(request: DataRequest, reason: str, at: datetime) -> DataRequest:
    """Return ``request`` cancelled (withdrawn, refused or unfounded) with ``reason``.

    :raises RequestRefused: when it is already closed or the reason is blank.
    """
    _require_open(request)
    if not reason.strip():
        raise RequestRefused("say why the request is cancelled (it is told to the person)")
    return attrs.evolve(
        request,
        status=RequestStatus.CANCELLED,
        result={"reason": reason.strip()},
        closed_at=at,
    )
