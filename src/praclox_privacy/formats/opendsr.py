"""OpenGDPR / OpenDSR requests in, status objects out (a subset of the specification).

Supported (see docs/requests.md): request types ``access``, ``portability`` and
``erasure``; the keys ``subject_request_id`` (a lower-case UUID v4),
``subject_request_type``, ``submitted_time`` (RFC 3339, with an offset),
``subject_identities`` (``identity_type``, ``identity_value``, ``identity_format``), and the
optional ``regulation`` (``gdpr`` only), ``api_version``, ``property_id``,
``status_callback_urls`` (recorded, not called) and ``extensions`` (accepted, ignored).
Identities of every type and format of the specification are accepted and kept; a raw
``email`` or ``controller_customer_id`` (the subject id) is used to find the subject, so
a request needs at least one of those. Signatures and callbacks are out of scope.

A request is structured strictly with the library's cattrs converter (an unknown key is
an error that names it) and then checked; :class:`OpenDsrError` lists every problem with
its location.
"""

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from ..domain.errors import DocumentError, Problem
from ..domain.records import check_subject_id
from ..domain.requests import DataRequest, Identity, RequestType

__all__ = [
    "IDENTITY_FORMATS",
    "IDENTITY_TYPES",
    "REQUEST_TYPES",
    "OpenDsrError",
    "OpenDsrIdentity",
    "OpenDsrRequest",
    "identities_of",
    "parse_opendsr",
    "rfc3339",
    "status_object",
]

API_VERSION = "1.0"
"""The OpenDSR version whose request and status objects this module reads and writes."""

IDENTITY_TYPES = (
    "controller_customer_id",
    "android_advertising_id",
    "android_id",
    "email",
    "fire_advertising_id",
    "ios_advertising_id",
    "ios_vendor_id",
    "microsoft_advertising_id",
    "microsoft_publisher_id",
    "roku_publisher_id",
    "roku_advertising_id",
)
"""The identity types of the specification (section 5.1)."""

IDENTITY_FORMATS = ("raw", "sha1", "md5", "sha256")
"""The identity formats of the specification (section 5.2)."""

REQUEST_TYPES = {
    "access": RequestType.ACCESS,
    "portability": RequestType.PORTABILITY,
    "erasure": RequestType.ERASURE,
}
"""The OpenDSR request types and the rights they map to."""

_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class OpenDsrError(DocumentError):
    """An OpenDSR request is malformed; lists every problem with its location."""


@attrs.frozen
class OpenDsrIdentity:
    """An identity object (section 5.3)."""

    identity_type: str
    identity_value: str
    identity_format: str


@attrs.frozen
class OpenDsrRequest:
    """An OpenDSR request object (section 7.1.1), as far as this library reads it."""

    subject_request_id: str
    subject_request_type: str
    submitted_time: str
    subject_identities: tuple[OpenDsrIdentity, ...]
    regulation: str = "gdpr"
    api_version: str | None = None
    property_id: str | None = None
    status_callback_urls: tuple[str, ...] = ()
    extensions: dict[str, Any] | None = None

    @property
    def submitted_at(self) -> datetime:
        """``submitted_time`` as an instant (only after :func:`parse_opendsr` checked it)."""
        return datetime.fromisoformat(self.submitted_time)


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if "T" not in text.upper() or value.tzinfo is None or value.utcoffset() is None:
        return None
    return value


