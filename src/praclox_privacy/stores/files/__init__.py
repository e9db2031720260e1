"""The ``files`` store: one JSON document per subject in a folder, POSIX only.

Layout of the store's folder (``path`` in the settings, relative to the workspace)::

    <path>/.lock                   flock'ed: shared for reads, exclusive for changes
    <path>/subjects/<id>.json      one document per subject with at least one item
    <path>/.txn-<random>/          a transaction in progress (or left by a crash)
        <id>.json                  the staged new version of a subject's document
        COMMIT                     the commit marker: which documents to replace/delete

A change to one document is a temp file in ``subjects/`` (flushed and fsynced) renamed
over the document, then the folder is fsynced. A change to several documents stages their
new versions in a transaction folder, writes the ``COMMIT`` marker (atomically), then
renames them into place and removes the transaction folder. Whoever takes the exclusive
lock next first rolls forward any transaction with a marker and deletes any without one,
so a crash at any point leaves either the old or the new state of every document.

Subject ids are checked with :func:`~praclox_privacy.domain.check_subject_id`
before a path is built, and the resolved path must lie inside ``subjects/``.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ...domain.errors import InvalidValue
from ...hookspecs import hookimpl
from ...ports import StoreContext, StoreKind

if TYPE_CHECKING:
    from .store import FilesStore

__all__ = ["FilesSettings"]


def _non_blank(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(attribute.name, f"{value!r} must be a folder path, not blank")


@attrs.frozen
class FilesSettings:
    """Settings of a ``files`` store.

    :ivar path: the store's folder; a relative path is relative to the workspace folder.
        It is created (private to the user) when missing.
    """

    path: str = attrs.field(default="data", validator=_non_blank)


def _factory(settings: FilesSettings, context: StoreContext) -> "FilesStore":
    from .store import FilesStore

    return FilesStore.open(settings, context)


@hookimpl
def register_stores(register: Callable[[StoreKind], None]) -> None:
    """Offer the ``files`` store kind."""
    register(
        StoreKind(
            name="files",
            factory=_factory,
            settings_type=FilesSettings,
            description="One JSON document per subject in a folder; atomic, crash-safe "
            "and safe for several processes (POSIX file locks).",
        )
    )
