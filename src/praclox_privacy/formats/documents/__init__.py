"""Documents generated from the policy, so they never drift from what is enforced (S1).

- :func:`render_statement`: the public privacy statement (Dutch or English, Markdown or
  HTML), from replaceable Jinja2 templates;
- :func:`check_transparency`: the GDPR Art. 13 and Art. 14 completeness check;
- :func:`build_register`: the GDPR Art. 30(1) record of processing activities (CSV,
  Markdown or JSON);
- :func:`fides_manifest` and :func:`dpv_document`: the policy for other tools, as an
  Ethyca Fides (fideslang) manifest and as W3C Data Privacy Vocabulary JSON-LD.

Importing this package loads no template engine; rendering does.
"""

from .art13 import ELEMENTS, Element, Finding, TransparencyReport, check_transparency
from .dpv import dpv_document
from .fides import MappingError, fides_manifest, load_mapping
from .register import Register, RegisterRow, build_register
from .statement import TemplateError, default_template, markdown_to_html, render_statement

__all__ = [
    "ELEMENTS",
    "Element",
    "Finding",
    "MappingError",
    "Register",
    "RegisterRow",
    "TemplateError",
    "TransparencyReport",
    "build_register",
    "check_transparency",
    "default_template",
    "dpv_document",
    "fides_manifest",
    "load_mapping",
    "markdown_to_html",
    "render_statement",
]
