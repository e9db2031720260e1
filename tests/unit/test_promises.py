"""Every promise of the privacy statement (S1..S16) is encoded in the shipped policy.

Each ``check_Sn`` states what the promise means for the policy and that the entries
encoding it name it as their source. ``test_Sn_...`` applies it to the shipped policy;
``test_Sn_check_rejects_a_broken_policy`` shows the check fails when the promise is broken.
"""

import re
from collections.abc import Callable

import attrs
import pytest

from praclox_privacy import (
    COLLECTED,
    DataCategory,
    Labels,
    LegalBasis,
    Period,
    Policy,
    Recipient,
    RelationKind,
    RetentionAction,
    RetentionRule,
    check_policy,
    default_policy_text,
    load_policy,
)

PROMISES = [f"S{i}" for i in range(1, 17)]
OFFICE_CATEGORIES = {"office_identity", "office_address", "office_contact"}


# -- helpers ---------------------------------------------------------------------------


def sources_of(policy: Policy, promise: str) -> set[str]:
    return {location for source, location in policy.sources() if source == promise}


def resolve(policy: Policy, location: str) -> object:
    """Return the entry a ``sources()`` location names; fail if there is none."""
    singles = {
        "controller.dpo": policy.controller.dpo,
        "disclosure": policy.disclosure,
        "staff_access": policy.staff_access,
        "statement": policy.statement,
    }
    if location in singles:
        entry = singles[location]
        assert entry is not None, f"{location} names a source but is not set"
        return entry
    match = re.fullmatch(r"([a-z_]+)\[([a-z0-9_]+)\]", location)
    assert match, f"unexpected location {location!r}"
    key, id = match.groups()
    if key == "recipient":
        found = [r for r in policy.recipients if r.id == id]
        assert found, location
        return found[0]
    lookup: dict[str, Callable[[str], object]] = {
        "relation_type": policy.relation_type,
        "category": policy.category,
        "purpose": policy.purpose,
        "event": policy.event,
        "retention": policy.rule,
        "consent_kind": policy.consent_kind,
    }
    return lookup[key](id)


def assert_sources(policy: Policy, promise: str, expected: set[str]) -> None:
    """Every entry naming ``promise`` exists, and the ``expected`` entries name it."""
    found = sources_of(policy, promise)
    for location in found:
        resolve(policy, location)
    missing = expected - found
    assert not missing, f"entries that should name {promise} as their source: {sorted(missing)}"


def single_rule(policy: Policy, relation_type: str, category: str) -> RetentionRule:
    rules = policy.rules_for(relation_type, category)
    assert len(rules) == 1, f"{relation_type}/{category}: {[r.id for r in rules]}"
    return rules[0]


def stored(policy: Policy) -> list[tuple[str, DataCategory]]:
    return [
        (rt.id, policy.category(c))
        for rt in policy.relation_types
        for c in rt.categories
        if not policy.category(c).ephemeral
    ]


def _at_most(period: Period, bound: Period) -> bool:
    return bound.at_least(period)


# -- the promises, as checks on a policy -------------------------------------------------


def check_S1(policy: Policy) -> None:
    # One consistent policy: what, about whom, why (with a legal basis), how long, to whom.
    assert check_policy(policy) == []
    assert policy.warnings == ()
    assert policy.recipients == ()
    assert policy.third_country_transfers == ()
    pairs = stored(policy)
    assert pairs
    for rt, category in pairs:
        purposes = policy.purposes_for(rt, category.id)
        assert purposes, f"{rt}/{category.id} has no purpose"
        for purpose in purposes:
            assert isinstance(purpose.legal_basis, LegalBasis)
            assert purpose.legal_basis.article.startswith("Art. 6(1)(")
        assert policy.rules_for(rt, category.id), f"{rt}/{category.id} has no retention rule"
    # Every entry says which promise it encodes, and only promises that exist.
    for entries in (
        policy.relation_types,
        policy.categories,
        policy.purposes,
        policy.retention,
        policy.consent_kinds,
    ):
        for entry in entries:
            assert entry.source, f"{entry.id} names no source"
    for source, location in policy.sources():
        assert source in PROMISES, f"{location} names unknown source {source!r}"
        resolve(policy, location)
    assert_sources(policy, "S1", set())


