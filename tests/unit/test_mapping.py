# ruff: noqa: E501 - a table of cases reads best one per line
"""Table mappings: strict loading with the policy's converter, and checks against the policy."""

import pytest

from praclox_privacy.domain.errors import MappingError
from praclox_privacy.domain.mapping import EraseMode, Mapping, TableMapping
from praclox_privacy.formats.mapping import dump_mapping, load_mapping, load_mapping_file
from praclox_privacy.formats.policy import default_policy

POLICY = default_policy()

GOOD = """
timezone = "Europe/Amsterdam"

[[table]]
name = "applicants"
relation_type = "applicant"
subject_prefix = "applicant-"
collected = "applied_at"
identities = { email = "email" }
events = { rejected = "rejected_at" }
erase = "delete"
[table.columns]
full_name = { category = "application", field = "name" }
email = { category = "application" }

[[table]]
name = "clients"
relation_type = "client"
events = { relation_ended = "ended_on" }
[table.columns]
office_name = { category = "office_identity", field = "name", erase = "anonymise" }

[[table]]
name = "invoices"
subject = "client_id"
references = { client_id = "clients" }
collected = "issued_on"
[table.columns]
amount = { category = "invoicing_records" }

[[table]]
name = "contacts"
relation_type = "contact_person"
events = { relation_ended = "ended_on" }
references = { client_id = "clients" }
[table.columns]
full_name = { category = "person_name" }
"""


def problems(text: str) -> list[str]:
    with pytest.raises(MappingError) as caught:
        load_mapping(text, POLICY, "mapping.toml")
    assert caught.value.source == "mapping.toml"
    return [str(p) for p in caught.value.problems]


def test_a_good_mapping_loads_and_round_trips() -> None:
    mapping = load_mapping(GOOD, POLICY)
    applicants = mapping.table("applicants")
    assert applicants.prefix == "applicant-"
    assert applicants.subject_column == "id"
    assert applicants.field_of("full_name") == "name"
    assert applicants.field_of("email") == "email"
    assert mapping.table("clients").prefix == "clients-"
    assert mapping.table("clients").erase_mode("office_name") is EraseMode.ANONYMISE
    invoices = mapping.table("invoices")
    assert not invoices.is_subject_table
    assert mapping.owner_of(invoices) is mapping.table("clients")
    assert [t.name for t in mapping.owned_by(mapping.table("clients"))] == ["clients", "invoices"]
    assert sorted((t.name, c) for t, c in mapping.referencing(mapping.table("clients"))) == [
        ("contacts", "client_id"),
        ("invoices", "client_id"),
    ]
    again = load_mapping(dump_mapping(mapping), POLICY)
    assert dump_mapping(again) == dump_mapping(mapping)
    assert [t.name for t in again.tables] == [t.name for t in mapping.tables]


def test_unknown_keys_and_wrong_types_are_located() -> None:
    found = problems(
        GOOD.replace('erase = "delete"', 'erase = "shred"').replace(
            'collected = "applied_at"', "collected = 3\ncolour = 'red'"
        )
    )
    assert any(p.startswith("table[0].colour: unknown key") for p in found)
    assert any(p.startswith("table[0].collected:") and "string" in p for p in found)
    assert any(p.startswith("table[0].erase:") and "'shred'" in p for p in found)


def test_names_that_are_not_plain_sql_are_refused() -> None:
    found = problems(GOOD.replace('name = "applicants"', 'name = "applicants; DROP TABLE x"'))
    assert any("table[0].name" in p and "plain SQL name" in p for p in found)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('relation_type = "applicant"', 'relation_type = "candidate"'), "table[0].relation_type: relation type 'candidate' is not declared"),
        (('rejected = "rejected_at"', 'refused = "rejected_at"'), "table[0].events.refused: lifecycle event 'refused' is not declared"),
        (('rejected = "rejected_at"', 'account_closed = "rejected_at"'), "table[0].events: retention rule 'applications' (category 'application') counts from 'rejected': map that event to a column"),
        (('category = "application", field', 'category = "office_identity", field'), "table[0].columns.full_name.category: category 'office_identity' is not declared for relation type 'applicant'"),
        (('amount = { category = "invoicing_records" }', 'amount = { category = "nope" }'), "table[2].columns.amount.category: category 'nope' is not declared in the policy"),
        (('references = { client_id = "clients" }\ncollected', 'references = { client_id = "customers" }\ncollected'), "table[2].references.client_id: table 'customers' is not mapped"),
        (('subject = "client_id"', 'subject = "customer_id"'), "table[2].subject: column 'customer_id' must be listed in 'references'"),
        (('subject_prefix = "applicant-"', 'subject_prefix = "-x"'), "table[0].subject_prefix: '-x' cannot start a subject id"),
        (('subject_prefix = "applicant-"', 'subject_prefix = "clients-a"'), "subject prefix"),
        (('full_name = { category = "person_name" }', 'full_name = { category = "person_name", erase = "delete" }'), "table[3].columns.full_name.erase: a column is cleared"),
        (('name = "clients"\nrelation_type = "client"', 'name = "clients"\nrelation_type = "client"\nsubject = "number"'), "table[2].references.client_id: table 'clients' identifies its subjects by 'number', not by its key 'id'"),
    ],
)  # fmt: skip
def test_inconsistencies_with_the_policy_are_named(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    found = problems(GOOD.replace(old, new, 1))
    assert any(expected in p for p in found), found


def test_a_table_mapped_twice() -> None:
    found = problems(GOOD + '\n[[table]]\nname = "clients"\nrelation_type = "client"\n'
                     'events = { relation_ended = "x" }\n[table.columns]\n'
                     'y = { category = "office_identity" }\n')  # fmt: skip
    assert any("table[4].name: table 'clients' is mapped twice" in p for p in found)


def test_a_contact_person_cannot_belong_to_an_applicant() -> None:
    text = GOOD.replace(
        'references = { client_id = "clients" }\n[table.columns]\nfull_name = { category = "person_name" }',
        'references = { client_id = "applicants" }\n[table.columns]\nfull_name = { category = "person_name" }',
    )  # fmt: skip
    found = problems(text)
    assert any("a contact_person belongs to a client" in p for p in found), found


def test_unknown_time_zone_and_toml_syntax() -> None:
    assert any(
        "timezone: unknown time zone 'Mars/Olympus'" in p
        for p in problems(GOOD.replace("Europe/Amsterdam", "Mars/Olympus"))
    )
    assert any("not valid TOML" in p for p in problems("[[table]\nname = 1"))


def test_unreadable_file_names_it(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "missing.toml"
    with pytest.raises(MappingError, match=r"missing\.toml"):
        load_mapping_file(path, POLICY)


def test_mapping_lookups() -> None:
    mapping = Mapping((TableMapping("a", relation_type="applicant"),))
    with pytest.raises(KeyError, match="table 'b' is not mapped"):
        mapping.table("b")
