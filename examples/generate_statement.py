"""Generate the privacy statement and the Art. 30 register from the policy (S1)."""

from praclox_privacy import default_policy
from praclox_privacy.formats.documents import build_register, check_transparency, render_statement

policy = default_policy()

report = check_transparency(policy)  # GDPR Art. 13 and 14
print(f"Art. 13/14 complete: {report.ok} ({len(report.findings)} elements)")

statement = render_statement(policy, lang="nl")  # Markdown; fmt="html" for HTML
print(f"Dutch statement: {len(statement.splitlines())} lines; {statement.splitlines()[0]}")

english = render_statement(policy, lang="en", fmt="html")
print(f"English HTML statement: {len(english)} characters")

register = build_register(policy, lang="en")
print(f"Art. 30 register: {len(register.rows)} processing activities, e.g.:")
for row in register.rows[:3]:
    print(f"  {row.purpose} ({row.legal_basis})")