def check_S2(policy: Policy) -> None:
    client = policy.relation_type("client")
    assert client.kind is RelationKind.ORGANISATION
    assert set(client.categories) >= OFFICE_CATEGORIES
    assert "name" in policy.category("office_identity").fields
    assert {"street", "city"} <= set(policy.category("office_address").fields)
    assert {"email", "phone"} <= set(policy.category("office_contact").fields)
    assert_sources(
        policy,
        "S2",
        {"relation_type[client]"} | {f"category[{c}]" for c in OFFICE_CATEGORIES},
    )


def check_S3(policy: Policy) -> None:
    person = policy.relation_type("contact_person")
    assert person.kind is RelationKind.PERSON
    assert "client" in person.belongs_to
    assert {"person_name", "person_contact"} <= set(person.categories)
    assert {"email", "phone"} <= set(policy.category("person_contact").fields)
    # The person's data has its own rule, not the client's: they are erased separately.
    for category in ("person_name", "person_contact"):
        rule = single_rule(policy, "contact_person", category)
        assert "client" not in rule.relation_types
    for category in OFFICE_CATEGORIES:
        assert "contact_person" not in single_rule(policy, "client", category).relation_types
    assert_sources(
        policy,
        "S3",
        {
            "relation_type[contact_person]",
            "category[person_name]",
            "category[person_contact]",
            "retention[contact_persons]",
        },
    )


def check_S4(policy: Policy) -> None:
    life = policy.category("life_events")
    assert life.optional
    assert not life.ephemeral
    assert {"birthday", "child_birthday", "wedding_date"} <= set(life.fields)
    assert "life_events" in policy.relation_type("contact_person").categories
    # Always erasable on request: no legal obligation keeps it.
    for rule in policy.rules_for("contact_person", "life_events"):
        assert rule.legal_hold is None
    for purpose in policy.purposes_for("contact_person", "life_events"):
        assert purpose.legal_basis is not LegalBasis.LEGAL_OBLIGATION
    assert_sources(
        policy,
        "S4",
        {"category[life_events]", "relation_type[contact_person]", "retention[life_events]"},
    )


def check_S5(policy: Policy) -> None:
    user = policy.relation_type("website_user")
    assert user.kind is RelationKind.PERSON
    assert user.belongs_to == ()  # need not be anyone's contact person
    assert user.categories == ("website_account",)
    assert {"name", "email"} <= set(policy.category("website_account").fields)
    assert "website_account" not in policy.relation_type("contact_person").categories
    assert_sources(policy, "S5", {"relation_type[website_user]", "category[website_account]"})


def check_S6(policy: Policy) -> None:
    relationship = policy.purpose("client_relationship")
    assert relationship.legal_basis is LegalBasis.CONTRACT
    assert {"client", "contact_person"} <= set(relationship.relation_types)
    invoicing = policy.purpose("invoicing")
    assert invoicing.legal_basis is LegalBasis.LEGAL_OBLIGATION
    assert invoicing.law
    assert "invoicing_records" in invoicing.categories
    rule = single_rule(policy, "client", "invoicing_records")
    assert rule.legal_hold is not None
    assert rule.legal_hold.law.strip()
    assert "7" in rule.legal_hold.reason.en
    assert rule.period.at_least(Period(years=7))
    assert rule.consent_extension is None
    assert_sources(
        policy,
        "S6",
        {
            "purpose[client_relationship]",
            "purpose[invoicing]",
            "category[invoicing_records]",
            "retention[invoicing_records]",
        },
    )


