"""The privacy statement generated from the policy states every promise (S1..S16).

``test_Sn_...`` reads the Dutch statement of the shipped policy and asserts that it says
what promise Sn says, in substance. The other tests show that the text follows the
policy (change the policy, the text changes), the English statement, HTML, escaping and
user templates.
"""

import re
from pathlib import Path

import attrs
import pytest

from praclox_privacy import (
    Labels,
    LegalBasis,
    Period,
    Policy,
    Purpose,
    Recipient,
    RetentionAction,
)
from praclox_privacy.formats.documents import TemplateError, default_template, render_statement
from praclox_privacy.formats.documents.context import statement_context
from praclox_privacy.formats.documents.words import join_and, join_or, period_words


@pytest.fixture(scope="module")
def nl(policy: Policy) -> str:
    return render_statement(policy, "nl")


@pytest.fixture(scope="module")
def en(policy: Policy) -> str:
    return render_statement(policy, "en")


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n")
    rest = text[start + len(heading) + 2 :]
    stop = re.search(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)
    return rest[: stop.start()] if stop else rest


def flat(text: str) -> str:
    return " ".join(text.split())


def evolve_entry(policy: Policy, group: str, id: str, **changes: object) -> Policy:
    entries = getattr(policy, group)
    assert any(e.id == id for e in entries)
    new = tuple(attrs.evolve(e, **changes) if e.id == id else e for e in entries)
    return attrs.evolve(policy, **{group: new})


# -- every promise, in substance, in the Dutch statement --------------------------------


@pytest.mark.promise("S1")
def test_S1_says_what_is_stored_why_and_what_is_done_with_it(nl: str, policy: Policy) -> None:
    assert (
        "welke gegevens we verzamelen, waarom we dat doen, hoe lang we ze bewaren en wat we "
        "ermee doen" in flat(nl)
    )
    assert "gemaakt uit hetzelfde privacybeleid dat onze systemen afdwingen" in nl
    assert all(f"### Als u {rt.label.nl} bent" in nl for rt in policy.relation_types)
    assert nl.count("**Waarvoor gebruiken we ze?**") == len(policy.relation_types)
    assert nl.count("**Hoe lang bewaren we ze?**") == len(policy.relation_types)
    assert "art. 6 lid 1 onder b AVG" in nl


@pytest.mark.promise("S2")
def test_S2_clients_office_name_address_and_contact_details(nl: str) -> None:
    client = section(nl, "### Als u klant bent")
    assert all(
        f"- {label}." in client
        for label in (
            "Naam van het kantoor",
            "Adres van het kantoor",
            "Contactgegevens van het kantoor",
        )
    )


@pytest.mark.promise("S3")
def test_S3_contact_persons_and_their_contact_details(nl: str) -> None:
    person = section(nl, "### Als u contactpersoon bent")
    assert "Een medewerker van een klant of mogelijk toekomstige klant." in person
    assert "- Naam." in person
    assert "- Contactgegevens." in person
    assert "van het kantoor waar u werkt" in person


@pytest.mark.promise("S4")
def test_S4_life_events_only_when_known_never_required(nl: str) -> None:
    person = flat(section(nl, "### Als u contactpersoon bent"))
    assert (
        "Persoonlijke gebeurtenissen (verjaardag, geboortedata van kinderen, trouwdag). "
        "Alleen als we ze kennen; nooit verplicht." in person
    )
    assert (
        "Persoonlijke gebeurtenissen vertelt u ons alleen als u dat wilt: ze zijn nooit "
        "verplicht." in person
    )


@pytest.mark.promise("S5")
def test_S5_website_registration_name_and_email_not_only_contact_persons(nl: str) -> None:
    user = section(nl, "### Als u websitegebruiker bent")
    assert "- Websiteaccount (naam en e-mailadres)." in user
    assert "dat hoeft geen contactpersoon te zijn" in user


@pytest.mark.promise("S6")
def test_S6_regular_business_and_invoices_kept_7_years_by_law(nl: str) -> None:
    client = flat(section(nl, "### Als u klant bent"))
    assert (
        "Regulier zaken doen en contact opnemen bij problemen (nodig voor de uitvoering van "
        "een overeenkomst" in client
    )
    assert "Facturen versturen en de administratie bewaren (wettelijke verplichting" in client
    assert (
        "Factuurgegevens: 7 jaar na het einde van de relatie. De belastingwet verplicht "
        "ons de administratie 7 jaar te bewaren. Daarom bewaren we ze ook als u ons vraagt ze "
        "te verwijderen." in client
    )


