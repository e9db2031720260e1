"""Policy files: strict, all-or-nothing loading with located problems, and round trips."""

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praclox_privacy import (
    COMPLETENESS_CHECKS,
    DisclosurePolicy,
    Dpo,
    Labels,
    LegalBasis,
    Period,
    Policy,
    PolicyError,
    Problem,
    RetentionAction,
    StaffAccessPolicy,
    check_policy,
    default_policy,
    default_policy_text,
    dump_policy,
    errors_of,
    load_policy,
    load_policy_file,
    make_converter,
    parse_policy,
)

DEFAULT_TEXT = default_policy_text()

Edit = Callable[[str], str]


def replace(old: str, new: str) -> Edit:
    """Replace the one occurrence of ``old`` in the document (fails if not exactly one)."""

    def edit(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        return text.replace(old, new)

    return edit


def prepend(line: str) -> Edit:
    return lambda text: f"{line}\n{text}"


def mutate(change: Callable[[dict[str, Any]], object]) -> Edit:
    """Parse the document, change the data, write it back as TOML."""

    def edit(text: str) -> str:
        data = tomllib.loads(text)
        change(data)
        return tomli_w.dumps(data)

    return edit


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(PolicyError) as info:
        load_policy(text, "test.toml")
    assert info.value.source == "test.toml"
    assert info.value.problems, "a PolicyError must list at least one problem"
    return list(info.value.problems)


def _load_or_problems(text: str) -> Policy | list[Problem]:
    try:
        return load_policy(text)
    except PolicyError as exc:
        return list(exc.problems)


def describe(problems: list[Problem]) -> str:
    return "\n".join(f"{p.location!r} [{p.code}] {p.message}" for p in problems)


# The legal basis of purpose[3], client_system_support (the same line occurs elsewhere).
SUPPORT_BASIS = (
    'legal_basis = "contract"\nrelation_types = ["client"]\ncategories = ["client_system_data"]'
)

_RECIPIENT = {
    "id": "acme",
    "label": {"nl": "Acme", "en": "Acme"},
    "purposes": ["marketing"],
    "categories": ["person_name"],
}

# Relation types: 0 client, 1 prospect, 2 contact_person, 3 website_user, 4 applicant.
# Categories: 0 office_identity .. 2 office_contact, 3 invoicing_records,
# 4 client_system_data, 5 person_name, 6 person_contact, 7 life_events, 8 recording,
# 9 search_parameters, 10 website_account, 11 application.
# Purposes: 0 client_relationship, 1 invoicing, 2 prospect_relationship,
# 3 client_system_support, 4 congratulations, 5 session_recording, 6 search_portal,
# 7 newsletter, 8 protected_area, 9 wishes_portal, 10 recruitment, 11 talent_pool.
# Retention: 0 office_details, 1 invoicing_records, 2 client_system_data,
# 3 contact_persons, 4 life_events, 5 recordings, 6 website_accounts, 7 applications.
MALFORMED = [
    # -- unknown keys, at every level ------------------------------------------------
    pytest.param(prepend('colour = "red"'), "colour", "unknown key", id="unknown-key-top-level"),
    pytest.param(
        replace('country = "NL"', 'country = "NL"\ncolour = "red"'),
        "controller.colour",
        "unknown key",
        id="unknown-key-controller",
    ),
    pytest.param(
        replace('source = ["S16"]', 'source = ["S16"]\nphone = "+31"'),
        "controller.dpo.phone",
        "unknown key",
        id="unknown-key-dpo",
    ),
    pytest.param(
        replace(
            'url = "https://autoriteitpersoonsgegevens.nl"',
            'url = "https://autoriteitpersoonsgegevens.nl"\nphone = "088"',
        ),
        "controller.supervisory_authority.phone",
        "unknown key",
        id="unknown-key-supervisory-authority",
    ),
    pytest.param(
        replace('id = "applicant"', 'id = "applicant"\ncolour = "red"'),
        "relation_type[4].colour",
        "unknown key",
        id="unknown-key-relation-type",
    ),
    pytest.param(
        replace(
            'label = { nl = "klant", en = "client" }',
            'label = { nl = "klant", en = "client", de = "Kunde" }',
        ),
        "relation_type[0].label.de",
        "unknown key",
        id="unknown-key-label",
    ),
    pytest.param(
        replace('id = "office_contact"', 'id = "office_contact"\ncolour = "red"'),
        "category[2].colour",
        "unknown key",
        id="unknown-key-category",
    ),
    pytest.param(
        replace('up_to = "P1Y" }', 'up_to = "P1Y", renewable = true }'),
        "retention[7].consent_extension.renewable",
        "unknown key",
        id="unknown-key-consent-extension",
    ),
    pytest.param(
        replace("legal_hold = { law =", 'legal_hold = { until = "P7Y", law ='),
        "retention[1].legal_hold.until",
        "unknown key",
        id="unknown-key-legal-hold",
    ),
    pytest.param(
        replace(
            "allow_temporary_staff = false", "allow_temporary_staff = false\nallow_interns = true"
        ),
        "staff_access.allow_interns",
        "unknown key",
        id="unknown-key-staff-access",
    ),
    # -- wrong types --------------------------------------------------------------------
    pytest.param(
        replace("ephemeral = true", 'ephemeral = "true"'),
        "category[9].ephemeral",
        "expected a boolean",
        id="string-for-bool-ephemeral",
    ),
    pytest.param(
        replace("allow_temporary_staff = false", 'allow_temporary_staff = "no"'),
        "staff_access.allow_temporary_staff",
        "expected a boolean",
        id="string-for-bool-staff-access",
    ),
    pytest.param(
        replace('country = "NL"', "country = 31"),
        "controller.country",
        "expected a string, got an integer",
        id="int-for-string",
    ),
    pytest.param(
        replace(
            'en = "applicant" }\ncategories = ["application"]',
            'en = "applicant" }\ncategories = "application"',
        ),
        "relation_type[4].categories",
        "expected an array",
        id="string-for-array",
    ),
    pytest.param(
        mutate(lambda d: d["category"][0].__setitem__("source", "S2")),
        "category[0].source",
        "expected an array",
        id="string-for-array-source",
    ),
    pytest.param(
        mutate(lambda d: d["relation_type"][4]["categories"].append(3)),
        "relation_type[4].categories[1]",
        "expected a string, got an integer",
        id="int-in-array-of-strings",
    ),
    pytest.param(
        replace("schema_version = 1", "schema_version = true"),
        "schema_version",
        "expected an integer, got a boolean",
        id="bool-for-int",
    ),
    pytest.param(
        replace("schema_version = 1", "schema_version = 1.0"),
        "schema_version",
        "expected an integer, got a float",
        id="float-for-int",
    ),
    pytest.param(
        mutate(lambda d: d.__setitem__("relation_type", {"id": "client"})),
        "relation_type",
        "expected an array",
        id="table-for-array-of-tables",
    ),
    # -- bad enum values ----------------------------------------------------------------
    pytest.param(
        replace(
            SUPPORT_BASIS,
            SUPPORT_BASIS.replace('"contract"', '"contracts"'),
        ),
        "purpose[3].legal_basis",
        "'contracts' is not one of",
        id="bad-legal-basis",
    ),
    pytest.param(
        replace('id = "contact_person"\nkind = "person"', 'id = "contact_person"\nkind = "human"'),
        "relation_type[2].kind",
        "'human' is not one of 'organisation', 'person'",
        id="bad-relation-kind",
    ),
    pytest.param(
        replace('period = "P3M"', 'period = "P3M"\naction = "shred"'),
        "retention[7].action",
        "'shred' is not one of 'erase', 'anonymise'",
        id="bad-retention-action",
    ),
    # -- malformed periods --------------------------------------------------------------
    pytest.param(
        replace('period = "P3M"', 'period = "3 months"'),
        "retention[7].period",
        "is not an ISO 8601 period",
        id="period-in-words",
    ),
    pytest.param(
        replace('period = "P30D"\nafter = ["used"', 'period = "p30d"\nafter = ["used"'),
        "retention[2].period",
        "is not an ISO 8601 period",
        id="period-lower-case",
    ),
    pytest.param(
        replace('period = "P3M"', "period = 3"),
        "retention[7].period",
        "expected an ISO 8601 period string, got an integer",
        id="period-as-number",
    ),
    pytest.param(
        replace('answer_within = "P30D"', 'answer_within = "P-30D"'),
        "disclosure.answer_within",
        "is not an ISO 8601 period",
        id="period-negative",
    ),
    pytest.param(
        replace('up_to = "P1Y"', 'up_to = "P1.5Y"'),
        "retention[7].consent_extension.up_to",
        "is not an ISO 8601 period",
        id="period-fraction",
    ),
    pytest.param(
        replace('period = "P3M"', 'period = "P"'),
        "retention[7].period",
        "is not an ISO 8601 period",
        id="period-empty",
    ),
    # -- missing required keys ----------------------------------------------------------
    pytest.param(
        replace('period = "P3M"\n', ""),
        "retention[7].period",
        "required key is missing",
        id="missing-retention-period",
    ),
    pytest.param(
        replace(
            'label = { nl = "sollicitant", en = "applicant" }',
            'label = { nl = "sollicitant" }',
        ),
        "relation_type[4].label.en",
        "required key is missing",
        id="missing-label-language",
    ),
    pytest.param(
        replace(
            'legal_basis = "contract"\nrelation_types = ["client", "contact_person"]',
            'relation_types = ["client", "contact_person"]',
        ),
        "purpose[0].legal_basis",
        "required key is missing",
        id="missing-legal-basis",
    ),
    pytest.param(
        mutate(lambda d: d.pop("controller")),
        "controller",
        "required key is missing",
        id="missing-controller",
    ),
    pytest.param(
        mutate(lambda d: d["controller"]["dpo"].pop("email")),
        "controller.dpo.email",
        "required key is missing",
        id="missing-dpo-email",
    ),
    # -- duplicate ids and TOML syntax --------------------------------------------------
    pytest.param(
        replace('id = "wishes_portal"', 'id = "protected_area"'),
        "purpose[9].id",
        "duplicate id 'protected_area' (first declared at purpose[8])",
        id="duplicate-purpose-id",
    ),
    pytest.param(
        replace('id = "recordings"', 'id = "life_events"'),
        "retention[5].id",
        "duplicate id 'life_events' (first declared at retention[4])",
        id="duplicate-retention-id",
    ),
    pytest.param(
        replace('country = "NL"', 'country = "NL"\ncountry = "BE"'),
        "",
        "line 32",
        id="duplicate-toml-key",
    ),
    pytest.param(
        replace('country = "NL"', 'country = "NL'),
        "",
        "line 31",
        id="toml-syntax-error",
    ),
    # -- references to undeclared entries -----------------------------------------------
    pytest.param(
        mutate(lambda d: d["purpose"][0]["categories"].append("shoe_size")),
        "purpose[0].categories",
        "category 'shoe_size' is not declared",
        id="undeclared-category-in-purpose",
    ),
    pytest.param(
        mutate(lambda d: d["relation_type"][4]["categories"].append("photo")),
        "relation_type[4].categories",
        "category 'photo' is not declared",
        id="undeclared-category-in-relation-type",
    ),
    pytest.param(
        mutate(lambda d: d.__setitem__("recipient", [_RECIPIENT])),
        "recipient[0].purposes",
        "purpose 'marketing' is not declared",
        id="undeclared-purpose-in-recipient",
    ),
    pytest.param(
        mutate(lambda d: d["retention"][7]["relation_types"].append("intern")),
        "retention[7].relation_types",
        "relation type 'intern' is not declared",
        id="undeclared-relation-type-in-retention",
    ),
    pytest.param(
        mutate(lambda d: d["relation_type"][2]["belongs_to"].append("agency")),
        "relation_type[2].belongs_to",
        "relation type 'agency' is not declared",
        id="undeclared-relation-type-in-belongs-to",
    ),
    pytest.param(
        replace('after = ["rejected"]', 'after = ["hired"]'),
        "retention[7].after",
        "lifecycle event 'hired' is not declared",
        id="undeclared-event",
    ),
    pytest.param(
        replace('consent_kind = "newsletter"', 'consent_kind = "spam"'),
        "purpose[7].consent_kind",
        "consent kind 'spam' is not declared",
        id="undeclared-consent-kind-in-purpose",
    ),
    pytest.param(
        replace(
            'consent_extension = { consent_kind = "keep_application"',
            'consent_extension = { consent_kind = "keep_cv"',
        ),
        "retention[7].consent_extension.consent_kind",
        "consent kind 'keep_cv' is not declared",
        id="undeclared-consent-kind-in-extension",
    ),
    pytest.param(
        replace('requires_consent = "recording"', 'requires_consent = "filming"'),
        "category[8].requires_consent",
        "consent kind 'filming' is not declared",
        id="undeclared-consent-kind-in-category",
    ),
    pytest.param(
        replace('consent_kind = "disclosure"', 'consent_kind = "sharing"'),
        "disclosure.consent_kind",
        "consent kind 'sharing' is not declared",
        id="undeclared-consent-kind-in-disclosure",
    ),
    pytest.param(
        mutate(lambda d: d["purpose"][7]["categories"].append("application")),
        "purpose[7].categories",
        "category 'application' is not declared for any of relation types website_user",
        id="purpose-category-not-stored-for-its-relation-types",
    ),
    # -- periods that contradict each other ---------------------------------------------
    pytest.param(
        replace('up_to = "P1Y"', 'up_to = "P2M"'),
        "retention[7].consent_extension.up_to",
        "P2M is shorter than the rule's period P3M",
        id="consent-extension-shorter-than-period",
    ),
    pytest.param(
        # 13 weeks is 91 days; 3 months from 1 March is 92 days.
        replace('up_to = "P1Y"', 'up_to = "P13W"'),
        "retention[7].consent_extension.up_to",
        "P13W is shorter than the rule's period P3M",
        id="consent-extension-shorter-on-some-calendar-dates",
    ),
    pytest.param(
        replace('after = ["rejected"]', "after = []"),
        "retention[7].after",
        "needs at least one entry in after",
        id="retention-rule-without-event",
    ),
    # -- completeness ---------------------------------------------------------------
    pytest.param(
        mutate(lambda d: d["purpose"][7].pop("consent_kind")),
        "purpose[7].consent_kind",
        "is based on consent but names no consent kind",
        id="consent-purpose-without-consent-kind",
    ),
    pytest.param(
        mutate(lambda d: d["purpose"][4].pop("legitimate_interest")),
        "purpose[4].legitimate_interest",
        "does not state the interest",
        id="legitimate-interest-not-stated",
    ),
    pytest.param(
        mutate(lambda d: d["purpose"][1].pop("law")),
        "purpose[1].law",
        "does not name the law",
        id="legal-obligation-without-law",
    ),
    pytest.param(
        replace(
            'categories = ["person_name", "person_contact"]\nperiod',
            'categories = ["person_name", "person_contact", "search_parameters"]\nperiod',
        ),
        "retention[3].categories",
        "category 'search_parameters' is ephemeral (never stored) but has a retention rule",
        id="ephemeral-category-with-retention-rule",
    ),
    pytest.param(
        mutate(lambda d: d["purpose"].pop(6)),
        "relation_type[2].categories",
        "category 'search_parameters' of relation type 'contact_person' is stored but no "
        "purpose processes it",
        id="category-without-purpose",
    ),
    pytest.param(
        mutate(lambda d: d["retention"].pop(7)),
        "relation_type[4].categories",
        "category 'application' of relation type 'applicant' has no retention rule",
        id="category-without-retention-rule",
    ),
    pytest.param(
        mutate(
            lambda d: d["category"].append({"id": "shoe_size", "label": {"nl": "s", "en": "s"}})
        ),
        "category[12]",
        "category 'shoe_size' is not stored for any relation type",
        id="unused-category",
    ),
    # -- invalid values -------------------------------------------------------------
    pytest.param(
        replace('email = "erik@praclox.nl"\nsource', 'email = "erik at praclox.nl"\nsource'),
        "controller.dpo.email",
        "'erik at praclox.nl' is not an e-mail address",
        id="bad-dpo-email",
    ),
    pytest.param(
        replace('email = "erik@praclox.nl"\ncountry', 'email = "praclox.nl"\ncountry'),
        "controller.email",
        "'praclox.nl' is not an e-mail address",
        id="bad-controller-email",
    ),
    pytest.param(
        replace('id = "applicant"', 'id = "Applicant"'),
        "relation_type[4].id",
        "'Applicant' is not a valid identifier",
        id="identifier-upper-case",
    ),
    pytest.param(
        replace('id = "office_details"', 'id = "office-details"'),
        "retention[0].id",
        "'office-details' is not a valid identifier",
        id="identifier-with-hyphen",
    ),
    pytest.param(
        replace(
            'label = { nl = "sollicitant", en = "applicant" }',
            'label = { nl = "  ", en = "applicant" }',
        ),
        "relation_type[4].label.nl",
        "must not be empty",
        id="blank-label",
    ),
    pytest.param(
        mutate(lambda d: d["retention"][1]["legal_hold"].__setitem__("law", "")),
        "retention[1].legal_hold.law",
        "must not be empty",
        id="legal-hold-without-law",
    ),
    pytest.param(
        replace("warnings = []", 'warnings = ["no-such-check"]'),
        "warnings",
        "'no-such-check' is not a completeness check",
        id="unknown-warning-code",
    ),
    pytest.param(
        replace('belongs_to = ["client", "prospect"]', 'belongs_to = ["client", "website_user"]'),
        "relation_type[2].belongs_to",
        "relation type 'website_user' is not an organisation",
        id="belongs-to-a-person-type",
    ),
    pytest.param(
        mutate(lambda d: d["relation_type"][0].__setitem__("belongs_to", ["prospect"])),
        "relation_type[0].belongs_to",
        "only a person relation type can belong to an organisation",
        id="organisation-belongs-to-another",
    ),
]


def test_the_shipped_policy_loads_without_problems() -> None:
    policy = load_policy(DEFAULT_TEXT)
    assert check_policy(policy) == []
    assert policy == default_policy()


def test_there_are_enough_malformed_documents() -> None:
    assert len(MALFORMED) >= 35


@pytest.mark.parametrize(("edit", "location", "fragment"), MALFORMED)
def test_a_malformed_policy_is_refused_with_the_location(
    edit: Edit, location: str, fragment: str
) -> None:
    text = edit(DEFAULT_TEXT)
    assert text != DEFAULT_TEXT
    problems = problems_of(text)
    matching = [p for p in problems if p.location == location and fragment in p.message]
    assert matching, f"no problem at {location!r} mentioning {fragment!r} in:\n{describe(problems)}"
    assert all(p.severity == "error" for p in matching)


def test_a_string_where_a_table_belongs_is_reported_as_a_type_error() -> None:
    text = replace('label = { nl = "klant", en = "client" }', 'label = "klant"')(DEFAULT_TEXT)
    problems = problems_of(text)
    assert [p.location for p in problems] == ["relation_type[0].label"]
    # The message speaks TOML, not Python internals.
    assert "expected a table, got a string" in problems[0].message
    assert "AttributeError" not in problems[0].message


def test_a_huge_period_never_escapes_as_another_exception() -> None:
    # P8000Y is a well-formed period; a policy with it must load or be refused with a
    # PolicyError, never crash with a date overflow.
    text = replace('up_to = "P1Y"', 'up_to = "P8000Y"')(DEFAULT_TEXT)
    outcome = _load_or_problems(text)
    if isinstance(outcome, Policy):
        assert outcome.rule("applications").consent_extension is not None
    else:
        assert any(p.location == "retention[7].consent_extension.up_to" for p in outcome)


def test_several_problems_in_one_document_are_all_reported() -> None:
    text = DEFAULT_TEXT
    for edit in (
        prepend('colour = "red"'),
        replace('country = "NL"', "country = 31"),
        replace('id = "applicant"', 'id = "applicant"\nhobby = "chess"'),
        replace('period = "P3M"', 'period = "3 months"'),
        replace("ephemeral = true", 'ephemeral = "yes"'),
        replace(
            SUPPORT_BASIS,
            SUPPORT_BASIS.replace('"contract"', '"whim"'),
        ),
    ):
        text = edit(text)
    locations = {p.location for p in problems_of(text)}
    assert locations == {
        "colour",
        "controller.country",
        "relation_type[4].hobby",
        "retention[7].period",
        "category[9].ephemeral",
        "purpose[3].legal_basis",
    }


def test_several_consistency_and_completeness_problems_are_all_reported() -> None:
    def change(data: dict[str, Any]) -> None:
        data["retention"][7]["after"] = ["hired"]
        data["purpose"][7].pop("consent_kind")
        data["purpose"][1].pop("law")
        data["disclosure"]["consent_kind"] = "sharing"
        data["purpose"][9]["id"] = "protected_area"
        data["warnings"] = ["no-such-check"]

    problems = problems_of(mutate(change)(DEFAULT_TEXT))
    assert {p.location for p in problems} == {
        "retention[7].after",
        "purpose[7].consent_kind",
        "purpose[1].law",
        "disclosure.consent_kind",
        "purpose[9].id",
        "warnings",
    }


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d["controller"].__setitem__("email", "nobody"), id="first-table"),
        pytest.param(lambda d: d["retention"][7].__setitem__("period", "soon"), id="last-entry"),
        pytest.param(lambda d: d["retention"].pop(7), id="only-completeness"),
    ],
)
def test_an_error_never_returns_a_half_loaded_policy(
    change: Callable[[dict[str, Any]], object],
) -> None:
    data = tomllib.loads(DEFAULT_TEXT)
    change(data)
    before = copy.deepcopy(data)
    result: Policy | None = None
    with pytest.raises(PolicyError) as info:
        result = parse_policy(data, "data")
    assert result is None
    assert info.value.source == "data"
    assert data == before, "loading must not change the caller's data"
    with pytest.raises(PolicyError):
        load_policy(tomli_w.dumps(data))


