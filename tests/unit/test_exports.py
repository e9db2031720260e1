"""The policy exported for other tools: a Fides manifest and DPV JSON-LD.

The Fides manifest is validated with fideslang's own models, and every taxonomy key it
references must be either in fideslang's default taxonomy or defined in the manifest.
The DPV document is parsed as JSON-LD by rdflib and queried as RDF.
"""

import json
import warnings
from pathlib import Path
from typing import Any

import attrs
import pytest

from praclox_privacy import Labels, LegalBasis, Policy, Purpose, Recipient
from praclox_privacy.formats.documents import dpv_document, fides_manifest, load_mapping
from praclox_privacy.formats.documents.dpv import dpv_text
from praclox_privacy.formats.documents.fides import MappingError, manifest_text

fideslang = pytest.importorskip("fideslang")
rdflib = pytest.importorskip("rdflib")

from fideslang.default_taxonomy import DEFAULT_TAXONOMY  # noqa: E402
from fideslang.models import System, Taxonomy  # noqa: E402
from fideslang.parse import load_manifests_into_taxonomy  # noqa: E402
from fideslang.relationships import get_referenced_missing_keys  # noqa: E402

DPV = rdflib.Namespace("https://w3id.org/dpv#")
RDFS = rdflib.RDFS
DEFAULT_KEYS = {
    resource.fides_key
    for kind in ("data_category", "data_use", "data_subject", "organization")
    for resource in getattr(DEFAULT_TAXONOMY, kind)
}


def taxonomy_of(manifest: dict[str, Any]) -> Taxonomy:
    """Validate a manifest with fideslang; fail on any key defined nowhere."""
    taxonomy = load_manifests_into_taxonomy(manifest)
    unknown = get_referenced_missing_keys(taxonomy) - DEFAULT_KEYS
    assert not unknown, f"keys neither in the default taxonomy nor in the manifest: {unknown}"
    return taxonomy


def with_new_entries(policy: Policy) -> Policy:
    """The policy plus a purpose and a recipient no mapping knows."""
    survey = Purpose(
        "survey",
        Labels("tevredenheidsonderzoek", "satisfaction survey"),
        LegalBasis.LEGITIMATE_INTEREST,
        ("contact_person",),
        ("person_contact",),
        legitimate_interest=Labels("onze dienst verbeteren", "improving our service"),
    )
    accountant = Recipient(
        "accountant",
        Labels("onze accountant", "our accountant"),
        ("invoicing",),
        ("invoicing_records",),
        third_country="US",
    )
    return attrs.evolve(policy, purposes=(*policy.purposes, survey), recipients=(accountant,))


# -- Fides ---------------------------------------------------------------------------------


def test_the_fides_manifest_validates_with_fideslang(policy: Policy) -> None:
    manifest = fides_manifest(policy)
    taxonomy = taxonomy_of(manifest)
    [system] = taxonomy.system
    assert isinstance(system, System)
    assert system.fides_key == "praclox_privacy"
    assert len(system.privacy_declarations) == len(policy.purposes)
    assert system.dpo == "erik@praclox.nl"
    assert system.does_international_transfers is False
    assert system.uses_profiling is False
    [organization] = taxonomy.organization
    assert organization.data_protection_officer is not None
    assert organization.data_protection_officer.name == "Erik Gimbergh"


def test_declarations_map_to_fideslang_taxonomy_keys(policy: Policy) -> None:
    manifest = fides_manifest(policy)
    declarations = {d["name"]: d for d in manifest["system"][0]["privacy_declarations"]}
    recruitment = declarations["assessing your application"]
    assert recruitment["data_use"] == "employment.recruitment"
    assert recruitment["data_subjects"] == ["job_applicant"]
    assert recruitment["legal_basis_for_processing"] == "Contract"
    assert "user.contact.email" in recruitment["data_categories"]
    newsletter = declarations["sending newsletters"]
    assert newsletter["data_use"] == "marketing.communications.email"
    assert newsletter["legal_basis_for_processing"] == "Consent"
    talent = declarations["keeping your details for a possible future vacancy"]
    assert talent["retention_period"] == (
        "application data (applicant): up to 3 months after the application is rejected, "
        "or up to 1 year with consent"
    )
    assert not any(d["data_shared_with_third_parties"] for d in declarations.values())


def test_custom_keys_are_defined_under_their_parents(policy: Policy) -> None:
    manifest = fides_manifest(policy)
    custom = {entry["fides_key"]: entry for entry in manifest["data_category"]}
    assert custom["user.demographic.life_events"]["parent_key"] == "user.demographic"
    assert "user.demographic.life_events" not in DEFAULT_KEYS
    subjects = {entry["fides_key"] for entry in manifest["data_subject"]}
    assert subjects == {"contact_person", "website_user"}
    uses = {entry["fides_key"] for entry in manifest["data_use"]}
    assert uses <= {
        "operations.congratulations",
        "essential.service.operations.support.recording",
        "employment.recruitment.talent_pool",
    }
    assert not (uses | subjects | set(custom)) & DEFAULT_KEYS


