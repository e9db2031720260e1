"""The ``tryton`` store plugin: client and contact data held in a Tryton CRM.

Install ``praclox-privacy[tryton]``. The plugin speaks Tryton's JSON-RPC over ``httpx``
(no ``proteus``) and is found through its entry point, like a third-party plugin.
Workspace configuration (docs/tryton.md)::

    [stores.crm]
    plugin = "tryton"
    url = "http://127.0.0.1:8000/"         # the trytond server
    database = "praclox"                   # the Tryton database
    username = "praclox"
    password_env = "PRACLOX_TRYTON_PASSWORD"  # or password = "..." (not recommended)
    subject_prefix = "tryton-party-"       # subject id = prefix + the party's id

    # Praclox relation type -> the Tryton party category that marks it (defaults shown).
    [stores.crm.relation_types]
    client = "client"
    prospect = "prospect"
    contact_person = "contact_person"

    # "category.field" -> where Tryton holds it; replaces the defaults (DEFAULT_FIELDS).
    [stores.crm.fields]
    "office_contact.email" = "contact.email"

A party is a subject when it is in one of the mapped party categories; its relation
types are the categories it is in. This module is light: ``httpx`` is imported by the
store's factory only. See :mod:`praclox_privacy.stores.tryton.store` for the mapping.
"""

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from ...domain.errors import InvalidValue, Problem, WorkspaceError
from ...domain.records import check_subject_id
from ...hookspecs import hookimpl
from ...ports import StoreContext, StoreKind

if TYPE_CHECKING:
    import click

    from ...domain.policy import Policy
    from ...ports import CommandKit
    from .store import TrytonStore

__all__ = [
    "ADDRESS_FIELDS",
    "CONTACT_TYPES",
    "DEFAULT_FIELDS",
    "DEFAULT_RELATION_TYPES",
    "TrytonSettings",
    "parse_source",
]

DEFAULT_RELATION_TYPES: Mapping[str, str] = {
    "client": "client",
    "prospect": "prospect",
    "contact_person": "contact_person",
}
"""Praclox relation type -> name of the Tryton party category that marks it."""

DEFAULT_FIELDS: Mapping[str, str] = {
    "office_identity.name": "party.name",
    "office_address.street": "address.street",
    "office_address.postal_code": "address.postal_code",
    "office_address.city": "address.city",
    "office_address.country": "address.country",
    "office_contact.email": "contact.email",
    "office_contact.phone": "contact.phone",
    "office_contact.website": "contact.website",
    "person_name.name": "party.name",
    "person_contact.email": "contact.email",
    "person_contact.phone": "contact.phone",
}
"""``category.field`` -> where Tryton holds the value (see :func:`parse_source`)."""

ADDRESS_FIELDS = ("street", "postal_code", "city", "country", "party_name", "attn")
"""The fields of a Tryton address (``party.address``) a mapping may name."""

