"""praclox-privacy: a privacy statement turned into enforced code.

The public API: the domain vocabulary (:mod:`praclox_privacy.domain`), the policy file
functions and the ``hookimpl`` marker for plugins (the store contract is in
:mod:`praclox_privacy.ports`, workspaces in :mod:`praclox_privacy.services.workspace`). Importing
this package loads neither the CLI (click) nor any store backend (SQLAlchemy).
"""

from .domain import *  # noqa: F403 - the domain's public names are the package's
from .domain import __all__ as _domain_all
from .formats.policy import (
    default_policy,
    default_policy_text,
    dump_policy,
    load_policy,
    load_policy_file,
    make_converter,
    parse_policy,
)
from .hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = [
    *_domain_all,
    "__version__",
    "default_policy",
    "default_policy_text",
    "dump_policy",
    "hookimpl",
    "load_policy",
    "load_policy_file",
    "make_converter",
    "parse_policy",
]
