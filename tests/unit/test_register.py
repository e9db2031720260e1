"""The GDPR Art. 30(1) record of processing activities, generated from the policy."""

import csv
import io
import json

import attrs
import pytest

from praclox_privacy import Labels, Period, Policy, Recipient
from praclox_privacy.formats.documents import build_register
from praclox_privacy.formats.documents.register import COLUMNS


def parse_csv(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_one_row_per_purpose_and_one_header_row(policy: Policy, lang: str) -> None:
    text = build_register(policy, lang).to_csv()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    index = 1 if lang == "nl" else 2
    assert header == [column[index] for column in COLUMNS]
    assert len(body) == len(policy.purposes)
    assert [row[0] for row in body] == [p.id for p in policy.purposes]
    assert all(len(row) == len(header) for row in body)
    assert not text.startswith("\ufeff")


def test_the_bom_variant_parses_with_utf_8_sig(policy: Policy) -> None:
    text = build_register(policy, "nl").to_csv(bom=True)
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = parse_csv(data.decode("utf-8-sig"))
    assert len(rows) == len(policy.purposes)
    assert next(iter(rows[0])) == "Doel (id)"  # the BOM is not part of the first header
    assert rows[0]["Categorieën betrokkenen"] == "klant\ncontactpersoon"


def test_a_semicolon_delimiter_for_dutch_spreadsheets(policy: Policy) -> None:
    rows = parse_csv(build_register(policy, "nl").to_csv(delimiter=";"), ";")
    assert len(rows) == len(policy.purposes)
    measures = rows[0]["Beveiligingsmaatregelen"].split("\n")
    assert "Geen tijdelijke krachten; alleen medewerkers met een langdurige relatie" in measures


@pytest.mark.promise("S16")
def test_every_row_names_the_controller_and_the_dpo(policy: Policy) -> None:
    for row in parse_csv(build_register(policy, "en").to_csv()):
        assert row["Controller"] == "Praclox, erik@praclox.nl, NL"
        assert row["Data protection officer"] == "Erik Gimbergh, erik@praclox.nl"


@pytest.mark.promise("S9")
def test_no_recipients_and_no_transfers(policy: Policy) -> None:
    for row in parse_csv(build_register(policy, "en").to_csv()):
        assert row["Categories of recipients"] == (
            "none (only on request and with the data subject's consent)"
        )
        assert row["Transfers to third countries"] == "none"


@pytest.mark.promise("S14")
def test_the_erasure_time_limits_in_words(policy: Policy) -> None:
    rows = {r["Purpose (id)"]: r for r in parse_csv(build_register(policy, "en").to_csv())}
    assert rows["talent_pool"]["Time limits for erasure"] == (
        "application data (applicant): up to 3 months after the application is rejected, "
        "or up to 1 year with consent"
    )
    assert rows["search_portal"]["Time limits for erasure"] == (
        "searches in the search portal: not stored"
    )
    nl = {r["Doel (id)"]: r for r in parse_csv(build_register(policy, "nl").to_csv())}
    assert nl["invoicing"]["Bewaartermijnen"].endswith(
        "factuurgegevens (klant): 7 jaar na het einde van de relatie (wettelijke "
        "bewaarplicht: Algemene wet inzake rijksbelastingen, art. 52 (fiscale bewaarplicht "
        "van 7 jaar))"
    )


def test_the_legal_basis_and_the_security_measures(policy: Policy) -> None:
    rows = {r["Purpose (id)"]: r for r in parse_csv(build_register(policy, "en").to_csv())}
    assert rows["newsletter"]["Legal basis"] == "consent (Art. 6(1)(a) GDPR) [newsletter]"
    assert rows["congratulations"]["Legal basis"] == (
        "legitimate interest: maintaining a personal business relationship (Art. 6(1)(f) GDPR)"
    )
    assert rows["recruitment"]["Security measures"].split("\n") == [
        m.en for m in policy.security_measures
    ]


def test_the_register_follows_the_policy(policy: Policy) -> None:
    rules = tuple(
        attrs.evolve(r, period=Period(weeks=4)) if r.id == "applications" else r
        for r in policy.retention
    )
    accountant = Recipient(
        "accountant",
        Labels("onze accountant", "our accountant"),
        ("invoicing",),
        ("invoicing_records",),
        third_country="US",
    )
    changed = attrs.evolve(policy, retention=rules, recipients=(accountant,))
    rows = {r.purpose_id: r for r in build_register(changed, "en").rows}
    assert (
        rows["recruitment"]
        .erasure_time_limits[0]
        .startswith("application data (applicant): up to 4 weeks after")
    )
    assert rows["invoicing"].recipients == ("our accountant",)
    assert rows["invoicing"].third_country_transfers == ("our accountant: US",)
    assert rows["newsletter"].third_country_transfers == ("none",)


def test_json_has_one_object_per_purpose_with_lists(policy: Policy) -> None:
    data = json.loads(build_register(policy, "en").to_json())
    assert [row["purpose_id"] for row in data] == [p.id for p in policy.purposes]
    assert set(data[0]) == {key for key, _, _ in COLUMNS}
    assert data[0]["data_subjects"] == ["client", "contact person"]


def test_markdown_has_a_section_per_purpose(policy: Policy) -> None:
    text = build_register(policy, "nl").to_markdown()
    assert text.startswith("# Register van verwerkingsactiviteiten\n")
    assert text.count("\n## Doel: ") == len(policy.purposes)
    assert "| Doel (id) | client\\_relationship |" in text
    assert "| Categorieën betrokkenen | klant<br>contactpersoon |" in text


def test_an_unsupported_language_is_refused(policy: Policy) -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        build_register(policy, "de")
