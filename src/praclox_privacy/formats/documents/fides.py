"""The policy as an Ethyca Fides manifest (fideslang resources).

One ``system`` with a privacy declaration per purpose (its data categories, data use,
data subjects, legal basis and retention period), the ``organization`` with the
controller and the DPO, and the custom ``data_category``, ``data_use`` and
``data_subject`` keys the mapping uses where fideslang's default taxonomy has none.
The mapping from policy ids to taxonomy keys is data (``documents/mappings.toml``);
``--mapping FILE`` replaces entries of it. An id mapped nowhere gets a custom key
(``user.<id>`` for a category, the id for a subject, a key under a parent chosen by the
legal basis for a purpose).

The manifest is plain data; fideslang itself is only needed to validate it.
"""

import json
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from ...domain.errors import PracloxPrivacyError
from ...domain.policy import DataCategory, LegalBasis, Policy, Purpose
from .register import build_register

__all__ = ["MappingError", "fides_manifest", "load_mapping", "manifest_text"]

_LEGAL_BASIS = {
    LegalBasis.CONSENT: "Consent",
    LegalBasis.CONTRACT: "Contract",
    LegalBasis.LEGAL_OBLIGATION: "Legal obligations",
    LegalBasis.VITAL_INTERESTS: "Vital interests",
    LegalBasis.PUBLIC_TASK: "Public interest",
    LegalBasis.LEGITIMATE_INTEREST: "Legitimate interests",
}

_USE_PARENT = {
    LegalBasis.CONSENT: "functional.service",
    LegalBasis.CONTRACT: "essential.service",
    LegalBasis.LEGAL_OBLIGATION: "essential.legal_obligation",
    LegalBasis.VITAL_INTERESTS: "essential",
    LegalBasis.PUBLIC_TASK: "essential",
    LegalBasis.LEGITIMATE_INTEREST: "operations",
}

_KINDS = ("data_subject", "data_use", "data_category")


class MappingError(PracloxPrivacyError):
    """A mapping file cannot be read or has the wrong shape."""


def _default_mapping_text() -> str:
    return resources.files(__package__).joinpath("mappings.toml").read_text("utf-8")


def load_mapping(path: str | Path | None = None) -> dict[str, Any]:
    """Return the id-to-vocabulary mapping: the shipped one, updated from ``path``.

    :param path: a TOML file shaped like ``documents/mappings.toml``; its entries replace
        the shipped ones, id by id.
    :raises MappingError: when the file cannot be read or is not valid TOML.
    """
    data = tomllib.loads(_default_mapping_text())
    if path is None:
        return data
    try:
        extra = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read the mapping: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(extra) - {"fides", "dpv"}
    if unknown:
        raise MappingError(f"{path}: unknown tables {sorted(unknown)} (expected fides, dpv)")
    _merge(data, extra, str(path))
    return data


def _merge(base: dict[str, Any], extra: dict[str, Any], where: str) -> None:
    for key, value in extra.items():
        target = base.get(key)
        if isinstance(value, dict):
            if target is None:
                target = base[key] = {}
            if not isinstance(target, dict):
                raise MappingError(f"{where}: {key} must not be a table")
            _merge(target, value, f"{where}.{key}")
        elif isinstance(target, dict):
            raise MappingError(f"{where}: {key} must be a table")
        else:
            base[key] = value


