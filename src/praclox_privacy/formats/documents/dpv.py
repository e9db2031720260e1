"""The policy as W3C Data Privacy Vocabulary (DPV) JSON-LD.

Each purpose becomes a ``dpv:PersonalDataHandling`` (also typed ``dpv:Process``, its
name since DPV 2.0) with its purpose, legal basis, personal data, data subjects, data
controller, storage conditions (retention periods as ``xsd:duration``), recipients,
data sources and the security measures. Every policy entry is a concept of its own,
labelled in Dutch and English, with the broader DPV concepts from the mapping
(``documents/mappings.toml``). The ``@context`` is inline, so the document parses
without fetching anything.
"""

import json
from typing import Any

from ...domain.policy import DataOrigin, Labels, LegalBasis, Policy
from .fides import load_mapping, slug
from .words import retention_phrase

__all__ = ["CONTEXT", "dpv_document", "dpv_text"]

CONTEXT: dict[str, str] = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "dct": "http://purl.org/dc/terms/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
"""The JSON-LD context's prefixes."""

_BASIS = {
    LegalBasis.CONSENT: ("dpv:Consent", "eu-gdpr:A6-1-a"),
    LegalBasis.CONTRACT: ("dpv:Contract", "eu-gdpr:A6-1-b"),
    LegalBasis.LEGAL_OBLIGATION: ("dpv:LegalObligation", "eu-gdpr:A6-1-c"),
    LegalBasis.VITAL_INTERESTS: ("dpv:VitalInterest", "eu-gdpr:A6-1-d"),
    LegalBasis.PUBLIC_TASK: ("dpv:PublicInterest", "eu-gdpr:A6-1-e"),
    LegalBasis.LEGITIMATE_INTEREST: ("dpv:LegitimateInterest", "eu-gdpr:A6-1-f"),
}

_ORIGIN = {
    DataOrigin.DATA_SUBJECT: "dpv:DataSubject",
    DataOrigin.EMPLOYER: "dpv:ThirdParty",
    DataOrigin.PUBLIC_SOURCES: "dpv:PublicDataSource",
    DataOrigin.THIRD_PARTY: "dpv:ThirdParty",
}


