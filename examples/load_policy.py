"""Load Praclox's shipped policy, check it, and decide retention for one applicant."""

from datetime import UTC, datetime

from praclox_privacy import Consent, Evidence, Item, Subject, check_policy, decide, default_policy

policy = default_policy()
assert policy.controller.dpo is not None
print(
    f"{policy.controller.name}: {len(policy.purposes)} purposes, DPO {policy.controller.dpo.name}"
)
assert not check_policy(policy), "the shipped policy is complete"

rejected = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
applicant = Subject("applicant-1", {"applicant"}).with_event("rejected", rejected)
cv = Item("applicant-1", "application", "cv", "cv.pdf", datetime(2026, 2, 1, tzinfo=UTC))

for now in (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 2, 9, 0, tzinfo=UTC)):
    decision = decide(cv, applicant, [], policy, now)
    print(f"{now:%Y-%m-%d}: {decision.status.value} ({decision.reason})")

consent = Consent(
    "applicant-1",
    "keep_application",
    granted_at=datetime(2026, 3, 5, tzinfo=UTC),
    evidence=Evidence("e-mail", policy.consent_kind("keep_application").text.en),
)
decision = decide(cv, applicant, [consent], policy, datetime(2026, 6, 2, 9, 0, tzinfo=UTC))
print(f"with consent: {decision.status.value} until {decision.due_at:%Y-%m-%d}")
