"""Guesses from names: which relation type a table holds, which field a column, which event.

The name tables below fit the shipped policy's relation types, fields and events; a
guess is only ever a suggestion that ``map suggest`` writes as a comment for a person to
review.
"""

from ...domain.policy import COLLECTED, Policy

__all__ = [
    "IDENTITY_NAMES",
    "guess_event",
    "guess_field",
    "guess_relation_type",
    "rule_events",
    "singular",
]

# Table names (singular, lower case) that suggest a relation type of the shipped policy.
_RELATION_NAMES: dict[str, tuple[str, ...]] = {
    "applicant": ("applicant", "candidate", "application", "job_application", "sollicitant"),
    "website_user": ("user", "website_user", "site_user", "web_user", "account", "member"),
    "client": ("client", "customer", "klant"),
    "contact_person": ("contact", "contact_person", "contact_people", "contactpersoon"),
    "prospect": ("prospect", "lead"),
}

# Column names (lower case) that suggest a policy field: field -> (description, names).
_FIELD_NAMES: dict[str, tuple[str, frozenset[str]]] = {
    "email": (
        "e-mail address",
        frozenset({"email", "e_mail", "email_address", "emailaddress", "mail", "mail_address"}),
    ),
    "phone": (
        "phone number",
        frozenset(
            {
                "phone",
                "telephone",
                "phone_number",
                "phonenumber",
                "phone_no",
                "telephone_number",
                "tel",
                "mobile",
                "mobile_phone",
                "mobile_number",
            }
        ),
    ),
    "name": (
        "name",
        frozenset(
            {
                "name",
                "full_name",
                "fullname",
                "first_name",
                "firstname",
                "given_name",
                "last_name",
                "lastname",
                "surname",
                "family_name",
                "display_name",
                "username",
                "user_name",
                "office_name",
                "company_name",
                "organisation_name",
                "organization_name",
                "contact_name",
            }
        ),
    ),
    "initials": ("initials", frozenset({"initials"})),
    "job_title": ("job title", frozenset({"job_title", "jobtitle", "title_of_job"})),
    "street": (
        "street address",
        frozenset(
            {
                "street",
                "address",
                "street_address",
                "address_line",
                "address_line1",
                "address_line_1",
                "address_line2",
                "address_line_2",
                "address1",
                "address2",
                "house_number",
                "housenumber",
            }
        ),
    ),
    "postal_code": (
        "postcode",
        frozenset(
            {"postal_code", "postalcode", "postcode", "post_code", "zip", "zipcode", "zip_code"}
        ),
    ),
    "city": ("city", frozenset({"city", "town", "place_of_residence", "residence"})),
    "country": ("country", frozenset({"country", "country_code"})),
    "birthday": (
        "birth date",
        frozenset({"birthday", "birth_date", "birthdate", "date_of_birth", "dob", "born_on"}),
    ),
    "iban": (
        "IBAN",
        frozenset({"iban", "iban_number", "bank_account", "bank_account_number"}),
    ),
    "website": ("website", frozenset({"website", "homepage", "website_url"})),
    "registration_number": (
        "registration number",
        frozenset({"registration_number", "coc_number", "kvk", "kvk_number"}),
    ),
    "cv": ("CV", frozenset({"cv", "resume", "curriculum_vitae"})),
    "letter": (
        "letter",
        frozenset({"letter", "cover_letter", "motivation", "motivation_letter"}),
    ),
}

# Column names that suggest an identity a person can be found by: kind -> names.
IDENTITY_NAMES: dict[str, frozenset[str]] = {
    "customer_number": frozenset(
        {"customer_number", "client_number", "customer_no", "client_no", "debtor_number"}
    ),
}