def _labels(labels: Labels) -> list[dict[str, str]]:
    return [{"@value": labels.nl, "@language": "nl"}, {"@value": labels.en, "@language": "en"}]


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def dpv_document(
    policy: Policy, mapping: dict[str, Any] | None = None, base: str | None = None
) -> dict[str, Any]:
    """Return the policy as a DPV JSON-LD document (``@context`` and ``@graph``).

    :param mapping: from :func:`~praclox_privacy.formats.documents.load_mapping`.
    :param base: the IRI prefix of the policy's own concepts; by default
        ``urn:praclox-privacy:<controller>:``.
    """
    dpv = (mapping if mapping is not None else load_mapping()).get("dpv", {})
    c = policy.controller
    base = base or f"urn:praclox-privacy:{slug(c.name)}:"
    graph: list[dict[str, Any]] = []

    def node(kind: str, id: str) -> str:
        return f"{base}{kind}:{id}"

    controller = node("controller", slug(c.name))
    controller_node: dict[str, Any] = {
        "@id": controller,
        "@type": ["dpv:DataController", "dpv:Organisation"],
        "foaf:name": c.name,
        "foaf:mbox": _ref(f"mailto:{c.email}"),
    }
    if c.dpo is not None:
        dpo = node("dpo", slug(c.dpo.name))
        controller_node["dpv:hasDataProtectionOfficer"] = _ref(dpo)
        graph.append(
            {
                "@id": dpo,
                "@type": "dpv:DataProtectionOfficer",
                "foaf:name": c.dpo.name,
                "foaf:mbox": _ref(f"mailto:{c.dpo.email}"),
            }
        )
    graph.append(controller_node)

    for rt in policy.relation_types:
        graph.append(
            {
                "@id": node("data-subject", rt.id),
                "@type": "dpv:DataSubject",
                "rdfs:label": _labels(rt.label),
                "skos:broader": [_ref(x) for x in dpv.get("data_subject", {}).get(rt.id, [])],
            }
        )
    for cat in policy.categories:
        graph.append(
            {
                "@id": node("personal-data", cat.id),
                "@type": "dpv:PersonalData",
                "rdfs:label": _labels(cat.label),
                "skos:broader": [_ref(x) for x in dpv.get("data_category", {}).get(cat.id, [])],
            }
        )
    for p in policy.purposes:
        graph.append(
            {
                "@id": node("purpose", p.id),
                "@type": "dpv:Purpose",
                "rdfs:label": _labels(p.label),
                "skos:broader": [_ref(x) for x in dpv.get("purpose", {}).get(p.id, [])],
            }
        )
    for r in policy.recipients:
        graph.append(
            {
                "@id": node("recipient", r.id),
                "@type": ["dpv:Recipient", "dpv:ThirdParty"],
                "rdfs:label": _labels(r.label),
            }
        )
    measures = []
    for index, m in enumerate(policy.security_measures):
        iri = node("measure", str(index + 1))
        measures.append(_ref(iri))
        graph.append({"@id": iri, "@type": "dpv:OrganisationalMeasure", "rdfs:label": _labels(m)})
    rules = {}
    for rule in policy.retention:
        iri = node("retention", rule.id)
        rules[rule.id] = iri
        condition: dict[str, Any] = {
            "@id": iri,
            "@type": ["dpv:StorageDuration", "dpv:StorageDeletion"],
            "dpv:hasDuration": {"@value": str(rule.period), "@type": "xsd:duration"},
            "rdfs:label": [
                {"@value": retention_phrase(policy, rule, lang), "@language": lang}
                for lang in ("nl", "en")
            ],
        }
        if rule.consent_extension is not None:
            condition["rdfs:comment"] = (
                f"Up to {rule.consent_extension.up_to} with consent "
                f"'{rule.consent_extension.consent_kind}'."
            )
        graph.append(condition)

    rts = {rt.id: rt for rt in policy.relation_types}
    cats = {cat.id: cat for cat in policy.categories}
    for p in policy.purposes:
        basis = [_ref(b) for b in _BASIS[p.legal_basis]]
        if p.legitimate_interest is not None:
            interest = node("legitimate-interest", p.id)
            basis.append(_ref(interest))
            graph.append(
                {
                    "@id": interest,
                    "@type": ["dpv:LegalBasis", "dpv:LegitimateInterest"],
                    "rdfs:label": _labels(p.legitimate_interest),
                }
            )
        storage = [
            _ref(rules[r.id])
            for r in policy.retention
            if set(r.categories) & set(p.categories)
            and set(r.relation_types) & set(p.relation_types)
        ]
        ephemeral = [c for c in p.categories if c in cats and cats[c].ephemeral]
        sources = sorted(
            {_ORIGIN[o] for rid in p.relation_types if rid in rts for o in rts[rid].origins}
        )
        handling: dict[str, Any] = {
            "@id": node("processing", p.id),
            "@type": ["dpv:PersonalDataHandling", "dpv:Process"],
            "dct:title": _labels(p.label),
            "dpv:hasPurpose": _ref(node("purpose", p.id)),
            "dpv:hasLegalBasis": basis,
            "dpv:hasPersonalData": [_ref(node("personal-data", cid)) for cid in p.categories],
            "dpv:hasDataSubject": [_ref(node("data-subject", rid)) for rid in p.relation_types],
            "dpv:hasDataController": _ref(controller),
            "dpv:hasStorageCondition": storage,
            "dpv:hasRecipient": [
                _ref(node("recipient", r.id)) for r in policy.recipients if p.id in r.purposes
            ],
            "dpv:hasDataSource": [_ref(s) for s in sources],
            "dpv:hasTechnicalOrganisationalMeasure": measures,
        }
        if ephemeral:
            handling["rdfs:comment"] = (
                f"Not stored: {', '.join(cats[c].label.en for c in ephemeral)}."
            )
        graph.append(handling)
    return {"@context": CONTEXT, "@graph": graph}


def dpv_text(document: dict[str, Any]) -> str:
    """Return a DPV document as JSON-LD text."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