@pytest.mark.promise("S7")
def test_S7_newsletters_protected_area_and_wishes_portal(nl: str) -> None:
    user = section(nl, "### Als u websitegebruiker bent")
    assert "- Nieuwsbrieven sturen (met uw toestemming, die u altijd kunt intrekken" in user
    assert "- Toegang tot afgeschermde delen van de website" in user
    assert "- Toegang tot de website met openstaande wensen" in user


@pytest.mark.promise("S8")
def test_S8_personal_dates_in_the_agenda_to_congratulate(nl: str) -> None:
    person = flat(section(nl, "### Als u contactpersoon bent"))
    assert "U op geschikte momenten feliciteren" in person
    assert (
        "We zetten deze data in onze agenda, zodat we u op het juiste moment kunnen "
        "feliciteren." in person
    )


@pytest.mark.promise("S9")
def test_S9_never_shared_a_third_partys_request_needs_your_consent(nl: str) -> None:
    sharing = flat(section(nl, "## Delen we uw gegevens met anderen?"))
    assert "Nee. Praclox deelt uw gegevens nooit met andere partijen." in sharing
    assert (
        "Vraagt een andere partij ons om uw gegevens, dan nemen we altijd eerst contact "
        "met u op om uw toestemming te vragen. Zonder uw toestemming geven we niets door" in sharing
    )


@pytest.mark.promise("S10")
def test_S10_client_system_data_only_as_agreed_and_deleted_soon_after_use(nl: str) -> None:
    agreed = flat(section(nl, "## Wat doen we alleen na een afspraak vooraf?"))
    assert "Data uit systemen van klanten." in agreed
    assert (
        "Zonder een vooraf vastgelegde afspraak met uw kantoor slaan we deze data niet op" in agreed
    )
    assert "zo snel mogelijk na gebruik verwijderd" in agreed
    assert "uiterlijk 30 dagen na het gebruik van de data of het einde van de afspraak" in agreed


@pytest.mark.promise("S11")
def test_S11_the_search_portal_stores_no_searches(nl: str) -> None:
    never = flat(section(nl, "## Wat slaan we nooit op?"))
    assert (
        "Zoekopdrachten in het zoekportaal (voor relaties zoeken op internet via het "
        "zoekportaal van OthoMatic)." in never
    )
    assert "Alleen in uw browsersessie; nooit opgeslagen, net als de zoekresultaten." in never


@pytest.mark.promise("S12")
def test_S12_confidentiality_agreements_and_no_temporary_staff(nl: str) -> None:
    staff = flat(section(nl, "## Wie kan uw gegevens inzien, en hoe beveiligen we ze?"))
    assert "alleen als ze een geheimhoudingsverklaring hebben getekend" in staff
    assert (
        "We werken niet met tijdelijke krachten: al onze medewerkers hebben een "
        "langdurige relatie met Praclox." in staff
    )
    assert (
        "We kijken alleen in de data van klanten met wie we een "
        "geheimhoudingsovereenkomst hebben gesloten." in staff
    )


@pytest.mark.promise("S13")
def test_S13_screen_sharing_and_calls_recorded_only_with_prior_consent(nl: str) -> None:
    consent = flat(section(nl, "## Wat doen we alleen met uw toestemming vooraf?"))
    assert "Opname van meekijksessie of telefoongesprek." in consent
    assert "We doen dit alleen als u daar vooraf toestemming voor heeft gegeven" in consent


@pytest.mark.promise("S14")
def test_S14_applications_3_months_after_rejection_or_1_year_with_consent(nl: str) -> None:
    applicant = flat(section(nl, "### Als u sollicitant bent"))
    assert (
        "Sollicitatiegegevens: tot 3 maanden na de afwijzing van de sollicitatie, of tot "
        "1 jaar als u daarvoor toestemming geeft." in applicant
    )


@pytest.mark.promise("S15")
def test_S15_prospects_are_stored_like_clients(nl: str) -> None:
    prospect = section(nl, "### Als u mogelijk toekomstige klant bent")
    client = section(nl, "### Als u klant bent")
    office = ("Naam van het kantoor", "Adres van het kantoor", "Contactgegevens van het kantoor")
    assert "we slaan dezelfde kantoorgegevens op als van klanten" in prospect
    assert all(f"- {label}." in prospect and f"- {label}." in client for label in office)


@pytest.mark.promise("S16")
def test_S16_the_dpo_is_named_and_reachable_by_email(nl: str) -> None:
    assert (
        "Onze FG is Erik Gimbergh, bereikbaar via erik@praclox.nl. Heeft u vragen over het "
        "beheer van uw gegevens, neem dan contact op met Erik Gimbergh." in flat(nl)
    )