def check_S7(policy: Policy) -> None:
    for id in ("newsletter", "protected_area", "wishes_portal"):
        purpose = policy.purpose(id)
        assert purpose.relation_types == ("website_user",), id
        assert purpose.categories == ("website_account",), id
    newsletter = policy.purpose("newsletter")
    assert newsletter.legal_basis is LegalBasis.CONSENT
    assert newsletter.consent_kind == "newsletter"
    assert newsletter.direct_marketing
    policy.consent_kind("newsletter")
    # Unsubscribing (withdrawing the newsletter consent) ends no other purpose.
    for id in ("protected_area", "wishes_portal"):
        assert policy.purpose(id).consent_kind != "newsletter"
    # Closing the account ends them all: the account's data is due after the closing.
    rule = single_rule(policy, "website_user", "website_account")
    assert rule.after == ("account_closed",)
    assert_sources(
        policy,
        "S7",
        {
            "purpose[newsletter]",
            "purpose[protected_area]",
            "purpose[wishes_portal]",
            "consent_kind[newsletter]",
            "event[account_closed]",
            "category[website_account]",
            "retention[website_accounts]",
        },
    )


def check_S8(policy: Policy) -> None:
    purpose = policy.purpose("congratulations")
    assert "life_events" in purpose.categories
    assert "contact_person" in purpose.relation_types
    assert purpose in policy.purposes_for("contact_person", "life_events")
    assert purpose.legal_basis is LegalBasis.LEGITIMATE_INTEREST
    assert purpose.legitimate_interest is not None
    assert_sources(policy, "S8", {"purpose[congratulations]", "category[life_events]"})


def check_S9(policy: Policy) -> None:
    assert policy.recipients == ()
    disclosure = policy.disclosure
    assert disclosure is not None
    policy.consent_kind(disclosure.consent_kind)
    assert not disclosure.answer_within.is_zero()  # silence ends as a refusal
    assert _at_most(disclosure.answer_within, Period(months=3))
    assert_sources(policy, "S9", {"disclosure", f"consent_kind[{disclosure.consent_kind}]"})


def check_S10(policy: Policy) -> None:
    category = policy.category("client_system_data")
    assert category.requires_agreement
    assert not category.ephemeral
    assert "client_system_data" in policy.relation_type("client").categories
    rules = [r for r in policy.retention if "client_system_data" in r.categories]
    assert rules
    for rule in rules:
        assert set(rule.after) == {"used", "agreement_ended"}
        assert _at_most(rule.period, Period(days=30))
        assert rule.action is RetentionAction.ERASE
        assert rule.consent_extension is None
        assert rule.legal_hold is None
    assert_sources(
        policy,
        "S10",
        {
            "category[client_system_data]",
            "retention[client_system_data]",
            "event[used]",
            "event[agreement_ended]",
        },
    )


def check_S11(policy: Policy) -> None:
    category = policy.category("search_parameters")
    assert category.ephemeral
    assert not [r.id for r in policy.retention if "search_parameters" in r.categories]
    assert not [r.id for r in policy.recipients if "search_parameters" in r.categories]
    assert_sources(policy, "S11", {"category[search_parameters]"})


def check_S12(policy: Policy) -> None:
    access = policy.staff_access
    assert access is not None
    assert access.require_confidentiality_agreement is True
    assert access.allow_temporary_staff is False
    assert access.require_client_agreement is True
    assert_sources(policy, "S12", {"staff_access"})


def check_S13(policy: Policy) -> None:
    recording = policy.category("recording")
    assert recording.requires_consent == "recording"
    policy.consent_kind("recording")
    for purpose in policy.purposes_for("contact_person", "recording"):
        assert purpose.legal_basis is LegalBasis.CONSENT
        assert purpose.consent_kind == "recording"
    assert policy.purposes_for("contact_person", "recording")
    assert_sources(
        policy, "S13", {"category[recording]", "consent_kind[recording]", "retention[recordings]"}
    )


def check_S14(policy: Policy) -> None:
    applicant = policy.relation_type("applicant")
    assert applicant.kind is RelationKind.PERSON
    assert applicant.categories == ("application",)
    rule = single_rule(policy, "applicant", "application")
    assert rule.after == ("rejected",)
    assert rule.period == Period(months=3)
    assert rule.action is RetentionAction.ERASE
    assert rule.legal_hold is None
    extension = rule.consent_extension
    assert extension is not None
    assert extension.consent_kind == "keep_application"
    assert extension.up_to == Period(years=1)
    policy.consent_kind("keep_application")
    talent_pool = policy.purpose("talent_pool")
    assert talent_pool.legal_basis is LegalBasis.CONSENT
    assert talent_pool.consent_kind == "keep_application"
    assert_sources(
        policy,
        "S14",
        {
            "relation_type[applicant]",
            "category[application]",
            "retention[applications]",
            "event[rejected]",
            "consent_kind[keep_application]",
            "purpose[talent_pool]",
        },
    )


