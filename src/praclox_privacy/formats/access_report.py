"""The access report (GDPR Art. 15 and 20) as JSON, CSV and HTML, in Dutch or English.

* **JSON** (machine-readable, GDPR Art. 20): one object, described by the JSON Schema
  shipped as ``praclox_privacy/formats/templates/access-report.schema.json``
  (:func:`report_schema`); instants are RFC 3339 in UTC.
* **CSV**: one row per item, event, consent, request and restriction, told apart by the
  ``section`` column (:data:`CSV_COLUMNS`).
* **HTML**: a readable page from the Jinja2 template
  ``praclox_privacy/formats/templates/access-report.html``, every value escaped; the
  sentences come from ``request-texts.toml`` beside it (:mod:`praclox_privacy.formats.texts`).

Dates in sentences are written in the workspace's time zone (``1 maart 2026``,
``1 March 2026``). The letters that confirm the other rights are in :mod:`.letters`.
"""

import csv
import io
import json
from datetime import UTC, datetime, tzinfo
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..domain.answers import AccessReport, ReportItem
from ..domain.policy import Policy
from ..domain.requests import DataRequest
from ..domain.restrictions import Restriction, RestrictionKind
from ..domain.retention import Status
from .documents.words import (
    basis_phrase,
    category_label,
    consent_label,
    data_label,
    event_label,
    join_and,
    purpose_label,
    relation_label,
    retention_phrase,
)
from .jsonout import insert_after, to_json
from .texts import long_date, texts

if TYPE_CHECKING:
    from ..domain.records import Consent

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "FORMAT_VERSION",
    "render_report",
    "report_csv",
    "report_html",
    "report_json",
    "report_schema",
]

FORMATS = ("json", "csv", "html")
"""The formats of the access report."""

FORMAT_VERSION = 1
"""The version of the JSON format; it changes when a field is removed or changes meaning."""

CSV_COLUMNS = (
    "section",
    "store",
    "category",
    "field",
    "value",
    "at",
    "purposes",
    "legal_bases",
    "erase_at",
    "legal_hold",
    "recipients",
    "details",
)
"""The CSV columns. ``section`` is ``item``, ``event``, ``consent``, ``request`` or
``restriction``; ``at`` is when the item was collected (or the event happened, the consent
was given, the request received, the restriction started)."""
_TEMPLATES = "templates"