# -- the text follows the policy ---------------------------------------------------------


def test_changing_the_retention_period_changes_the_text(policy: Policy) -> None:
    changed = evolve_entry(policy, "retention", "applications", period=Period(weeks=4))
    text = flat(render_statement(changed, "nl"))
    assert "tot 4 weken na de afwijzing van de sollicitatie, of tot 1 jaar" in text
    assert "tot 3 maanden na de afwijzing" not in text


def test_changing_the_dpo_changes_the_text(policy: Policy) -> None:
    dpo = attrs.evolve(policy.controller.dpo, name="Jan Jansen", email="fg@example.nl")
    changed = attrs.evolve(policy, controller=attrs.evolve(policy.controller, dpo=dpo))
    text = render_statement(changed, "nl")
    assert "Onze FG is Jan Jansen, bereikbaar via fg@example.nl." in text
    assert "Erik Gimbergh" not in text


def test_without_a_dpo_the_statement_names_none(policy: Policy) -> None:
    changed = attrs.evolve(policy, controller=attrs.evolve(policy.controller, dpo=None))
    text = render_statement(changed, "nl")
    assert "FG" not in text
    assert "stuur dan een e-mail naar erik@praclox.nl" in text  # the controller's address


def test_a_recipient_replaces_never_shared(policy: Policy) -> None:
    accountant = Recipient(
        "accountant",
        Labels("onze accountant", "our accountant"),
        ("invoicing",),
        ("invoicing_records",),
        third_country="VS (modelcontractbepalingen)",
    )
    changed = attrs.evolve(policy, recipients=(accountant,))
    text = flat(render_statement(changed, "nl"))
    assert "deelt uw gegevens nooit" not in text
    assert (
        "- Onze accountant: factuurgegevens, voor facturen versturen en de administratie "
        "bewaren (buiten de Europese Economische Ruimte: VS (modelcontractbepalingen))." in text
    )


def test_a_new_purpose_and_an_anonymising_rule_appear(policy: Policy) -> None:
    survey = Purpose(
        "survey",
        Labels("tevredenheidsonderzoek", "satisfaction survey"),
        LegalBasis.CONSENT,
        ("contact_person",),
        ("person_contact",),
        consent_kind="newsletter",
    )
    changed = attrs.evolve(policy, purposes=(*policy.purposes, survey))
    changed = evolve_entry(
        changed, "retention", "contact_persons", action=RetentionAction.ANONYMISE
    )
    text = render_statement(changed, "nl")
    person = section(text, "### Als u contactpersoon bent")
    assert "- Tevredenheidsonderzoek (met uw toestemming" in person
    assert (
        "Naam en contactgegevens: tot 1 jaar na het einde van de relatie. "
        "Daarna maken we ze anoniem." in person
    )
    assert "- tevredenheidsonderzoek." in text  # listed under withdrawing consent


def test_the_statement_is_deterministic(policy: Policy, nl: str) -> None:
    assert render_statement(policy, "nl") == nl


# -- English -------------------------------------------------------------------------------


def test_the_english_statement_reads_naturally(en: str) -> None:
    text = flat(en)
    assert text.startswith("# Privacy statement of Praclox")
    assert "### If you are an applicant" in en
    assert "### If you are a contact person" in en
    assert (
        "Application data: up to 3 months after the application is rejected, or up to 1 year "
        "if you consent to that." in text
    )
    assert "No. Praclox never shares your information with other parties." in text
    assert (
        "Our Data Protection Officer is Erik Gimbergh, who can be reached at erik@praclox.nl."
        in text
    )
    assert (
        "lodge a complaint with the [Autoriteit Persoonsgegevens](https://autoriteitpersoonsgegevens.nl)"
        in text
    )


def test_both_languages_have_the_same_sections(nl: str, en: str) -> None:
    assert [line[:3] for line in nl.splitlines() if line.startswith("#")] == [
        line[:3] for line in en.splitlines() if line.startswith("#")
    ]


# -- formats, escaping, templates -----------------------------------------------------------


def test_html_is_a_complete_page_in_the_right_language(policy: Policy) -> None:
    html = render_statement(policy, "nl", "html")
    assert html.startswith('<!DOCTYPE html>\n<html lang="nl">')
    assert "<title>Privacyverklaring van Praclox</title>" in html
    assert "<h3>Als u sollicitant bent</h3>" in html
    assert '<a href="https://autoriteitpersoonsgegevens.nl">Autoriteit Persoonsgegevens</a>' in html