def check_S15(policy: Policy) -> None:
    prospect = policy.relation_type("prospect")
    client = policy.relation_type("client")
    assert prospect.kind is RelationKind.ORGANISATION
    office = {c for c in client.categories if c.startswith("office_")}
    assert office == OFFICE_CATEGORIES
    assert set(prospect.categories) == office
    for category in office:
        assert policy.rules_for("prospect", category) == policy.rules_for("client", category)
    assert "prospect" in policy.relation_type("contact_person").belongs_to
    assert_sources(policy, "S15", {"relation_type[prospect]", "retention[office_details]"})


def check_S16(policy: Policy) -> None:
    dpo = policy.controller.dpo
    assert dpo is not None
    assert dpo.name == "Erik Gimbergh"
    assert dpo.email == "erik@praclox.nl"
    assert policy.controller.name == "Praclox"
    assert_sources(policy, "S16", {"controller.dpo"})


CHECKS: dict[str, Callable[[Policy], None]] = {
    "S1": check_S1,
    "S2": check_S2,
    "S3": check_S3,
    "S4": check_S4,
    "S5": check_S5,
    "S6": check_S6,
    "S7": check_S7,
    "S8": check_S8,
    "S9": check_S9,
    "S10": check_S10,
    "S11": check_S11,
    "S12": check_S12,
    "S13": check_S13,
    "S14": check_S14,
    "S15": check_S15,
    "S16": check_S16,
}


# -- the shipped policy keeps every promise -------------------------------------------


@pytest.mark.promise("S1")
def test_S1_one_policy_says_what_about_whom_why_how_long_and_to_whom(policy: Policy) -> None:
    check_S1(policy)


@pytest.mark.promise("S2")
def test_S2_clients_office_name_address_and_contact_details(policy: Policy) -> None:
    check_S2(policy)


@pytest.mark.promise("S3")
def test_S3_contact_persons_belong_to_a_client(policy: Policy) -> None:
    check_S3(policy)


@pytest.mark.promise("S4")
def test_S4_life_events_are_optional_and_erasable(policy: Policy) -> None:
    check_S4(policy)


@pytest.mark.promise("S5")
def test_S5_website_user_is_a_separate_relation_type(policy: Policy) -> None:
    check_S5(policy)


@pytest.mark.promise("S6")
def test_S6_contract_purposes_and_invoicing_kept_seven_years_by_law(policy: Policy) -> None:
    check_S6(policy)


@pytest.mark.promise("S7")
def test_S7_newsletter_protected_area_and_wishes_portal_use_the_account(
    policy: Policy,
) -> None:
    check_S7(policy)


@pytest.mark.promise("S8")
def test_S8_congratulations_purpose_uses_life_events(policy: Policy) -> None:
    check_S8(policy)


@pytest.mark.promise("S9")
def test_S9_no_recipients_and_disclosure_waits_for_consent(policy: Policy) -> None:
    check_S9(policy)


@pytest.mark.promise("S10")
def test_S10_client_system_data_needs_an_agreement_and_is_erased_soon(policy: Policy) -> None:
    check_S10(policy)


@pytest.mark.promise("S11")
def test_S11_search_parameters_are_ephemeral(policy: Policy) -> None:
    check_S11(policy)


@pytest.mark.promise("S12")
def test_S12_staff_access_needs_agreements_and_forbids_temporary_staff(policy: Policy) -> None:
    check_S12(policy)


@pytest.mark.promise("S13")
def test_S13_recording_needs_prior_consent(policy: Policy) -> None:
    check_S13(policy)


@pytest.mark.promise("S14")
def test_S14_applications_erased_months_after_rejection_unless_consent(policy: Policy) -> None:
    check_S14(policy)