def test_a_check_listed_under_warnings_becomes_a_warning_and_the_policy_loads() -> None:
    without_law = mutate(lambda d: d["purpose"][1].pop("law"))(DEFAULT_TEXT)
    problems = problems_of(without_law)
    assert [(p.location, p.code) for p in problems] == [
        ("purpose[1].law", "legal-obligation-without-law")
    ]

    text = replace("warnings = []", 'warnings = ["legal-obligation-without-law"]')(without_law)
    policy = load_policy(text)
    assert policy.purpose("invoicing").law is None
    reported = check_policy(policy)
    assert [(p.location, p.code, p.severity) for p in reported] == [
        ("purpose[1].law", "legal-obligation-without-law", "warning")
    ]
    assert errors_of(reported) == []
    assert str(reported[0]).endswith("(warning)")


def test_a_warning_code_does_not_excuse_another_check() -> None:
    text = mutate(
        lambda d: (d["purpose"][1].pop("law"), d.__setitem__("warnings", ["unused-category"]))
    )(DEFAULT_TEXT)
    assert [p.code for p in problems_of(text)] == ["legal-obligation-without-law"]


def test_policy_error_message_names_the_source_and_every_problem() -> None:
    text = prepend('colour = "red"')(replace('period = "P3M"', 'period = "3M"')(DEFAULT_TEXT))
    with pytest.raises(PolicyError) as info:
        load_policy(text, "mine.toml")
    message = str(info.value)
    assert message.startswith("mine.toml: 2 problems")
    assert "mine.toml: colour: unknown key" in message
    assert "mine.toml: retention[7].period: " in message