def test_unmapped_ids_get_custom_keys_and_recipients_are_shared(policy: Policy) -> None:
    manifest = fides_manifest(with_new_entries(policy))
    taxonomy_of(manifest)
    declarations = {d["name"]: d for d in manifest["system"][0]["privacy_declarations"]}
    assert declarations["satisfaction survey"]["data_use"] == "operations.survey"
    invoicing = declarations["sending invoices and keeping the accounts"]
    assert invoicing["data_shared_with_third_parties"] is True
    assert invoicing["third_parties"] == "our accountant"
    assert invoicing["shared_categories"] == ["user.financial"]
    assert manifest["system"][0]["does_international_transfers"] is True


def test_a_mapping_file_replaces_entries(policy: Policy, tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text('[fides.data_use]\nnewsletter = "marketing.communications"\n', encoding="utf-8")
    manifest = fides_manifest(policy, load_mapping(path), system_key="crm")
    taxonomy_of(manifest)
    assert manifest["system"][0]["fides_key"] == "crm"
    uses = {d["name"]: d["data_use"] for d in manifest["system"][0]["privacy_declarations"]}
    assert uses["sending newsletters"] == "marketing.communications"
    assert uses["assessing your application"] == "employment.recruitment"  # kept


@pytest.mark.parametrize(
    ("text", "message"),
    [("[fides", "not valid TOML"), ("[other]\n", "unknown tables"), ("fides = 1\n", "table")],
)
def test_a_bad_mapping_file_is_reported(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=message):
        load_mapping(path)


def test_the_manifest_as_yaml_and_json(policy: Policy) -> None:
    yaml = pytest.importorskip("yaml")
    manifest = fides_manifest(policy)
    assert yaml.safe_load(manifest_text(manifest, "yaml")) == manifest
    assert json.loads(manifest_text(manifest, "json")) == manifest


# -- DPV -----------------------------------------------------------------------------------


def graph_of(document: dict[str, Any]) -> Any:
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph internally.
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return rdflib.Graph().parse(data=dpv_text(document), format="json-ld")


def test_the_dpv_export_parses_as_json_ld(policy: Policy) -> None:
    document = dpv_document(policy)
    assert document["@context"]["dpv"] == "https://w3id.org/dpv#"
    graph = graph_of(document)
    handlings = set(graph.subjects(rdflib.RDF.type, DPV.PersonalDataHandling))
    assert len(handlings) == len(policy.purposes)
    for handling in handlings:
        for prop in ("hasPurpose", "hasLegalBasis", "hasPersonalData", "hasDataSubject"):
            assert graph.value(handling, DPV[prop]) is not None, prop
        assert graph.value(handling, DPV.hasDataController) is not None


def test_dpv_retention_legal_basis_and_labels(policy: Policy) -> None:
    graph = graph_of(dpv_document(policy))
    talent = rdflib.URIRef("urn:praclox-privacy:praclox:processing:talent_pool")
    assert DPV.Consent in set(graph.objects(talent, DPV.hasLegalBasis))
    [condition] = graph.objects(talent, DPV.hasStorageCondition)
    duration = graph.value(condition, DPV.hasDuration)
    assert str(duration) == "P3M"
    assert duration.datatype == rdflib.XSD.duration
    assert (condition, rdflib.RDF.type, DPV.StorageDuration) in graph
    applicant = rdflib.URIRef("urn:praclox-privacy:praclox:data-subject:applicant")
    labels = {(str(o), o.language) for o in graph.objects(applicant, RDFS.label)}
    assert labels == {("sollicitant", "nl"), ("applicant", "en")}
    controller = graph.value(talent, DPV.hasDataController)
    assert graph.value(controller, DPV.hasDataProtectionOfficer) is not None
    assert list(graph.subject_objects(DPV.hasRecipient)) == []  # S9: nobody


def test_dpv_recipients_and_base_iri(policy: Policy) -> None:
    graph = graph_of(dpv_document(with_new_entries(policy), base="https://praclox.nl/privacy#"))
    invoicing = rdflib.URIRef("https://praclox.nl/privacy#processing:invoicing")
    [recipient] = graph.objects(invoicing, DPV.hasRecipient)
    assert (recipient, rdflib.RDF.type, DPV.Recipient) in graph
    survey = rdflib.URIRef("https://praclox.nl/privacy#processing:survey")
    bases = set(graph.objects(survey, DPV.hasLegalBasis))
    assert DPV.LegitimateInterest in bases
    assert len(bases) == 3  # dpv:, eu-gdpr: and the interest itself
