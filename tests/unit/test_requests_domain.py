"""Data-subject requests, pure: deadlines (Art. 12(3)), the lifecycle, what restrictions
(Art. 18) and objections (Art. 21) forbid, the access report (Art. 15, 20) and its
formats, and OpenDSR intake."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from praclox_privacy import (
    Consent,
    Evidence,
    Item,
    Labels,
    Period,
    Recipient,
    Subject,
    default_policy,
)
from praclox_privacy.domain.answers import build_access_report, kept_item
from praclox_privacy.domain.errors import InvalidValue
from praclox_privacy.domain.requests import (
    DataRequest,
    Identity,
    RequestRefused,
    RequestStatus,
    RequestType,
    cancel,
    complete,
    due_date,
    extend,
    new_request,
    require_actionable,
    verify,
)
from praclox_privacy.domain.restrictions import (
    Restriction,
    RestrictionGround,
    RestrictionKind,
    check_objection,
    refusal,
)
from praclox_privacy.domain.retention import erasure_plan
from praclox_privacy.formats.access_report import (
    CSV_COLUMNS,
    render_report,
    report_csv,
    report_html,
    report_json,
    report_schema,
)
from praclox_privacy.formats.opendsr import (
    OpenDsrError,
    identities_of,
    parse_opendsr,
    status_object,
)
from praclox_privacy.formats.texts import long_date, texts

POLICY = default_policy()
AMS = ZoneInfo("Europe/Amsterdam")
RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EMAIL = Identity("email", "jan@example.org")
UUID = "a7551968-d5d6-44b2-9831-815ac9017798"


def request(kind: RequestType = RequestType.ACCESS, at: datetime = RECEIVED) -> DataRequest:
    return new_request("r1", kind, [EMAIL], at)


def verified(kind: RequestType = RequestType.ACCESS) -> DataRequest:
    return verify(request(kind), "Erik", RECEIVED + timedelta(days=1), "jan")


# -- deadlines: GDPR Art. 12(3) ------------------------------------------------------------


def test_art12_due_one_month_after_receipt() -> None:
    assert request().due_at == datetime(2026, 4, 2, 9, 30, tzinfo=UTC)


def test_art12_a_month_from_31_january_ends_on_the_last_day_of_february() -> None:
    received = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert due_date(received) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)


def test_art12_a_shorter_response_time_of_the_policy_wins_a_longer_one_does_not() -> None:
    assert due_date(RECEIVED, Period(weeks=2)) == RECEIVED + timedelta(weeks=2)
    assert due_date(RECEIVED, Period(months=2)) == due_date(RECEIVED)


def test_art12_extension_by_two_months_with_a_reason() -> None:
    extended = extend(request(), 2, "many requests", RECEIVED + timedelta(days=10))
    assert extended.extended_until == datetime(2026, 6, 2, 9, 30, tzinfo=UTC)
    assert extended.deadline == extended.extended_until
    assert extended.extension_reason == "many requests"


def test_art12_extension_in_two_steps_stays_within_two_months() -> None:
    once = extend(request(), 1, "complex", RECEIVED)
    twice = extend(once, 2, "still complex", RECEIVED)
    assert twice.extended_until == datetime(2026, 6, 2, 9, 30, tzinfo=UTC)
    with pytest.raises(RequestRefused, match="already extended"):
        extend(twice, 1, "more", RECEIVED)


@pytest.mark.parametrize("months", [0, 3, -1])
def test_art12_extension_is_one_or_two_months(months: int) -> None:
    with pytest.raises(RequestRefused, match="1 or 2 months"):
        extend(request(), months, "reason", RECEIVED)


def test_art12_extension_needs_a_reason() -> None:
    with pytest.raises(RequestRefused, match="needs a reason"):
        extend(request(), 1, "  ", RECEIVED)


def test_art12_extension_after_the_first_month_is_refused() -> None:
    late = RECEIVED + timedelta(days=40)
    with pytest.raises(RequestRefused, match="within the first month"):
        extend(request(), 1, "too late", late)


def test_art12_overdue_after_the_deadline_while_open() -> None:
    r = request()
    assert not r.is_overdue(r.due_at)
    assert r.is_overdue(r.due_at + timedelta(seconds=1))
    done = complete(verify(r, "Erik", RECEIVED, "jan"), {}, RECEIVED)
    assert not done.is_overdue(r.due_at + timedelta(days=1))
    extended = extend(r, 1, "complex", RECEIVED)
    assert not extended.is_overdue(r.due_at + timedelta(days=1))


# -- the lifecycle ----------------------------------------------------------------------------


def test_a_request_needs_an_identity() -> None:
    with pytest.raises(RequestRefused, match="at least one identity"):
        new_request("r1", RequestType.ACCESS, [], RECEIVED)


def test_an_unknown_request_type_is_an_error_naming_the_types() -> None:
    with pytest.raises(InvalidValue, match="'deletion' is not a request type"):
        new_request("r1", "deletion", [EMAIL], RECEIVED)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("email", "not an address"), ("subject_id", "../etc"), ("email", " "), ("E-mail", "a@b")],
)
def test_identities_are_checked(kind: str, value: str) -> None:
    with pytest.raises(InvalidValue):
        Identity(kind, value)


def test_hashed_and_foreign_identities_are_kept_but_not_usable() -> None:
    assert Identity("email", "ab" * 32, "sha256").usable is False
    assert Identity("android_id", "x1").usable is False
    assert EMAIL.usable
    assert Identity("subject_id", "jan").usable


def test_verification_moves_a_request_in_progress_and_settles_the_subject() -> None:
    r = verified()
    assert r.status is RequestStatus.IN_PROGRESS
    assert (r.verified_by, r.subject_id) == ("Erik", "jan")
    with pytest.raises(RequestRefused, match="already verified by Erik"):
        verify(r, "Piet", RECEIVED, "jan")
    with pytest.raises(RequestRefused, match="who verified"):
        verify(request(), " ", RECEIVED, "jan")


@pytest.mark.parametrize(
    "kind", [RequestType.ACCESS, RequestType.ERASURE, RequestType.RECTIFICATION]
)
def test_art15_art16_art17_nothing_happens_before_verification(kind: RequestType) -> None:
    with pytest.raises(RequestRefused, match="not verified"):
        require_actionable(request(kind), [kind], "jan")
    with pytest.raises(RequestRefused, match="not verified"):
        complete(request(kind), {}, RECEIVED)
    require_actionable(verify(request(kind), "Erik", RECEIVED, "jan"), [kind], "jan")


def test_art18_art21_restriction_and_objection_need_no_verification() -> None:
    for kind in (RequestType.RESTRICTION, RequestType.OBJECTION):
        require_actionable(request(kind), [kind], "jan")
        assert complete(request(kind), {}, RECEIVED).status is RequestStatus.COMPLETED


def test_a_request_is_carried_out_for_its_own_type_and_subject_only() -> None:
    r = verified()
    with pytest.raises(RequestRefused, match="is a access request, not erasure"):
        require_actionable(r, [RequestType.ERASURE], "jan")
    with pytest.raises(RequestRefused, match="concerns subject 'jan', not 'piet'"):
        require_actionable(r, [RequestType.ACCESS], "piet")


def test_closed_requests_change_no_more() -> None:
    done = complete(verified(), {"results_count": 3}, RECEIVED)
    assert done.status is RequestStatus.COMPLETED
    assert done.closed_at == RECEIVED
    for action in (
        lambda: complete(done, {}, RECEIVED),
        lambda: cancel(done, "why", RECEIVED),
        lambda: extend(done, 1, "why", RECEIVED),
        lambda: verify(done, "Erik", RECEIVED, "jan"),
    ):
        with pytest.raises(RequestRefused, match="is completed"):
            action()


def test_cancel_needs_a_reason() -> None:
    with pytest.raises(RequestRefused, match="say why"):
        cancel(request(), "", RECEIVED)
    cancelled = cancel(request(), "withdrawn by the person", RECEIVED)
    assert cancelled.status is RequestStatus.CANCELLED
    assert cancelled.result == {"reason": "withdrawn by the person"}


def test_articles_of_the_rights() -> None:
    assert [t.article for t in RequestType] == [
        "Art. 15 GDPR",
        "Art. 20 GDPR",
        "Art. 17 GDPR",
        "Art. 16 GDPR",
        "Art. 18 GDPR",
        "Art. 21 GDPR",
    ]
    assert RestrictionGround.LEGAL_CLAIMS.article == "Art. 18(1)(c) GDPR"


# -- restriction (Art. 18) and objection (Art. 21) --------------------------------------------


def restriction(category: str | None = None, lifted: datetime | None = None) -> Restriction:
    return Restriction(
        "jan",
        RestrictionKind.RESTRICTION,
        RECEIVED,
        category=category,
        reason="accuracy_contested",
        lifted_at=lifted,
        id=1,
    )


def objection(purpose: str = "newsletter") -> Restriction:
    return Restriction(
        "jan", RestrictionKind.OBJECTION, RECEIVED, purpose=purpose, reason="direct_marketing"
    )


LATER = RECEIVED + timedelta(days=1)


def test_art18_restriction_of_everything_forbids_every_purpose() -> None:
    for purpose in ("client_relationship", "congratulations", "newsletter"):
        assert refusal([restriction()], POLICY, purpose, None, LATER) is not None


def test_art18_restriction_of_a_category_forbids_only_purposes_that_use_it() -> None:
    r = restriction("life_events")
    assert refusal([r], POLICY, "congratulations", None, LATER) is r
    assert refusal([r], POLICY, "congratulations", "person_name", LATER) is None
    assert refusal([r], POLICY, "client_relationship", None, LATER) is None


def test_art18_a_lifted_restriction_forbids_nothing_and_one_not_started_neither() -> None:
    lifted = restriction(lifted=LATER)
    assert refusal([lifted], POLICY, "congratulations", None, LATER) is None
    assert refusal([lifted], POLICY, "congratulations", None, RECEIVED) is lifted
    assert (
        refusal([restriction()], POLICY, "congratulations", None, RECEIVED - timedelta(1)) is None
    )


def test_art18_the_refusal_names_the_ground_and_that_storage_stays() -> None:
    text = restriction("life_events").describe()
    assert "category 'life_events' is restricted" in text
    assert "Art. 18(1)(a) GDPR" in text
    assert "only storage is allowed" in text


def test_art21_objection_ends_only_its_purpose() -> None:
    o = objection()
    assert refusal([o], POLICY, "newsletter", "website_account", LATER) is o
    assert refusal([o], POLICY, "protected_area", "website_account", LATER) is None
    assert refusal([o], POLICY, "wishes_portal", None, LATER) is None


def test_art21_objection_without_purposes_ends_every_direct_marketing_purpose() -> None:
    assert check_objection(POLICY, {"website_user"}) == (("newsletter",), [])
    found, problems = check_objection(POLICY, {"applicant"})
    assert found == ()
    assert "no direct-marketing purpose applies" in problems[0]


def test_art21_objection_to_legitimate_interest_is_allowed() -> None:
    assert check_objection(POLICY, {"contact_person"}, ["congratulations"]) == (
        ("congratulations",),
        [],
    )


def test_art21_objection_lists_every_problem() -> None:
    found, problems = check_objection(
        POLICY,
        {"contact_person", "applicant"},
        ["client_relationship", "talent_pool", "nope", "newsletter"],
    )
    assert found == ()
    assert len(problems) == 4
    assert "rests on contract" in problems[0]
    assert "Art. 18" in problems[0]
    assert "withdraw the consent 'keep_application'" in problems[1]
    assert "unknown purpose 'nope'" in problems[2]
    assert "'newsletter' does not apply" in problems[3]


# -- the access report (Art. 15 and 20) ------------------------------------------------------

COLLECTED = datetime(2025, 1, 10, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def jan() -> Subject:
    return Subject(
        "jan",
        {"contact_person", "website_user"},
        organisation="acme",
    ).with_event("account_closed", datetime(2026, 2, 20, tzinfo=UTC))


def jan_items() -> dict[str, list[Item]]:
    return {
        "main": [
            Item("jan", "person_name", "name", "Jan <script>alert(1)</script>", COLLECTED),
            Item("jan", "website_account", "email", "jan@example.org", COLLECTED),
        ],
        "agenda": [Item("jan", "life_events", "birthday", "1980-02-29", COLLECTED)],
    }


def newsletter_consent() -> Consent:
    return Consent("jan", "newsletter", COLLECTED, Evidence("web form", "Yes, send me"))


def report(policy: Any = POLICY, restrictions: tuple[Restriction, ...] = ()) -> Any:
    r = complete(verified(), {"results_count": 3}, NOW)
    return build_access_report(
        jan(), jan_items(), [newsletter_consent()], [r], restrictions, policy, NOW, r
    )


def test_art15_every_item_with_purposes_bases_retention_and_recipients() -> None:
    found = report()
    assert found.stores == {"main": 2, "agenda": 1}
    by_field = {e.item.field: e for e in found.items}
    name = by_field["name"]
    assert {p.id for p in name.purposes} == {
        "client_relationship",
        "prospect_relationship",
        "congratulations",
    }
    assert [b.value for b in name.legal_bases] == ["contract", "legitimate_interest"]
    assert name.status.value == "waiting"
    assert name.erase_at is None
    account = by_field["email"]
    assert account.status.value == "kept"
    assert account.erase_at == datetime(2026, 3, 20, tzinfo=UTC)  # P1M after account_closed
    assert {p.id for p in account.purposes} == {"newsletter", "protected_area", "wishes_portal"}
    assert all(e.recipients == () for e in found.items)  # S9: nobody by default


def test_art15_recipients_of_a_category_are_listed() -> None:
    policy = attrs.evolve(
        POLICY,
        recipients=(
            Recipient(
                "mailer",
                Labels("verzendhuis", "mailing house"),
                ["newsletter"],
                ["website_account"],
            ),
        ),
    )
    by_field = {e.item.field: e for e in report(policy).items}
    assert by_field["email"].recipients == ("mailer",)
    assert by_field["name"].recipients == ()


def test_art15_an_item_with_its_own_purposes_reports_those() -> None:
    item = Item("jan", "person_name", "name", "Jan", COLLECTED, ("client_relationship",))
    found = build_access_report(jan(), {"main": [item]}, [], [], [], POLICY, NOW)
    assert [p.id for p in found.items[0].purposes] == ["client_relationship"]


@pytest.mark.promise("S6")
def test_art15_S6_invoices_show_their_legal_hold() -> None:
    acme = Subject("acme", {"client"}).with_event(
        "relation_ended", datetime(2025, 6, 1, tzinfo=UTC)
    )
    item = Item("acme", "invoicing_records", "invoice-1", "EUR 100", COLLECTED)
    found = build_access_report(acme, {"main": [item]}, [], [], [], POLICY, NOW)
    entry = found.items[0]
    assert entry.hold_rule == "invoicing_records"
    assert entry.erase_at == datetime(2032, 6, 1, tzinfo=UTC)
    data = report_json(found, POLICY, "en")
    hold = data["items"][0]["legal_hold"]
    assert hold["law"].startswith("Algemene wet inzake rijksbelastingen")
    assert hold["reason"] == "Dutch tax law obliges us to keep the accounts for 7 years."
    assert report_json(found, POLICY, "nl")["items"][0]["legal_hold"]["reason"].startswith(
        "De belastingwet"
    )


def test_art18_restricted_items_are_marked() -> None:
    found = report(restrictions=(restriction("life_events"),))
    by_field = {e.item.field: e.restricted for e in found.items}
    assert by_field == {"name": False, "email": False, "birthday": True}


# -- formats ------------------------------------------------------------------------------


def check_schema(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$") -> None:
    """A small JSON Schema checker for the keywords the report schema uses."""
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        check_schema(value, target, root, at)
    if "oneOf" in schema:
        passing = 0
        for option in schema["oneOf"]:
            try:
                check_schema(value, option, root, at)
                passing += 1
            except AssertionError:
                pass
        assert passing == 1, f"{at}: matches {passing} of oneOf"
    if "const" in schema:
        assert value == schema["const"], at
    if "enum" in schema:
        assert value in schema["enum"], f"{at}: {value!r} not in {schema['enum']}"
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        python = {
            "object": dict,
            "array": list,
            "string": str,
            "integer": int,
            "boolean": bool,
            "null": type(None),
        }
        assert any(
            isinstance(value, python[t]) and not (t == "integer" and isinstance(value, bool))
            for t in types
        ), f"{at}: {value!r} is not {types}"
    if isinstance(value, str) and schema.get("format") == "date-time":
        assert datetime.fromisoformat(value).tzinfo is not None, at
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{at}: missing {key}"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, sub in value.items():
            if key in props:
                check_schema(sub, props[key], root, f"{at}.{key}")
            elif extra is False:
                raise AssertionError(f"{at}: unexpected key {key}")
            elif isinstance(extra, dict):
                check_schema(sub, extra, root, f"{at}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, sub in enumerate(value):
            check_schema(sub, schema["items"], root, f"{at}[{index}]")
    if isinstance(value, int) and "minimum" in schema:
        assert value >= schema["minimum"], at


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_art20_json_follows_the_documented_schema(lang: str) -> None:
    restricted = (restriction("life_events"), objection())
    data = json.loads(render_report(report(restrictions=restricted), POLICY, "json", lang))
    schema = report_schema()
    check_schema(data, schema, schema)
    assert data["lang"] == lang
    assert data["subject"]["id"] == "jan"
    assert data["request"]["type"] == "access"
    assert data["consents"][0]["kind"] == "newsletter"
    assert data["events"][0]["event"] == "account_closed"


def test_art20_the_schema_rejects_what_it_should() -> None:
    schema = report_schema()
    data = report_json(report(), POLICY, "en")
    del data["items"][0]["value"]
    with pytest.raises(AssertionError, match="missing value"):
        check_schema(data, schema, schema)


def test_art20_csv_has_a_row_per_item_event_consent_and_request() -> None:
    text = report_csv(report(), POLICY, "en")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    sections = [r["section"] for r in rows]
    assert sections.count("item") == 3
    assert sections.count("event") == 1
    assert sections.count("consent") == 1
    assert sections.count("request") == 1
    name = next(r for r in rows if r["field"] == "name")
    assert name["value"] == "Jan <script>alert(1)</script>"
    assert name["legal_bases"] == "contract legitimate_interest"
    assert name["recipients"] == ""


def test_art15_html_in_dutch_escapes_every_value() -> None:
    html = report_html(report(), POLICY, "nl", AMS)
    assert "<script>" not in html
    assert "Jan &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<html lang="nl">' in html
    for text in (
        "Uw gegevens bij Praclox",
        "Dit overzicht beantwoordt uw verzoek r1 van 2 maart 2026 (inzage, artikel 15 AVG).",
        "U staat bij ons geregistreerd als: contactpersoon en websitegebruiker.",
        "tot 20 maart 2026",
        "tot 1 jaar na het einde van de relatie",
        "niemand",
        "nieuwsbrief: gegeven op 10 januari 2025",
        "uitvoering van een overeenkomst (art. 6 lid 1 onder b AVG)",
        "onze functionaris voor gegevensbescherming, Erik Gimbergh (erik@praclox.nl)",
        "Autoriteit Persoonsgegevens",
    ):
        assert text in html, text


def test_art15_html_in_english() -> None:
    html = report_html(report(), POLICY, "en", AMS)
    assert '<html lang="en">' in html
    for text in (
        "Your data held by Praclox",
        "This report answers your request r1 of 2 March 2026 (access, Art. 15 GDPR).",
        "You are registered with us as: contact person and website user.",
        "until 20 March 2026",
        "up to 1 year after the relationship ends",
        "nobody",
        "performance of a contract (Art. 6(1)(b) GDPR)",
        "Contact our Data Protection Officer, Erik Gimbergh",
    ):
        assert text in html, text
    assert "Uw gegevens" not in html


def test_an_empty_report_says_nothing_is_held() -> None:
    found = build_access_report(
        Subject("gone", {"applicant"}), {"main": []}, [], [], [], POLICY, NOW
    )
    assert "Wij bewaren geen persoonsgegevens over u." in report_html(found, POLICY, "nl")
    assert "We hold no personal data about you." in report_html(found, POLICY, "en")


def test_long_dates_in_both_languages_and_the_workspace_time_zone() -> None:
    late = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert long_date(late, "nl", AMS) == "1 maart 2026"
    assert long_date(late, "en", UTC) == "28 February 2026"


def test_both_languages_have_the_same_sentences() -> None:
    nl, en = texts("nl"), texts("en")
    assert set(nl) == set(en)
    assert set(nl["rights_names"]) == set(en["rights_names"]) == {t.value for t in RequestType}
    with pytest.raises(ValueError, match="unsupported language"):
        texts("de")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported format 'pdf'"):
        render_report(report(), POLICY, "pdf", "en")


# -- erasure plan: what a legal hold keeps (Art. 17(3)(b)) ------------------------------------


@pytest.mark.promise("S6")
def test_art17_S6_the_kept_item_names_its_law_and_date() -> None:
    acme = Subject("acme", {"client"}).with_event(
        "relation_ended", datetime(2025, 6, 1, tzinfo=UTC)
    )
    items = [
        Item("acme", "invoicing_records", "invoice-1", "EUR 100", COLLECTED),
        Item("acme", "office_identity", "name", "Acme", COLLECTED),
    ]
    erase, held = erasure_plan(items, acme, [], POLICY, NOW)
    assert [i.field for i in erase] == ["name"]
    kept = kept_item("main", held[0])
    assert (kept.store, kept.category, kept.rule) == (
        "main",
        "invoicing_records",
        "invoicing_records",
    )
    assert kept.law.startswith("Algemene wet inzake rijksbelastingen")
    assert kept.until == datetime(2032, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="not kept by a legal hold"):
        kept_item("main", attrs.evolve(held[0], hold=None))


# -- OpenDSR ----------------------------------------------------------------------------------


def opendsr(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "subject_request_id": UUID,
        "subject_request_type": "erasure",
        "submitted_time": "2026-03-02T09:30:00Z",
        "subject_identities": [
            {
                "identity_type": "email",
                "identity_value": "jan@example.org",
                "identity_format": "raw",
            }
        ],
        "api_version": "1.0",
        "status_callback_urls": ["https://controller.example/opengdpr_callbacks"],
        "extensions": {"processor.example": {"property_id": "123"}},
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_opendsr_a_well_formed_request_is_read() -> None:
    parsed = parse_opendsr(json.dumps(opendsr()))
    assert parsed.subject_request_type == "erasure"
    assert parsed.submitted_at == RECEIVED
    assert identities_of(parsed) == (EMAIL,)


def test_opendsr_controller_customer_id_is_the_subject_id() -> None:
    ids = [
        {
            "identity_type": "controller_customer_id",
            "identity_value": "jan",
            "identity_format": "raw",
        }
    ]
    parsed = parse_opendsr(opendsr(subject_identities=ids))
    assert identities_of(parsed) == (Identity("subject_id", "jan"),)


def problems_of(document: Any, now: datetime | None = None) -> list[tuple[str, str]]:
    with pytest.raises(OpenDsrError) as caught:
        parse_opendsr(document, "req.json", now)
    assert str(caught.value).startswith("req.json: ")
    return [(p.location, p.message) for p in caught.value.problems]


def test_opendsr_a_malformed_request_lists_every_problem() -> None:
    found = problems_of(
        opendsr(
            subject_request_id="A7551968-D5D6-44B2-9831-815AC9017798",
            subject_request_type="rectification",
            submitted_time="2026-03-02 09:30",
            subject_identities=[
                {"identity_type": "phone", "identity_value": "06", "identity_format": "raw"},
                {"identity_type": "email", "identity_value": "x", "identity_format": "rot13"},
            ],
            regulation="ccpa",
            status_callback_urls=["http://insecure.example"],
            colour="blue",
        )
    )
    locations = [loc for loc, _ in found]
    assert locations == [
        "colour",
        "subject_request_id",
        "subject_request_type",
        "submitted_time",
        "regulation",
        "subject_identities[0].identity_type",
        "subject_identities[1].identity_format",
        "subject_identities",
        "status_callback_urls[0]",
    ]
    messages = dict(found)
    assert messages["colour"] == "unknown key"
    assert "not a lower-case UUID v4" in messages["subject_request_id"]
    assert "'access', 'portability', 'erasure'" in messages["subject_request_type"]


def test_opendsr_missing_keys_and_wrong_types_are_listed_together() -> None:
    found = problems_of(
        {"subject_request_type": 3, "subject_identities": [{"identity_value": "a"}]}
    )
    assert found == [
        ("subject_request_id", "required key is missing"),
        ("subject_request_type", "expected a string, got an integer 3"),
        ("submitted_time", "required key is missing"),
        ("subject_identities[0].identity_type", "required key is missing"),
        ("subject_identities[0].identity_format", "required key is missing"),
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not JSON: Expecting property name"),
        ("[1, 2]", "expected a JSON object"),
        (b"\xff\xfe", "not"),
    ],
)
def test_opendsr_not_a_json_object(document: str | bytes, message: str) -> None:
    ((location, text),) = problems_of(document)
    assert location == ""
    assert message in text


def test_opendsr_a_request_from_the_future_is_refused() -> None:
    found = problems_of(opendsr(), now=RECEIVED - timedelta(hours=1))
    assert found == [("submitted_time", "2026-03-02T09:30:00Z is in the future")]


def test_opendsr_without_identities() -> None:
    assert problems_of(opendsr(subject_identities=[])) == [
        ("subject_identities", "at least one identity is required")
    ]


def test_opendsr_status_object() -> None:
    r = new_request(UUID, RequestType.ERASURE, [EMAIL], RECEIVED)
    assert status_object(r, "Praclox") == {
        "controller_id": "Praclox",
        "subject_request_id": UUID,
        "request_status": "pending",
        "expected_completion_time": "2026-04-02T09:30:00Z",
        "received_time": "2026-03-02T09:30:00Z",
        "api_version": "1.0",
    }
    done = complete(verify(r, "Erik", RECEIVED, "jan"), {"results_count": 4}, RECEIVED)
    assert status_object(done, "Praclox")["request_status"] == "completed"
    assert status_object(done, "Praclox")["results_count"] == 4