# -- files -----------------------------------------------------------------------------


def test_load_policy_file_reads_a_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    assert load_policy_file(path) == default_policy()
    assert load_policy_file(str(path)) == default_policy()


def test_load_policy_file_names_the_path_of_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)
    [problem] = info.value.problems
    assert problem.code == "unreadable"
    assert "cannot read the file" in problem.message


def test_load_policy_file_names_the_path_of_a_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(DEFAULT_TEXT.encode("utf-8") + "# café\n".encode("latin-1"))
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)
    [problem] = info.value.problems
    assert problem.code == "unreadable"
    assert "utf-8" in problem.message


def test_load_policy_file_names_the_path_of_a_bad_policy(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(replace('period = "P3M"', 'period = "3M"')(DEFAULT_TEXT), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    assert info.value.source == str(path)
    assert [p.location for p in info.value.problems] == ["retention[7].period"]


# -- round trips -----------------------------------------------------------------------


def test_the_default_policy_round_trips() -> None:
    policy = default_policy()
    text = dump_policy(policy)
    assert tomllib.loads(text) == make_converter().unstructure(policy, Policy)
    assert load_policy(text) == policy
    assert dump_policy(load_policy(text)) == text


_BASE = default_policy()

_TEXT = st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != "")
_LABELS = st.builds(Labels, nl=_TEXT, en=_TEXT)
_SOURCES = st.lists(st.sampled_from([f"S{i}" for i in range(1, 17)]), max_size=3).map(tuple)
_PERIODS = st.builds(
    Period,
    years=st.integers(0, 30),
    months=st.integers(0, 36),
    weeks=st.integers(0, 60),
    days=st.integers(0, 400),
    hours=st.integers(0, 48),
    minutes=st.integers(0, 90),
    seconds=st.integers(0, 90),
)


def _plus(a: Period, b: Period) -> Period:
    """A period never shorter than ``a``: every component grows by ``b``'s."""
    return Period(**{f.name: getattr(a, f.name) + getattr(b, f.name) for f in attrs.fields(Period)})


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """Variants of the default policy: new texts, periods, flags and a subset of purposes."""
    maybe_labels = st.none() | _LABELS

    def relabel(entry: Any, *, description: bool = False) -> Any:
        changes: dict[str, Any] = {"label": draw(_LABELS), "source": draw(_SOURCES)}
        if description:
            changes["description"] = draw(maybe_labels)
        return attrs.evolve(entry, **changes)

    relation_types = tuple(relabel(rt, description=True) for rt in _BASE.relation_types)
    categories = tuple(
        attrs.evolve(
            relabel(c, description=True),
            optional=draw(st.booleans()),
            fields=tuple(draw(st.lists(_TEXT, max_size=3))),
        )
        for c in _BASE.categories
    )
    keep = draw(st.lists(st.booleans(), min_size=len(_BASE.purposes), max_size=len(_BASE.purposes)))
    purposes = []
    for p, kept in zip(_BASE.purposes, keep, strict=True):
        if not kept:
            continue
        p = attrs.evolve(relabel(p, description=True), direct_marketing=draw(st.booleans()))
        if p.legal_basis is LegalBasis.LEGITIMATE_INTEREST:
            p = attrs.evolve(p, legitimate_interest=draw(_LABELS))
        if p.legal_basis is LegalBasis.LEGAL_OBLIGATION:
            p = attrs.evolve(p, law=draw(_TEXT))
        purposes.append(p)
    retention = []
    for r in _BASE.retention:
        period = draw(_PERIODS)
        r = attrs.evolve(
            r,
            period=period,
            action=draw(st.sampled_from(RetentionAction)),
            note=draw(st.text(max_size=40)),
            source=draw(_SOURCES),
        )
        if r.consent_extension is not None:
            extension = attrs.evolve(r.consent_extension, up_to=_plus(period, draw(_PERIODS)))
            r = attrs.evolve(r, consent_extension=extension)
        if r.legal_hold is not None:
            r = attrs.evolve(r, legal_hold=attrs.evolve(r.legal_hold, reason=draw(_LABELS)))
        retention.append(r)
    controller = attrs.evolve(
        _BASE.controller,
        name=draw(_TEXT),
        address=draw(st.text(max_size=40)),
        dpo=draw(st.none() | st.builds(Dpo, name=_TEXT, email=st.just("fg@example.nl"))),
    )
    policy = attrs.evolve(
        _BASE,
        controller=controller,
        relation_types=relation_types,
        categories=categories,
        purposes=tuple(purposes),
        retention=tuple(retention),
        events=tuple(relabel(e) for e in _BASE.events),
        consent_kinds=tuple(
            attrs.evolve(relabel(k), text=draw(_LABELS)) for k in _BASE.consent_kinds
        ),
        disclosure=draw(
            st.none()
            | st.builds(
                DisclosurePolicy, consent_kind=st.just("disclosure"), answer_within=_PERIODS
            )
        ),
        staff_access=draw(
            st.none()
            | st.builds(
                StaffAccessPolicy,
                require_confidentiality_agreement=st.booleans(),
                allow_temporary_staff=st.booleans(),
                require_client_agreement=st.booleans(),
            )
        ),
        third_country_transfers=tuple(draw(st.lists(_TEXT, max_size=2))),
        security_measures=tuple(draw(st.lists(_LABELS, max_size=3))),
        schema_version=1,
    )
    # Dropped purposes leave categories unprocessed: list those checks as warnings, plus
    # a few drawn at random.
    needed = {p.code for p in check_policy(policy)}
    extra = draw(st.lists(st.sampled_from(sorted(COMPLETENESS_CHECKS)), max_size=2))
    return attrs.evolve(policy, warnings=tuple(dict.fromkeys([*sorted(needed), *extra])))


_ROUND_TRIP_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_ROUND_TRIP_SETTINGS
@given(policies())
def test_generated_policies_round_trip(policy: Policy) -> None:
    assert errors_of(check_policy(policy)) == []
    text = dump_policy(policy)
    data = tomllib.loads(text)  # valid TOML
    assert data == make_converter().unstructure(policy, Policy)
    assert load_policy(text) == policy


@_ROUND_TRIP_SETTINGS
@given(_PERIODS)
def test_periods_round_trip_through_their_text(period: Period) -> None:
    assert Period.parse(str(period)) == period