def report_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of :func:`report_json`'s output."""
    text = resources.files(__package__).joinpath(_TEMPLATES, "access-report.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return schema


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else str(to_json(instant, utc=True))


# -- per item ---------------------------------------------------------------------------------


def _retention_text(entry: ReportItem, policy: Policy, lang: str, tz: tzinfo) -> str:
    t = texts(lang)
    if entry.status is Status.KEPT and entry.erase_at is not None:
        return str(t["keep_until"]).format(date=long_date(entry.erase_at, lang, tz))
    if entry.status is Status.WAITING and entry.rule is not None:
        return retention_phrase(policy, policy.rule(entry.rule), lang)
    if entry.status is Status.DUE:
        return str(t["due_now"])
    return str(t["uncovered"])


def _hold(entry: ReportItem, policy: Policy, lang: str) -> dict[str, str] | None:
    if entry.hold_rule is None:
        return None
    hold = policy.rule(entry.hold_rule).legal_hold
    if hold is None:  # pragma: no cover - a decision names a hold only when there is one
        return None
    return {"rule": entry.hold_rule, "law": hold.law, "reason": hold.reason.get(lang)}


def _hold_text(entry: ReportItem, policy: Policy, lang: str) -> str | None:
    hold = _hold(entry, policy, lang)
    if hold is None:
        return None
    return str(texts(lang)["legal_hold"]).format(reason=hold["reason"], law=hold["law"])


def _purpose_texts(entry: ReportItem, lang: str) -> list[str]:
    lines = []
    for p in entry.purposes:
        interest = p.legitimate_interest.get(lang) if p.legitimate_interest else None
        basis = basis_phrase(p.legal_basis, lang, law=p.law, interest=interest)
        lines.append(f"{p.label.get(lang)} ({basis})")
    return lines


def _recipient_labels(entry: ReportItem, policy: Policy, lang: str) -> list[dict[str, str]]:
    labels = {r.id: r.label.get(lang) for r in policy.recipients}
    return [{"id": r, "label": labels.get(r, r)} for r in entry.recipients]


# -- JSON -------------------------------------------------------------------------------------


# The records are the converter's shapes in UTC, less what the person need not be told
# here (the subject, the register's bookkeeping), plus what a person reads: the article,
# a label in the report's language, whether it counts now.


def _request_json(request: DataRequest) -> dict[str, Any]:
    data = to_json(
        request,
        utc=True,
        omit=(
            "subject_id",
            "identities",
            "extension_reason",
            "deadline",
            "verified_by",
            "details",
            "result",
        ),
    )
    return insert_after(data, "type", article=request.type.article)


def _consent_json(consent: "Consent", policy: Policy, lang: str, now: datetime) -> dict[str, Any]:
    try:
        label = policy.consent_kind(consent.kind).label.get(lang)
    except KeyError:
        label = consent.kind
    data = to_json(consent, utc=True, omit=("subject_id", "reference"))
    data = insert_after(data, "kind", label=label)
    data = insert_after(data, "until", active=consent.active_at(now))
    return insert_after(data, "text", scope=consent.scope)


def _restriction_json(r: Restriction, now: datetime) -> dict[str, Any]:
    return {**to_json(r, utc=True, omit=("subject_id",)), "active": r.active_at(now)}


def report_json(
    report: AccessReport, policy: Policy, lang: str = "en", tz: tzinfo = UTC
) -> dict[str, Any]:
    """Return the access report as JSON data (see :func:`report_schema`).

    :param lang: the language of labels and explanations.
    :param tz: the time zone of dates written in explanations.
    """
    t = texts(lang)
    subject = report.subject
    controller = policy.controller
    dpo = controller.dpo
    items = []
    for entry in report.items:
        item = entry.item
        items.append(
            {
                "store": entry.store,
                "category": item.category,
                "category_label": category_label(policy, item.category, lang),
                "field": item.field,
                "value": item.value,
                "collected_at": _iso(item.collected_at),
                "purposes": [
                    {
                        "id": p.id,
                        "label": p.label.get(lang),
                        "legal_basis": p.legal_basis.value,
                        "article": p.legal_basis.article,
                        "law": p.law,
                        "legitimate_interest": p.legitimate_interest.get(lang)
                        if p.legitimate_interest
                        else None,
                        "direct_marketing": p.direct_marketing,
                    }
                    for p in entry.purposes
                ],
                "legal_bases": [b.value for b in entry.legal_bases],
                "erase_at": _iso(entry.erase_at) if entry.status is Status.KEPT else None,
                "retention_status": entry.status.value,
                "retention_rule": entry.rule,
                "retention": _retention_text(entry, policy, lang, tz),
                "legal_hold": _hold(entry, policy, lang),
                "recipients": _recipient_labels(entry, policy, lang),
                "restricted": entry.restricted,
            }
        )
    return {
        "format": "praclox-privacy/access-report",
        "version": FORMAT_VERSION,
        "lang": lang,
        "generated_at": _iso(report.generated_at),
        "controller": {
            "name": controller.name,
            "email": controller.email,
            "dpo": None if dpo is None else {"name": dpo.name, "email": dpo.email},
        },
        "request": None if report.request is None else _request_json(report.request),
        "subject": {
            "id": subject.id,
            "relation_types": [
                {"id": rt, "label": relation_label(policy, rt, lang)}
                for rt in sorted(subject.relation_types)
            ],
            "organisation": subject.organisation,
        },
        "stores": report.stores,
        "items": items,
        "consents": [_consent_json(c, policy, lang, report.generated_at) for c in report.consents],
        "events": [
            {"event": e.name, "label": event_label(policy, e.name, lang), "at": _iso(e.at)}
            for e in sorted(report.subject.events, key=lambda e: e.at)
        ],
        "requests": [_request_json(r) for r in report.requests],
        "restrictions": [_restriction_json(r, report.generated_at) for r in report.restrictions],
        "notice": str(t["scope"]),
    }


# -- CSV --------------------------------------------------------------------------------------


def report_csv(report: AccessReport, policy: Policy, lang: str = "en", tz: tzinfo = UTC) -> str:
    """Return the access report as CSV (:data:`CSV_COLUMNS`), one row per record."""
    data = report_json(report, policy, lang, tz)
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in data["items"]:
        hold = item["legal_hold"]
        writer.writerow(
            {
                "section": "item",
                "store": item["store"],
                "category": item["category"],
                "field": item["field"],
                "value": item["value"],
                "at": item["collected_at"],
                "purposes": " ".join(p["id"] for p in item["purposes"]),
                "legal_bases": " ".join(item["legal_bases"]),
                "erase_at": item["erase_at"] or "",
                "legal_hold": f"{hold['law']}: {hold['reason']}" if hold else "",
                "recipients": " ".join(r["id"] for r in item["recipients"]),
                "details": item["retention"],
            }
        )
    for event in data["events"]:
        writer.writerow(
            {
                "section": "event",
                "field": event["event"],
                "at": event["at"],
                "details": event["label"],
            }
        )
    for consent in data["consents"]:
        details = "; ".join(
            f"{key} {consent[key]}" for key in ("withdrawn_at", "until") if consent[key]
        )
        writer.writerow(
            {
                "section": "consent",
                "category": consent["kind"],
                "value": "active" if consent["active"] else "inactive",
                "at": consent["granted_at"],
                "details": details,
            }
        )
    for request in data["requests"]:
        writer.writerow(
            {
                "section": "request",
                "field": request["type"],
                "value": request["status"],
                "at": request["received_at"],
                "details": f"{request['id']}; due {request['extended_until'] or request['due_at']}",
            }
        )
    for r in data["restrictions"]:
        writer.writerow(
            {
                "section": "restriction",
                "category": r["category"] or "",
                "field": r["purpose"] or "",
                "value": r["kind"],
                "at": r["started_at"],
                "details": f"{r['ground']}"
                + (f"; lifted {r['lifted_at']}" if r["lifted_at"] else ""),
            }
        )
    return out.getvalue()


# -- HTML -------------------------------------------------------------------------------------


def _request_line(request: DataRequest, lang: str, tz: tzinfo) -> str:
    t = texts(lang)
    return str(t["request"]).format(
        id=request.id,
        right=t["rights_names"][request.type.value],
        received=long_date(request.received_at, lang, tz),
        deadline=long_date(request.deadline, lang, tz),
        status=t["statuses"][request.status.value],
    )


def _restriction_line(r: Restriction, policy: Policy, lang: str, tz: tzinfo) -> str:
    t = texts(lang)
    date = long_date(r.started_at, lang, tz)
    if r.kind is RestrictionKind.OBJECTION:
        line = str(t["objection"]).format(purpose=purpose_label(policy, r.purpose, lang), date=date)
    elif r.category is None:
        line = str(t["restriction_all"]).format(date=date)
    else:
        line = str(t["restriction_category"]).format(
            category=category_label(policy, r.category, lang), date=date
        )
    if r.lifted_at is not None:
        line += f"; {str(t['lifted']).format(date=long_date(r.lifted_at, lang, tz))}"
    return line


def _contact(policy: Policy, lang: str) -> tuple[str, str | None]:
    t = texts(lang)
    controller = policy.controller
    if controller.dpo is not None:
        contact = str(t["contact"]).format(name=controller.dpo.name, email=controller.dpo.email)
    else:
        contact = str(t["contact_controller"]).format(name=controller.name, email=controller.email)
    authority = controller.supervisory_authority
    complaint = (
        None
        if authority is None
        else str(t["complaint"]).format(authority=authority.name, url=authority.url)
    )
    return contact, complaint


def report_html(report: AccessReport, policy: Policy, lang: str = "nl", tz: tzinfo = UTC) -> str:
    """Return the access report as a readable HTML page in ``lang``; values are escaped."""
    import jinja2

    t = texts(lang)
    subject = report.subject
    rows = [
        {
            "data": data_label(policy, e.item.category, e.item.field, lang),
            "value": e.item.value,
            "purposes": _purpose_texts(e, lang),
            "retention": _retention_text(e, policy, lang, tz),
            "hold": _hold_text(e, policy, lang),
            "recipients": join_and([r["label"] for r in _recipient_labels(e, policy, lang)], lang)
            or t["recipients_none"],
            "store": e.store,
            "restricted": e.restricted,
        }
        for e in report.items
    ]
    consents = []
    for c in report.consents:
        line = str(t["consent"]).format(
            kind=consent_label(policy, c.kind, lang), date=long_date(c.granted_at, lang, tz)
        )
        if c.withdrawn_at is not None:
            line += (
                f"; {str(t['consent_withdrawn']).format(date=long_date(c.withdrawn_at, lang, tz))}"
            )
        if c.until is not None:
            line += f"; {str(t['consent_until']).format(date=long_date(c.until, lang, tz))}"
        consents.append(line)
    contact, complaint = _contact(policy, lang)
    request = report.request
    context = {
        "lang": lang,
        "t": t,
        "title": str(t["title"]).format(controller=policy.controller.name),
        "subtitle": str(t["subtitle"]).format(
            subject=subject.id, date=long_date(report.generated_at, lang, tz)
        ),
        "answer": None
        if request is None
        else str(t["answer"]).format(
            request=request.id,
            received=long_date(request.received_at, lang, tz),
            right=t["rights_names"][request.type.value],
        ),
        "relation": str(t["relation"]).format(
            types=join_and(
                [relation_label(policy, rt, lang) for rt in sorted(subject.relation_types)],
                lang,
            )
        ),
        "organisation": None
        if subject.organisation is None
        else str(t["organisation"]).format(organisation=subject.organisation),
        "rows": rows,
        "consents": consents,
        "events": [
            str(t["event"]).format(
                event=event_label(policy, e.name, lang), date=long_date(e.at, lang, tz)
            )
            for e in sorted(subject.events, key=lambda e: e.at)
        ],
        "requests": [_request_line(r, lang, tz) for r in report.requests],
        "restrictions": [_restriction_line(r, policy, lang, tz) for r in report.restrictions],
        "contact": contact,
        "complaint": complaint,
    }
    source = resources.files(__package__).joinpath(_TEMPLATES, "access-report.html")
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.from_string(source.read_text("utf-8")).render(context)


def render_report(
    report: AccessReport, policy: Policy, fmt: str, lang: str, tz: tzinfo = UTC
) -> str:
    """Return the access report in ``fmt`` (``json``, ``csv`` or ``html``) and ``lang``.

    :raises ValueError: for another format or language.
    """
    if fmt == "json":
        return (
            json.dumps(report_json(report, policy, lang, tz), indent=2, ensure_ascii=False) + "\n"
        )
    if fmt == "csv":
        return report_csv(report, policy, lang, tz)
    if fmt == "html":
        return report_html(report, policy, lang, tz)
    raise ValueError(f"unsupported format {fmt!r} (expected {', '.join(FORMATS)})")