@pytest.mark.promise("S14")
@pytest.mark.parametrize(
    ("period", "expected"), [("P4W", Period(weeks=4)), ("P3M", Period(months=3))]
)
def test_S14_the_policy_may_choose_four_weeks_or_a_few_months(
    period: str, expected: Period
) -> None:
    text = default_policy_text()
    assert text.count('period = "P3M"') == 1
    variant = load_policy(text.replace('period = "P3M"', f'period = "{period}"'))
    rule = variant.rule("applications")
    assert rule.period == expected
    assert rule.consent_extension is not None
    assert rule.consent_extension.up_to == Period(years=1)
    assert check_policy(variant) == []


@pytest.mark.promise("S15")
def test_S15_prospects_are_stored_like_clients(policy: Policy) -> None:
    check_S15(policy)


@pytest.mark.promise("S16")
def test_S16_the_dpo_is_named_and_reachable(policy: Policy) -> None:
    check_S16(policy)


@pytest.mark.parametrize(
    "promise", [pytest.param(p, marks=pytest.mark.promise(p)) for p in PROMISES]
)
def test_every_promise_has_a_check_and_every_source_is_a_promise(
    policy: Policy, promise: str
) -> None:
    assert promise in CHECKS
    ids = {source for source, _ in policy.sources()}
    assert ids <= set(PROMISES)
    if promise != "S1":  # S1 is the policy as a whole, not one entry
        assert sources_of(policy, promise), f"no entry names {promise} as its source"


# -- each check fails when its promise is broken ---------------------------------------


def _evolve_entry(policy: Policy, group: str, id: str, **changes: object) -> Policy:
    entries = getattr(policy, group)
    assert any(e.id == id for e in entries)
    new = tuple(attrs.evolve(e, **changes) if e.id == id else e for e in entries)
    return attrs.evolve(policy, **{group: new})


def _with_extension(policy: Policy, **changes: object) -> Policy:
    rule = policy.rule("applications")
    assert rule.consent_extension is not None
    extension = attrs.evolve(rule.consent_extension, **changes)
    return _evolve_entry(policy, "retention", "applications", consent_extension=extension)


def _prospects_with_their_own_rule(policy: Policy) -> Policy:
    clients_only = _evolve_entry(policy, "retention", "office_details", relation_types=("client",))
    prospects = attrs.evolve(
        policy.rule("office_details"),
        id="prospect_office_details",
        relation_types=("prospect",),
        period=Period(years=2),
    )
    return attrs.evolve(clients_only, retention=(*clients_only.retention, prospects))