def test_markup_in_policy_texts_is_escaped(policy: Policy) -> None:
    nasty = "<script>alert(1)</script> *vet* [link](http://x) | pipe"
    changed = evolve_entry(policy, "relation_types", "applicant", label=Labels(nasty, nasty))
    md = render_statement(changed, "nl")
    assert "\\<script\\>alert(1)\\</script\\> \\*vet\\* \\[link\\](http://x) \\| pipe" in md
    html = render_statement(changed, "nl", "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; *vet* [link](http://x) | pipe" in html


def test_a_user_template_replaces_the_default(policy: Policy, tmp_path: Path) -> None:
    template = tmp_path / "mine.md"
    template.write_text(
        "# Privacy bij {{ controller.name }}\n\n"
        "{% for rt in relations %}- {{ rt.label|ucfirst }}: "
        "{{ rt.retention|map(attribute='period')|join_and }}\n{% endfor %}",
        encoding="utf-8",
    )
    text = render_statement(policy, "nl", template=template)
    assert text.startswith("# Privacy bij Praclox\n")
    assert "- Sollicitant: 3 maanden\n" in text
    assert "- Klant: 1 jaar, 7 jaar en 30 dagen\n" in text
    assert "Functionaris" not in text
    html = render_statement(policy, "nl", "html", template=template)
    assert "<h1>Privacy bij Praclox</h1>" in html


def test_an_html_template_is_rendered_with_autoescaping(policy: Policy, tmp_path: Path) -> None:
    template = tmp_path / "page.html"
    template.write_text("<h1>{{ controller.name }} & co</h1><p>{{ '<b>' }}</p>", encoding="utf-8")
    html = render_statement(policy, "en", "html", template=template)
    assert html == "<h1>Praclox & co</h1><p>&lt;b&gt;</p>\n"
    with pytest.raises(TemplateError, match="HTML template"):
        render_statement(policy, "en", "md", template=template)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{% for x in relations %}", "mine.md:1:"),
        ("{{ no_such_value }}", "'no_such_value' is undefined"),
    ],
)
def test_a_broken_template_is_reported(
    policy: Policy, tmp_path: Path, body: str, message: str
) -> None:
    template = tmp_path / "mine.md"
    template.write_text(body, encoding="utf-8")
    with pytest.raises(TemplateError, match=re.escape(message)):
        render_statement(policy, "nl", template=template)


def test_a_missing_template_is_reported(policy: Policy, tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read the template"):
        render_statement(policy, "nl", template=tmp_path / "missing.md")


def test_the_shipped_templates_are_data_files() -> None:
    assert default_template("nl").startswith("{#-")
    assert "Privacyverklaring van {{ controller.name }}" in default_template("nl")
    assert "Privacy statement of {{ controller.name }}" in default_template("en")
    with pytest.raises(ValueError, match="unsupported language"):
        default_template("de")


def test_unsupported_language_and_format_are_refused(policy: Policy) -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        render_statement(policy, "de")
    with pytest.raises(ValueError, match="unsupported format"):
        render_statement(policy, "nl", "pdf")


def test_the_context_escapes_texts_but_not_codes(policy: Policy) -> None:
    context = statement_context(policy, "nl", escape=lambda s: s.upper())
    contact = next(rt for rt in context["relations"] if rt.id == "contact_person")
    assert contact.label == "CONTACTPERSOON"
    assert contact.origins == ("data_subject", "employer")
    assert context["policy"] is policy


# -- words --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "nl", "en"),
    [
        ("P3M", "3 maanden", "3 months"),
        ("P1Y", "1 jaar", "1 year"),
        ("P7Y", "7 jaar", "7 years"),
        ("P1M", "1 maand", "1 month"),
        ("P4W", "4 weken", "4 weeks"),
        ("P30D", "30 dagen", "30 days"),
        ("P1Y6M", "1 jaar en 6 maanden", "1 year and 6 months"),
        (
            "P1DT1H1M1S",
            "1 dag, 1 uur, 1 minuut en 1 seconde",
            "1 day, 1 hour, 1 minute and 1 second",
        ),
        ("P0D", "0 dagen", "0 days"),
    ],
)
def test_periods_in_words(period: str, nl: str, en: str) -> None:
    assert period_words(Period.parse(period), "nl") == nl
    assert period_words(Period.parse(period), "en") == en


def test_lists_in_words() -> None:
    assert join_and(["a", "b", "c"], "nl") == "a, b en c"
    assert join_or(["a", "b"], "en") == "a or b"
    assert join_and(["a"], "en") == "a"
    assert join_or([], "nl") == ""
