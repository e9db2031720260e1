"""Restrictions of processing (GDPR Art. 18) and objections (Art. 21) as pure values.

A restriction allows storage and nothing else of the categories it names (all, when
none); an objection ends the purposes it names; objecting without naming a purpose ends
every direct-marketing purpose (Art. 21(2) and (3)). :func:`refusal` says whether a use
is forbidden; :func:`check_objection` which purposes an objection may end.
"""

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from .errors import PracloxPrivacyError
from .policy import LegalBasis, Policy, Purpose
from .records import aware

__all__ = [
    "ProcessingRestricted",
    "Restriction",
    "RestrictionGround",
    "RestrictionKind",
    "check_objection",
    "refusal",
]


class ProcessingRestricted(PracloxPrivacyError):
    """A use of personal data is refused by a restriction (Art. 18) or objection (Art. 21).

    :ivar restriction: the restriction or objection that forbids it.
    """

    def __init__(self, message: str, restriction: "Restriction") -> None:
        self.restriction = restriction
        super().__init__(message)


class RestrictionKind(enum.StrEnum):
    """What limits the processing of a subject's data."""

    RESTRICTION = "restriction"
    """Art. 18: storage only, for the categories named (all, when none)."""
    OBJECTION = "objection"
    """Art. 21: the purpose named is no longer pursued for the subject."""


class RestrictionGround(enum.StrEnum):
    """The grounds of Art. 18(1) on which processing is restricted."""

    ACCURACY_CONTESTED = "accuracy_contested"
    """Art. 18(1)(a): the person contests the accuracy, while it is checked."""
    UNLAWFUL = "unlawful"
    """Art. 18(1)(b): processing is unlawful and the person wants restriction, not erasure."""
    LEGAL_CLAIMS = "legal_claims"
    """Art. 18(1)(c): no longer needed, but the person needs it for legal claims."""
    OBJECTION_PENDING = "objection_pending"
    """Art. 18(1)(d): the person objected (Art. 21(1)); pending the verification."""

    @property
    def article(self) -> str:
        """The article and point, e.g. ``Art. 18(1)(a) GDPR``."""
        return f"Art. 18(1)({'abcd'[list(RestrictionGround).index(self)]}) GDPR"


@attrs.frozen
class Restriction:
    """A restriction of processing (Art. 18) or an objection (Art. 21) of one subject.

    :ivar category: the restricted category (``None``: every category); restrictions only.
    :ivar purpose: the purpose objected to; objections only.
    :ivar reason: the Art. 18(1) ground of a restriction; for an objection, ``direct
        marketing`` or the purpose's basis.
    """

    subject_id: str
    kind: RestrictionKind = attrs.field(converter=RestrictionKind)
    started_at: datetime = attrs.field(validator=aware)
    category: str | None = None
    purpose: str | None = None
    reason: str = ""
    request_id: str | None = None
    lifted_at: datetime | None = attrs.field(default=None, validator=aware)
    id: int | None = None

    def active_at(self, now: datetime) -> bool:
        """Whether the restriction applies at ``now``."""
        return self.started_at <= now and (self.lifted_at is None or now < self.lifted_at)

    def forbids(self, policy: Policy, purpose: str, category: str | None) -> bool:
        """Return whether this forbids using ``category`` for ``purpose``.

        :param category: ``None`` means any category ``purpose`` processes.
        """
        if self.kind is RestrictionKind.OBJECTION:
            return self.purpose == purpose
        if self.category is None:
            return True
        if category is not None:
            return category == self.category
        try:
            return self.category in policy.purpose(purpose).categories
        except KeyError:
            return True

    def describe(self) -> str:
        """One sentence: what it is, since when, and on which ground."""
        since = self.started_at.isoformat()
        if self.kind is RestrictionKind.OBJECTION:
            return f"the subject objected to purpose {self.purpose!r} on {since} (GDPR Art. 21)" + (
                f", request {self.request_id}" if self.request_id else ""
            )
        what = f"category {self.category!r}" if self.category else "all of its data"
        ground = self.reason
        if ground in {g.value for g in RestrictionGround}:
            ground = f"{ground}, {RestrictionGround(ground).article}"
        return (
            f"processing of {what} is restricted since {since} ({ground}); only storage is "
            "allowed until it is lifted"
            + (f" (restriction {self.id})" if self.id is not None else "")
        )


def refusal(
    restrictions: Iterable[Restriction],
    policy: Policy,
    purpose: str,
    category: str | None,
    now: datetime,
) -> Restriction | None:
    """Return the active restriction or objection that forbids the use, or ``None``.

    Storage itself is never a use a restriction forbids: only purposes are checked here.
    """
    for restriction in restrictions:
        if restriction.active_at(now) and restriction.forbids(policy, purpose, category):
            return restriction
    return None


_OBJECTABLE = (LegalBasis.LEGITIMATE_INTEREST, LegalBasis.PUBLIC_TASK)


def _applies(purpose: Purpose, relation_types: frozenset[str]) -> bool:
    return bool(relation_types & set(purpose.relation_types))


def check_objection(
    policy: Policy, relation_types: Iterable[str], purposes: Sequence[str] = ()
) -> tuple[tuple[str, ...], list[str]]:
    """Decide which purposes an objection ends, and list every problem.

    Without ``purposes``, the objection ends every direct-marketing purpose that applies to
    the subject's relation types (Art. 21(2) and (3)). A named purpose must apply to the
    subject and be direct marketing or rest on legitimate interest or a public task
    (Art. 21(1)); processing on consent ends by withdrawing the consent, and processing
    for a contract or a legal obligation cannot be objected to.

    :returns: the purposes ended, and the problems (empty when the objection is valid).
    """
    types = frozenset(relation_types)
    problems: list[str] = []
    if not purposes:
        found = tuple(p.id for p in policy.purposes if p.direct_marketing and _applies(p, types))
        if not found:
            problems.append(
                "no direct-marketing purpose applies to relation types "
                f"{', '.join(sorted(types)) or 'none'}; name the purposes objected to"
            )
        return found, problems
    chosen: list[str] = []
    for name in purposes:
        try:
            purpose = policy.purpose(name)
        except KeyError:
            declared = ", ".join(p.id for p in policy.purposes)
            problems.append(f"unknown purpose {name!r} (declared: {declared})")
            continue
        if not _applies(purpose, types):
            problems.append(
                f"purpose {name!r} does not apply to relation types {', '.join(sorted(types))}"
            )
        elif not purpose.direct_marketing and purpose.legal_basis not in _OBJECTABLE:
            if purpose.legal_basis is LegalBasis.CONSENT:
                problems.append(
                    f"purpose {name!r} rests on consent: withdraw the consent "
                    f"{purpose.consent_kind!r} instead (GDPR Art. 7(3))"
                )
            else:
                problems.append(
                    f"purpose {name!r} rests on {purpose.legal_basis.value} "
                    f"({purpose.legal_basis.article}); GDPR Art. 21(1) allows objecting to "
                    "processing on legitimate interest or a public task, and to direct "
                    "marketing; ask for restriction (Art. 18) or erasure (Art. 17) instead"
                )
        elif name not in chosen:
            chosen.append(name)
    return tuple(chosen), problems