def _keys(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def slug(text: str) -> str:
    """Return ``text`` as a fides key: lower case letters, digits and ``_``."""
    key = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return key or "controller"


def fides_manifest(
    policy: Policy,
    mapping: dict[str, Any] | None = None,
    system_key: str | None = None,
) -> dict[str, Any]:
    """Return the policy as a Fides manifest (resource type to list of resources).

    :param mapping: from :func:`load_mapping`; the shipped mapping by default.
    :param system_key: the system's fides key; by default the controller's name
        followed by ``_privacy``.
    """
    fides = (mapping if mapping is not None else load_mapping()).get("fides", {})
    maps = {kind: fides.get(kind, {}) for kind in _KINDS}
    descriptions = {kind: dict(fides.get("custom", {}).get(kind, {})) for kind in _KINDS}
    custom: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in _KINDS}
    c = policy.controller
    org_key = slug(c.name)
    system = system_key or f"{org_key}_privacy"

    def use(key: str, name: str, description: str | None = None) -> str:
        return _custom(custom, descriptions, "data_use", key, name, description)

    def subject_keys(id: str) -> list[str]:
        rt = next((r for r in policy.relation_types if r.id == id), None)
        name = rt.label.en if rt else id
        if id in maps["data_subject"]:
            keys = _keys(maps["data_subject"][id])
        else:
            keys = [id]
            descriptions["data_subject"].setdefault(id, name)
        for key in keys:
            _custom(custom, descriptions, "data_subject", key, name)
        return keys

    def category_keys(cat: DataCategory) -> list[str]:
        if cat.id in maps["data_category"]:
            keys = _keys(maps["data_category"][cat.id])
        else:
            keys = [f"user.{cat.id}"]
            descriptions["data_category"].setdefault(keys[0], cat.label.en)
        for key in keys:
            _custom(custom, descriptions, "data_category", key, cat.label.en)
        return keys

    def use_key(p: Purpose) -> str:
        if p.id in maps["data_use"]:
            return use(_keys(maps["data_use"][p.id])[0], p.label.en)
        parent = "marketing.communications" if p.direct_marketing else _USE_PARENT[p.legal_basis]
        key = f"{parent}.{p.id}"
        descriptions["data_use"].setdefault(key, p.label.en)
        return use(key, p.label.en)

    cats = {cat.id: cat for cat in policy.categories}
    limits = {row.purpose_id: row.erasure_time_limits for row in build_register(policy, "en").rows}
    declarations = []
    for p in policy.purposes:
        categories: list[str] = []
        for cid in p.categories:
            if cid in cats:
                categories += [k for k in category_keys(cats[cid]) if k not in categories]
        subjects: list[str] = []
        for rid in p.relation_types:
            subjects += [k for k in subject_keys(rid) if k not in subjects]
        recipients = [r for r in policy.recipients if p.id in r.purposes]
        shared = [
            k
            for r in recipients
            for cid in r.categories
            if cid in cats
            for k in category_keys(cats[cid])
        ]
        declaration: dict[str, Any] = {
            "name": p.label.en,
            "data_use": use_key(p),
            "data_categories": categories,
            "data_subjects": subjects,
            "legal_basis_for_processing": _LEGAL_BASIS[p.legal_basis],
            "flexible_legal_basis_for_processing": False,
            "retention_period": "; ".join(limits[p.id]),
            "data_shared_with_third_parties": bool(recipients),
            "shared_categories": list(dict.fromkeys(shared)),
        }
        if recipients:
            declaration["third_parties"] = "; ".join(r.label.en for r in recipients)
        declarations.append(declaration)

    transfers = list(policy.third_country_transfers) + [
        f"{r.label.en}: {r.third_country}" for r in policy.recipients if r.third_country
    ]
    system_resource: dict[str, Any] = {
        "fides_key": system,
        "organization_fides_key": org_key,
        "name": f"{c.name} privacy policy",
        "description": f"The processing of personal data by {c.name}, generated from its "
        "praclox-privacy policy.",
        "system_type": "Application",
        "privacy_declarations": declarations,
        "responsibility": ["Controller"],
        "legal_name": c.name,
        "processes_personal_data": True,
        "does_international_transfers": bool(transfers),
        "uses_profiling": policy.statement.automated_decisions is not None,
        "data_security_practices": "; ".join(m.en for m in policy.security_measures) or None,
    }
    if c.address:
        system_resource["legal_address"] = c.address
    if c.dpo is not None:
        system_resource["dpo"] = c.dpo.email
    if transfers:
        system_resource["legal_basis_for_transfers"] = transfers
    organization: dict[str, Any] = {
        "fides_key": org_key,
        "name": c.name,
        "controller": {"name": c.name, "address": c.address, "email": c.email, "phone": ""},
    }
    if c.dpo is not None:
        organization["data_protection_officer"] = {
            "name": c.dpo.name,
            "address": "",
            "email": c.dpo.email,
            "phone": "",
        }
    manifest: dict[str, Any] = {"organization": [organization], "system": [system_resource]}
    for kind in _KINDS:
        if custom[kind]:
            manifest[kind] = [
                {**entry, "organization_fides_key": org_key}
                for _, entry in sorted(custom[kind].items())
            ]
    return manifest


def _custom(
    custom: dict[str, dict[str, dict[str, Any]]],
    descriptions: dict[str, dict[str, str]],
    kind: str,
    key: str,
    name: str,
    description: str | None = None,
) -> str:
    """Define ``key`` as a custom resource when the mapping says it is one."""
    if key in descriptions[kind] and key not in custom[kind]:
        entry: dict[str, Any] = {
            "fides_key": key,
            "name": name,
            "description": description or descriptions[kind][key],
        }
        if kind != "data_subject":
            parent = key.rpartition(".")[0]
            entry["parent_key"] = parent or None
        custom[kind][key] = entry
    return key


def manifest_text(manifest: dict[str, Any], fmt: str = "json") -> str:
    """Return a manifest as JSON or YAML text (YAML needs PyYAML, part of the fides extra).

    :raises MappingError: for YAML when PyYAML is not installed.
    """
    if fmt == "yaml":
        try:
            import yaml
        except ImportError:  # pragma: no cover - PyYAML comes with fideslang
            raise MappingError(
                "YAML output needs PyYAML: pip install 'praclox-privacy[fides]'"
            ) from None
        text: str = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
        return text
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