def check_opendsr(request: OpenDsrRequest, now: datetime | None = None) -> list[Problem]:
    """Return every problem of a structured request (empty when it is valid).

    :param now: when given, a ``submitted_time`` after it is a problem.
    """
    problems: list[Problem] = []
    if not _UUID4.fullmatch(request.subject_request_id):
        problems.append(
            Problem(
                "subject_request_id",
                f"{request.subject_request_id!r} is not a lower-case UUID v4",
            )
        )
    if request.subject_request_type not in REQUEST_TYPES:
        problems.append(
            Problem(
                "subject_request_type",
                f"{request.subject_request_type!r} is not one of "
                f"{', '.join(repr(t) for t in REQUEST_TYPES)}",
            )
        )
    submitted = _instant(request.submitted_time)
    if submitted is None:
        problems.append(
            Problem(
                "submitted_time",
                f"{request.submitted_time!r} is not an RFC 3339 date-time with an offset "
                "(e.g. 2026-03-01T09:30:00Z)",
            )
        )
    elif now is not None and submitted > now:
        problems.append(Problem("submitted_time", f"{request.submitted_time} is in the future"))
    if request.regulation != "gdpr":
        problems.append(
            Problem("regulation", f"{request.regulation!r} is not supported (only 'gdpr')")
        )
    if not request.subject_identities:
        problems.append(Problem("subject_identities", "at least one identity is required"))
    usable = False
    for index, identity in enumerate(request.subject_identities):
        at = f"subject_identities[{index}]"
        kind, value, fmt = identity.identity_type, identity.identity_value, identity.identity_format
        if kind not in IDENTITY_TYPES:
            problems.append(
                Problem(f"{at}.identity_type", f"{kind!r} is not an OpenDSR identity type")
            )
        if fmt not in IDENTITY_FORMATS:
            problems.append(
                Problem(
                    f"{at}.identity_format",
                    f"{fmt!r} is not one of {', '.join(repr(f) for f in IDENTITY_FORMATS)}",
                )
            )
        if not value.strip() or len(value) > 320:
            problems.append(Problem(f"{at}.identity_value", "must be 1-320 characters"))
            continue
        if fmt != "raw":
            continue
        if kind == "email":
            local, sign, domain = value.partition("@")
            if not (local and sign and domain) or any(c.isspace() for c in value):
                problems.append(
                    Problem(f"{at}.identity_value", f"{value!r} is not an e-mail address")
                )
            else:
                usable = True
        elif kind == "controller_customer_id":
            try:
                check_subject_id(value)
            except ValueError as exc:
                problems.append(Problem(f"{at}.identity_value", str(exc)))
            else:
                usable = True
    if request.subject_identities and not usable:
        problems.append(
            Problem(
                "subject_identities",
                "no identity this controller can look up: give a raw 'email' or "
                "'controller_customer_id'",
            )
        )
    for index, url in enumerate(request.status_callback_urls):
        if not url.startswith("https://"):
            problems.append(
                Problem(f"status_callback_urls[{index}]", f"{url!r} is not an https URL")
            )
    return problems


def parse_opendsr(
    document: str | bytes | Mapping[str, Any],
    source: str = "<request>",
    now: datetime | None = None,
) -> OpenDsrRequest:
    """Read an OpenDSR request from JSON text (or already-parsed data) and check it.

    :param source: names the document in errors (a file name, usually).
    :param now: when given, a request submitted after it is refused.
    :raises OpenDsrError: listing every problem with its location.
    """
    from .policy import structure_document

    data: Any = document
    if isinstance(document, str | bytes):
        try:
            data = json.loads(document)
        except json.JSONDecodeError as exc:
            raise OpenDsrError(
                [Problem("", f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")],
                source,
            ) from None
        except UnicodeDecodeError as exc:
            raise OpenDsrError([Problem("", f"not UTF-8 text: {exc}")], source) from None
    if not isinstance(data, Mapping):
        raise OpenDsrError([Problem("", "expected a JSON object")], source)
    try:
        request = structure_document(dict(data), OpenDsrRequest, source, OpenDsrError)
    except OpenDsrError as exc:
        # Unknown keys aside, the rest may be readable: report its problems too.
        try:
            rest = structure_document(_known_keys(data), OpenDsrRequest, source, OpenDsrError)
        except OpenDsrError:
            raise exc from None
        raise OpenDsrError([*exc.problems, *check_opendsr(rest, now)], source) from None
    problems = check_opendsr(request, now)
    if problems:
        raise OpenDsrError(problems, source)
    return request


def _known_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``data`` without the keys :class:`OpenDsrRequest` does not know."""
    known = {a.name for a in attrs.fields(OpenDsrRequest)}
    identity_keys = {a.name for a in attrs.fields(OpenDsrIdentity)}
    out = {k: v for k, v in data.items() if k in known}
    identities = out.get("subject_identities")
    if isinstance(identities, list):
        out["subject_identities"] = [
            {k: v for k, v in i.items() if k in identity_keys} if isinstance(i, dict) else i
            for i in identities
        ]
    return out


def identities_of(request: OpenDsrRequest) -> tuple[Identity, ...]:
    """Return the request's identities; ``controller_customer_id`` becomes ``subject_id``."""
    return tuple(
        Identity(
            "subject_id" if i.identity_type == "controller_customer_id" else i.identity_type,
            i.identity_value.strip() if i.identity_format == "raw" else i.identity_value,
            i.identity_format,
        )
        for i in request.subject_identities
    )


def rfc3339(instant: datetime) -> str:
    """Return ``instant`` in UTC as RFC 3339 (``2026-03-01T08:30:00Z``)."""
    return instant.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def status_object(request: DataRequest, controller_id: str) -> dict[str, Any]:
    """Return the OpenDSR status object of ``request`` (section 8.3).

    ``expected_completion_time`` is the request's deadline (extended, if so);
    ``results_count`` is the number of items exported or erased, once completed.
    """
    data: dict[str, Any] = {
        "controller_id": controller_id,
        "subject_request_id": request.id,
        "request_status": request.status.value,
        "expected_completion_time": rfc3339(request.deadline),
        "received_time": rfc3339(request.received_at),
        "api_version": API_VERSION,
    }
    count = request.result.get("results_count")
    if isinstance(count, int):
        data["results_count"] = count
    return data
