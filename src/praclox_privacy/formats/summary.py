"""Plain-text views of a policy, for people reading a terminal."""

from ..domain.policy import COLLECTED, Policy, RetentionRule

__all__ = ["describe_rule", "policy_summary"]


def describe_rule(policy: Policy, rule: RetentionRule, lang: str = "en") -> str:
    """Describe a retention rule in one line, e.g. ``P3M after rejected (or P1Y with ...)``."""
    events = []
    for name in rule.after:
        try:
            events.append(policy.event(name).label.get(lang))
        except KeyError:
            events.append("collection" if name == COLLECTED else name)
    after = " / ".join(events)
    text = f"{rule.action.value} {rule.period} after {after}"
    if rule.consent_extension is not None:
        ext = rule.consent_extension
        text += f"; up to {ext.up_to} with consent '{ext.consent_kind}'"
    if rule.legal_hold is not None:
        text += f"; legal hold: {rule.legal_hold.law}"
    return text


def policy_summary(policy: Policy, lang: str = "en") -> str:
    """Return a readable overview: per relation type, each category's purposes and rules."""
    c = policy.controller
    lines = [f"Controller: {c.name} <{c.email}> ({c.country})"]
    if c.dpo is not None:
        lines.append(f"DPO: {c.dpo.name} <{c.dpo.email}>")
    recipients = ", ".join(r.id for r in policy.recipients) or "none"
    lines.append(f"Recipients: {recipients}")
    for rt in policy.relation_types:
        lines += ["", f"{rt.label.get(lang)} [{rt.id}] ({rt.kind.value})"]
        for cat_id in rt.categories:
            try:
                cat = policy.category(cat_id)
            except KeyError:
                continue
            flags = [
                f for f, on in (("ephemeral", cat.ephemeral), ("optional", cat.optional)) if on
            ]
            flag_text = f" ({', '.join(flags)})" if flags else ""
            lines.append(f"  {cat.label.get(lang)} [{cat.id}]{flag_text}")
            for purpose in policy.purposes_for(rt.id, cat_id):
                lines.append(f"    purpose: {purpose.id} ({purpose.legal_basis.article})")
            for rule in policy.rules_for(rt.id, cat_id):
                lines.append(f"    retention: {describe_rule(policy, rule, lang)}")
    return "\n".join(lines)