# Stems of date column names: stem -> the events they may record, the likeliest first.
_EVENT_STEMS: dict[str, tuple[str, ...]] = {
    "rejected": ("rejected",),
    "rejection": ("rejected",),
    "declined": ("rejected",),
    "refused": ("rejected",),
    "ended": ("relation_ended", "agreement_ended", "account_closed"),
    "end": ("relation_ended", "agreement_ended", "account_closed"),
    "terminated": ("relation_ended", "agreement_ended", "account_closed"),
    "termination": ("relation_ended", "agreement_ended", "account_closed"),
    "cancelled": ("relation_ended", "agreement_ended", "account_closed"),
    "canceled": ("relation_ended", "agreement_ended", "account_closed"),
    "churned": ("relation_ended",),
    "left": ("relation_ended",),
    "closed": ("account_closed", "relation_ended"),
    "deleted": ("account_closed", "relation_ended"),
    "deactivated": ("account_closed", "relation_ended"),
    "disabled": ("account_closed", "relation_ended"),
    "removed": ("account_closed", "relation_ended"),
    "archived": ("account_closed", "relation_ended"),
    "used": ("used",),
}
_COLLECTED_STEMS = frozenset(
    {
        "created",
        "creation",
        "registered",
        "registration",
        "applied",
        "application",
        "issued",
        "inserted",
        "signed_up",
        "signup",
        "joined",
        "recorded",
        "collected",
        "received",
        "submitted",
    }
)
_DATE_SUFFIXES = ("_at", "_on", "_date", "_datetime", "_time", "_ts")


def singular(name: str) -> str:
    """Return an English table name in the singular, lower case (``people`` -> ``person``)."""
    name = name.lower()
    if name.endswith("people"):
        return name[: -len("people")] + "person"
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def guess_relation_type(table: str, policy: Policy) -> str | None:
    """Return the relation type of ``policy`` that table name ``table`` suggests, or ``None``.

    A name that is a relation type's id (singular or plural) suggests it; so do the usual
    names of the shipped policy's relation types (``users``, ``accounts`` ->
    ``website_user``; ``customers`` -> ``client``; ``contacts`` -> ``contact_person``;
    ``leads`` -> ``prospect``), also after a prefix (``wp_users``, ``auth_user``).
    """
    declared = [r.id for r in policy.relation_types]
    name = singular(table)
    for relation_type in declared:
        if name in (relation_type, singular(relation_type)):
            return relation_type
    for relation_type, names in _RELATION_NAMES.items():
        if relation_type not in declared:
            continue
        for known in names:
            if name == known or name.endswith(f"_{known}"):
                return relation_type
    return None


def guess_field(column: str) -> tuple[str, str] | None:
    """Return ``(field, description)`` of the personal data column ``column`` suggests."""
    lowered = column.lower()
    for field, (description, names) in _FIELD_NAMES.items():
        if lowered in names:
            return field, description
    return None


def _date_stem(column: str) -> str | None:
    lowered = column.lower()
    for suffix in _DATE_SUFFIXES:
        if lowered.endswith(suffix) and len(lowered) > len(suffix):
            return lowered[: -len(suffix)]
    if lowered.startswith("date_") and len(lowered) > len("date_"):
        return lowered[len("date_") :]
    return None


def guess_event(column: str, policy: Policy) -> tuple[str, ...]:
    """Return the events of ``policy`` a date column named ``column`` may record.

    ``collected`` for a creation instant (``created_at``, ``issued_on``, ``applied_at``),
    else the lifecycle events its name suggests, the likeliest first (``ended_on`` ->
    ``relation_ended``, ``agreement_ended``, ``account_closed``); empty when none.
    """
    stem = _date_stem(column)
    if stem is None:
        return ()
    declared = {e.id for e in policy.events}
    if stem in declared:
        return (stem,)
    last = stem.rsplit("_", 1)[-1]
    if stem in _COLLECTED_STEMS or last in _COLLECTED_STEMS:
        return (COLLECTED,)
    for candidate in (stem, last):
        if candidate in _EVENT_STEMS:
            return tuple(e for e in _EVENT_STEMS[candidate] if e in declared)
    return ()


def rule_events(policy: Policy, relation_type: str) -> list[str]:
    """Return the events the retention rules of ``relation_type`` count from, in order."""
    events: list[str] = []
    for rule in policy.retention:
        if relation_type in rule.relation_types:
            for event in rule.after:
                if event != COLLECTED and event not in events:
                    events.append(event)
    return events


# -- the draft ---------------------------------------------------------------------------