BROKEN: list[tuple[str, str, Callable[[Policy], Policy]]] = [
    (
        "S1",
        "a-recipient",
        lambda p: attrs.evolve(
            p,
            recipients=(
                Recipient(
                    id="broker",
                    label=Labels(nl="makelaar", en="broker"),
                    purposes=("client_relationship",),
                    categories=("person_contact",),
                ),
            ),
        ),
    ),
    ("S1", "no-source", lambda p: _evolve_entry(p, "purposes", "invoicing", source=())),
    ("S1", "unknown-source", lambda p: _evolve_entry(p, "purposes", "invoicing", source=("S17",))),
    (
        "S2",
        "client-is-a-person",
        lambda p: _evolve_entry(p, "relation_types", "client", kind=RelationKind.PERSON),
    ),
    ("S2", "no-source", lambda p: _evolve_entry(p, "categories", "office_address", source=())),
    (
        "S3",
        "no-client",
        lambda p: _evolve_entry(p, "relation_types", "contact_person", belongs_to=()),
    ),
    ("S4", "required", lambda p: _evolve_entry(p, "categories", "life_events", optional=False)),
    (
        "S4",
        "held",
        lambda p: _evolve_entry(
            p, "retention", "life_events", legal_hold=p.rule("invoicing_records").legal_hold
        ),
    ),
    (
        "S5",
        "must-be-client-person",
        lambda p: _evolve_entry(p, "relation_types", "website_user", belongs_to=("client",)),
    ),
    (
        "S6",
        "no-legal-hold",
        lambda p: _evolve_entry(p, "retention", "invoicing_records", legal_hold=None),
    ),
    (
        "S6",
        "five-years",
        lambda p: _evolve_entry(p, "retention", "invoicing_records", period=Period(years=5)),
    ),
    (
        "S6",
        "invoicing-by-contract",
        lambda p: _evolve_entry(p, "purposes", "invoicing", legal_basis=LegalBasis.CONTRACT),
    ),
    (
        "S7",
        "newsletter-by-contract",
        lambda p: _evolve_entry(p, "purposes", "newsletter", legal_basis=LegalBasis.CONTRACT),
    ),
    (
        "S7",
        "wishes-portal-for-clients",
        lambda p: _evolve_entry(p, "purposes", "wishes_portal", relation_types=("client",)),
    ),
    (
        "S7",
        "kept-after-relation",
        lambda p: _evolve_entry(p, "retention", "website_accounts", after=("relation_ended",)),
    ),
    (
        "S8",
        "no-life-events",
        lambda p: _evolve_entry(p, "purposes", "congratulations", categories=("person_name",)),
    ),
    ("S9", "no-disclosure-policy", lambda p: attrs.evolve(p, disclosure=None)),
    (
        "S9",
        "no-timeout",
        lambda p: attrs.evolve(p, disclosure=attrs.evolve(p.disclosure, answer_within=Period())),
    ),
    (
        "S10",
        "no-agreement",
        lambda p: _evolve_entry(p, "categories", "client_system_data", requires_agreement=None),
    ),
    (
        "S10",
        "kept-a-year",
        lambda p: _evolve_entry(p, "retention", "client_system_data", period=Period(years=1)),
    ),
    (
        "S10",
        "kept-until-collected",
        lambda p: _evolve_entry(p, "retention", "client_system_data", after=(COLLECTED,)),
    ),
    (
        "S11",
        "stored",
        lambda p: _evolve_entry(p, "categories", "search_parameters", ephemeral=False),
    ),
    (
        "S12",
        "temporary-staff",
        lambda p: attrs.evolve(
            p, staff_access=attrs.evolve(p.staff_access, allow_temporary_staff=True)
        ),
    ),
    (
        "S12",
        "no-confidentiality",
        lambda p: attrs.evolve(
            p, staff_access=attrs.evolve(p.staff_access, require_confidentiality_agreement=False)
        ),
    ),
    ("S12", "no-staff-policy", lambda p: attrs.evolve(p, staff_access=None)),
    (
        "S13",
        "no-prior-consent",
        lambda p: _evolve_entry(p, "categories", "recording", requires_consent=None),
    ),
    (
        "S14",
        "no-consent-extension",
        lambda p: _evolve_entry(p, "retention", "applications", consent_extension=None),
    ),
    ("S14", "kept-two-years", lambda p: _with_extension(p, up_to=Period(years=2))),
    (
        "S14",
        "from-collection",
        lambda p: _evolve_entry(p, "retention", "applications", after=(COLLECTED,)),
    ),
    ("S14", "no-source", lambda p: _evolve_entry(p, "events", "rejected", source=())),
    (
        "S15",
        "fewer-categories",
        lambda p: _evolve_entry(p, "relation_types", "prospect", categories=("office_identity",)),
    ),
    ("S15", "own-rules", _prospects_with_their_own_rule),
    (
        "S16",
        "other-dpo",
        lambda p: attrs.evolve(
            p,
            controller=attrs.evolve(
                p.controller, dpo=attrs.evolve(p.controller.dpo, email="dpo@example.com")
            ),
        ),
    ),
    ("S16", "no-dpo", lambda p: attrs.evolve(p, controller=attrs.evolve(p.controller, dpo=None))),
]


def test_every_promise_has_a_broken_variant() -> None:
    assert {promise for promise, _, _ in BROKEN} == set(PROMISES)


@pytest.mark.parametrize(
    ("promise", "breakage"),
    [
        pytest.param(promise, breakage, id=f"{promise}-{name}", marks=pytest.mark.promise(promise))
        for promise, name, breakage in BROKEN
    ],
)
def test_Sn_check_rejects_a_broken_policy(
    policy: Policy, promise: str, breakage: Callable[[Policy], Policy]
) -> None:
    broken = breakage(policy)
    assert broken != policy
    with pytest.raises(AssertionError):
        CHECKS[promise](broken)