CONTACT_TYPES = (
    "email",
    "phone",
    "mobile",
    "fax",
    "website",
    "skype",
    "sip",
    "irc",
    "jabber",
)
"""The contact mechanism types a mapping may name (``other`` is what Tryton's erasure
leaves behind, so it is never mapped)."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_IDENTIFIER_TYPE = re.compile(r"[a-z][a-z0-9_]*")


def parse_source(source: str) -> tuple[str, str]:
    """Split a mapping's source into its kind and name, checking it.

    ``party.name``; ``address.<field>`` (one of :data:`ADDRESS_FIELDS`);
    ``contact.<type>`` (one of :data:`CONTACT_TYPES`); ``identifier.<type>`` (a Tryton
    identifier type such as ``nl_btw`` or ``eu_vat``).

    :raises ValueError: saying what is wrong.
    """
    kind, _, name = source.partition(".")
    if kind == "party" and name == "name":
        return kind, name
    if kind == "address" and name in ADDRESS_FIELDS:
        return kind, name
    if kind == "contact" and name in CONTACT_TYPES:
        return kind, name
    if kind == "identifier" and _IDENTIFIER_TYPE.fullmatch(name):
        return kind, name
    raise ValueError(
        f"{source!r} is not a Tryton source: use party.name, address.<field> (field: "
        f"{', '.join(ADDRESS_FIELDS)}), contact.<type> (type: {', '.join(CONTACT_TYPES)}) "
        "or identifier.<type>"
    )


def _non_blank(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(attribute.name, f"{value!r} must not be blank")


def _http_url(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise InvalidValue(attribute.name, f"{value!r} is not an http:// or https:// URL")


def _prefix(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    try:
        check_subject_id(value + "1")
    except InvalidValue:
        raise InvalidValue(
            attribute.name,
            f"{value!r} followed by a party id is not a valid subject id (letters, digits "
            "and '._@+-', starting with a letter or digit)",
        ) from None


def _relation_types(
    instance: object, attribute: "attrs.Attribute[dict[str, str]]", value: dict[str, str]
) -> None:
    if not value:
        raise InvalidValue(attribute.name, "map at least one relation type to a party category")
    for relation_type, category in value.items():
        if not _NAME.fullmatch(relation_type):
            raise InvalidValue(
                f"{attribute.name}.{relation_type}", "is not a relation type identifier"
            )
        if not category.strip():
            raise InvalidValue(
                f"{attribute.name}.{relation_type}", "the party category name must not be blank"
            )


def _fields(
    instance: object, attribute: "attrs.Attribute[dict[str, str]]", value: dict[str, str]
) -> None:
    if not value:
        raise InvalidValue(attribute.name, "map at least one category.field to a Tryton source")
    for key, source in value.items():
        category, dot, field = key.partition(".")
        if not (dot and _NAME.fullmatch(category) and field.strip() and ":" not in field):
            raise InvalidValue(
                f"{attribute.name}.{key}", "a key is 'category.field', e.g. 'person_contact.email'"
            )
        try:
            parse_source(source)
        except ValueError as exc:
            raise InvalidValue(f"{attribute.name}.{key}", str(exc)) from None


def _event(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if value and not _NAME.fullmatch(value):
        raise InvalidValue(attribute.name, f"{value!r} is not an event identifier")


@attrs.frozen
class TrytonSettings:
    """Settings of a ``tryton`` store.

    :ivar url: the trytond server's URL (``http://host:8000/``), without the database.
    :ivar database: the Tryton database to log in to.
    :ivar username: the Tryton user (needs the Party Administration group to erase).
    :ivar password: the password; prefer ``password_env``, which keeps it out of files.
    :ivar password_env: the environment variable holding the password.
    :ivar subject_prefix: a party's subject id is this prefix followed by its Tryton id.
    :ivar relation_types: Praclox relation type -> name of the Tryton party category
        whose parties hold it. Parties in none of these categories are not subjects.
    :ivar fields: ``category.field`` -> where Tryton holds the value: ``party.name``,
        ``address.<field>``, ``contact.<type>`` or ``identifier.<type>``. A party gets
        the items of the categories its relation types declare in the policy. Replaces
        :data:`DEFAULT_FIELDS` as a whole when given.
    :ivar deactivated_event: the lifecycle event an inactive party has had, dated by
        Tryton's last change of the party (empty: none).
    :ivar timeout: seconds to wait for the server.
    """

    url: str = attrs.field(validator=_http_url)
    database: str = attrs.field(validator=_non_blank)
    username: str = attrs.field(validator=_non_blank)
    password: str = attrs.field(default="", repr=False)
    password_env: str = ""
    subject_prefix: str = attrs.field(default="tryton-party-", validator=_prefix)
    relation_types: dict[str, str] = attrs.field(
        factory=lambda: dict(DEFAULT_RELATION_TYPES), validator=_relation_types
    )
    fields: dict[str, str] = attrs.field(factory=lambda: dict(DEFAULT_FIELDS), validator=_fields)
    deactivated_event: str = attrs.field(default="relation_ended", validator=_event)
    timeout: float = 10.0

    def check(self, policy: "Policy") -> list[Problem]:
        """Return what in these settings the policy does not allow (empty when all is fine).

        Relation types, categories and fields must be declared in the policy, and the
        deactivation event must be one of its lifecycle events.
        """
        problems: list[Problem] = []
        known = {rt.id for rt in policy.relation_types}
        for relation_type in self.relation_types:
            if relation_type not in known:
                problems.append(
                    Problem(
                        f"relation_types.{relation_type}",
                        f"relation type {relation_type!r} is not declared in the policy "
                        f"(declared: {', '.join(sorted(known))})",
                    )
                )
        mapped = {c for rt in self.relation_types if rt in known for c in _categories(policy, rt)}
        for key in self.fields:
            category_id, _, field = key.partition(".")
            try:
                category = policy.category(category_id)
            except KeyError:
                problems.append(
                    Problem(f"fields.{key}", f"category {category_id!r} is not in the policy")
                )
                continue
            if category.ephemeral:
                problems.append(
                    Problem(f"fields.{key}", f"category {category_id!r} is never stored (S11)")
                )
            elif category.fields and field not in category.fields:
                problems.append(
                    Problem(
                        f"fields.{key}",
                        f"category {category_id!r} has no field {field!r} (fields: "
                        f"{', '.join(category.fields)})",
                    )
                )
            elif category_id not in mapped:
                problems.append(
                    Problem(
                        f"fields.{key}",
                        f"no mapped relation type ({', '.join(sorted(self.relation_types))}) "
                        f"declares category {category_id!r}",
                    )
                )
        events = {e.id for e in policy.events}
        if self.deactivated_event and self.deactivated_event not in events:
            problems.append(
                Problem(
                    "deactivated_event",
                    f"event {self.deactivated_event!r} is not declared in the policy",
                )
            )
        return problems


def _categories(policy: "Policy", relation_type: str) -> tuple[str, ...]:
    return tuple(policy.relation_type(relation_type).categories)


def _factory(settings: TrytonSettings, context: StoreContext) -> "TrytonStore":
    from pathlib import Path

    from ...ports import CONFIG_NAME
    from .store import TrytonStore  # imports httpx

    problems = settings.check(context.policy)
    if problems:
        at = f"stores.{context.name}"
        raise WorkspaceError(
            [Problem(f"{at}.{p.location}", p.message) for p in problems],
            str(Path(context.base_dir) / CONFIG_NAME),
        )
    return TrytonStore(context.policy, settings, context.name)


@hookimpl
def register_stores(register: Callable[[StoreKind], None]) -> None:
    """Offer the ``tryton`` store kind."""
    register(
        StoreKind(
            name="tryton",
            factory=_factory,
            settings_type=TrytonSettings,
            description="Parties of a Tryton CRM over JSON-RPC: reads, rectifies and erases "
            "(through Tryton's party.erase, which anonymises); a source of subjects for "
            "`crm pull`. Needs praclox-privacy[tryton].",
        )
    )


@hookimpl
def register_commands(register: "Callable[[click.Command], None]", cli: "CommandKit") -> None:
    """Add the ``crm`` command group."""
    from .commands import crm_group

    register(crm_group(cli))
