"""The GDPR Art. 13 and Art. 14 completeness check of a policy."""

import attrs
import pytest

from praclox_privacy import (
    DataOrigin,
    Labels,
    LegalBasis,
    Policy,
    Recipient,
    StatementSettings,
    dump_policy,
    load_policy,
)
from praclox_privacy.formats.documents import ELEMENTS, check_transparency
from praclox_privacy.formats.documents.art13 import Status


def statuses(policy: Policy) -> dict[str, Status]:
    return {f.element.code: f.status for f in check_transparency(policy).findings}


def settings(policy: Policy, **changes: object) -> Policy:
    return attrs.evolve(policy, statement=attrs.evolve(policy.statement, **changes))


def evolve_entry(policy: Policy, group: str, id: str, **changes: object) -> Policy:
    entries = getattr(policy, group)
    new = tuple(attrs.evolve(e, **changes) if e.id == id else e for e in entries)
    return attrs.evolve(policy, **{group: new})


def missing(policy: Policy) -> dict[str, tuple[str, ...]]:
    return {f.element.code: f.locations for f in check_transparency(policy).missing}


def test_the_shipped_policy_passes(policy: Policy) -> None:
    report = check_transparency(policy)
    assert report.ok
    assert report.missing == ()
    assert report.unknown == ()
    assert [f.element for f in report.findings] == list(ELEMENTS)
    assert statuses(policy) == {
        "controller": Status.PRESENT,
        "dpo": Status.PRESENT,
        "purposes": Status.PRESENT,
        "legitimate_interests": Status.PRESENT,
        "data_categories": Status.PRESENT,
        "recipients": Status.NOT_APPLICABLE,
        "third_country_transfers": Status.NOT_APPLICABLE,
        "retention": Status.PRESENT,
        "rights": Status.PRESENT,
        "withdraw_consent": Status.PRESENT,
        "complaint": Status.PRESENT,
        "provision_requirement": Status.PRESENT,
        "data_sources": Status.PRESENT,
        "automated_decisions": Status.NOT_APPLICABLE,
    }


@pytest.mark.promise("S16")
def test_removing_the_dpo_fails_the_check(policy: Policy) -> None:
    changed = attrs.evolve(policy, controller=attrs.evolve(policy.controller, dpo=None))
    report = check_transparency(changed)
    assert not report.ok
    [finding] = report.missing
    assert finding.element.code == "dpo"
    assert finding.element.articles == "Art. 13(1)(b), 14(1)(b)"
    assert finding.locations == ("controller.dpo",)
    assert "add [controller.dpo]" in finding.detail


def test_a_dpo_explicitly_not_applicable_passes(policy: Policy) -> None:
    changed = attrs.evolve(policy, controller=attrs.evolve(policy.controller, dpo=None))
    changed = settings(changed, not_applicable=(*changed.statement.not_applicable, "dpo"))
    assert check_transparency(changed).ok
    assert statuses(changed)["dpo"] is Status.NOT_APPLICABLE


@pytest.mark.promise("S9")
def test_no_recipients_must_be_stated_explicitly(policy: Policy) -> None:
    changed = settings(policy, not_applicable=("third_country_transfers", "automated_decisions"))
    assert missing(changed) == {"recipients": ("recipient",)}


def test_declared_recipients_are_present_and_contradict_not_applicable(policy: Policy) -> None:
    accountant = Recipient(
        "accountant", Labels("accountant", "accountant"), ("invoicing",), ("invoicing_records",)
    )
    changed = attrs.evolve(policy, recipients=(accountant,))
    assert "recipients" in missing(changed)  # listed as not applicable too
    changed = settings(changed, not_applicable=("third_country_transfers", "automated_decisions"))
    assert check_transparency(changed).ok
    assert statuses(changed)["recipients"] is Status.PRESENT


def test_third_country_transfers_are_stated_or_declared_none(policy: Policy) -> None:
    changed = settings(policy, not_applicable=("recipients", "automated_decisions"))
    assert missing(changed) == {"third_country_transfers": ("third_country_transfers",)}
    listed = attrs.evolve(changed, third_country_transfers=("VS: modelcontractbepalingen",))
    assert check_transparency(listed).ok


def test_automated_decisions_are_described_or_declared_none(policy: Policy) -> None:
    changed = settings(policy, not_applicable=("recipients", "third_country_transfers"))
    assert missing(changed) == {"automated_decisions": ("statement.automated_decisions",)}
    described = settings(changed, automated_decisions=Labels("Wel.", "Yes, we do."))
    assert check_transparency(described).ok


def test_the_supervisory_authority_always_applies(policy: Policy) -> None:
    changed = attrs.evolve(
        policy, controller=attrs.evolve(policy.controller, supervisory_authority=None)
    )
    assert missing(changed) == {"complaint": ("controller.supervisory_authority",)}
    declared = settings(changed, not_applicable=(*policy.statement.not_applicable, "complaint"))
    assert missing(declared) == {"complaint": ("statement.not_applicable",)}


def test_an_unknown_not_applicable_code_fails(policy: Policy) -> None:
    changed = settings(policy, not_applicable=(*policy.statement.not_applicable, "recipient"))
    report = check_transparency(changed)
    assert not report.ok
    assert report.unknown == ("recipient",)


def test_data_sources_are_required_for_every_relation_type(policy: Policy) -> None:
    changed = evolve_entry(policy, "relation_types", "prospect", origins=())
    assert missing(changed) == {"data_sources": ("relation_type[1].origins",)}


def test_provision_is_required_where_the_person_provides_the_data(policy: Policy) -> None:
    changed = evolve_entry(policy, "relation_types", "applicant", provision=None)
    assert missing(changed) == {"provision_requirement": ("relation_type[4].provision",)}
    elsewhere = evolve_entry(
        changed, "relation_types", "applicant", origins=(DataOrigin.THIRD_PARTY,)
    )
    assert check_transparency(elsewhere).ok


def test_legitimate_interest_must_be_stated(policy: Policy) -> None:
    changed = evolve_entry(policy, "purposes", "congratulations", legitimate_interest=None)
    assert missing(changed) == {"legitimate_interests": ("purpose[4].legitimate_interest",)}


def test_elements_not_applicable_by_content(policy: Policy) -> None:
    contract = tuple(
        attrs.evolve(p, legal_basis=LegalBasis.CONTRACT, consent_kind=None) for p in policy.purposes
    )
    changed = attrs.evolve(policy, purposes=contract)
    assert statuses(changed)["withdraw_consent"] is Status.NOT_APPLICABLE
    assert statuses(changed)["legitimate_interests"] is Status.NOT_APPLICABLE


def test_a_policy_without_statement_settings_fails_and_names_what_is_missing(
    policy: Policy,
) -> None:
    bare = attrs.evolve(policy, statement=StatementSettings())
    assert set(missing(bare)) == {"recipients", "third_country_transfers", "automated_decisions"}


def test_statement_settings_round_trip_through_the_file(policy: Policy) -> None:
    changed = settings(
        policy,
        automated_decisions=Labels("Geen.", "None."),
        not_applicable=("recipients",),
        rights_contact="privacy@praclox.nl",
    )
    assert load_policy(dump_policy(changed)) == changed
    bare = attrs.evolve(policy, statement=StatementSettings())
    assert "[statement]" not in dump_policy(bare)
    assert load_policy(dump_policy(bare)) == bare
