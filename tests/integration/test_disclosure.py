"""Third-party disclosure requests (S9) with a real SMTP server on the loopback interface.

The built-in notifier (``praclox_privacy.stores.notify``) sends the person an e-mail through the
standard library's SMTP client; the server is aiosmtpd, started by a fixture on a free port.
"""

import email
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

import praclox_privacy
from helpers import Clock, append_config, free_port
from praclox_privacy.domain.errors import OperationRefused
from praclox_privacy.domain.guards import DisclosureStatus
from praclox_privacy.plugins import make_plugin_manager
from praclox_privacy.services import disclosure
from praclox_privacy.services.disclosure import DisclosureRefused
from praclox_privacy.services.workspace import Workspace

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content),
            )
        )
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def open_workspace(
    root: Path, clock: Clock, port: int | None, plugins: tuple[object, ...] = ()
) -> Workspace:
    if not (root / "praclox-privacy.toml").exists():
        Workspace.init(root)
        if port is not None:
            append_config(
                root,
                f'\n[notify.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
                'sender = "privacy@praclox.example"\ntimeout = 5\n',
            )
    pm = make_plugin_manager(load_entrypoints=False, plugins=plugins)
    ws = Workspace.open(root, plugin_manager=pm, clock=clock)
    if not ws.ledger.has_subject("jan"):
        ws.add_subject(["client"], subject_id="acme", name="Acme")
        ws.add_subject(
            ["contact_person"], subject_id="jan", organisation="acme", email="jan@acme.example"
        )
    return ws


@pytest.fixture
def ws(tmp_path: Path, clock: Clock, smtp: tuple[Inbox, int]) -> Iterator[Workspace]:
    workspace = open_workspace(tmp_path, clock, smtp[1])
    yield workspace
    workspace.close()


def actions(ws: Workspace, subject: str = "jan") -> list[str]:
    return [e.action for e in ws.audit_entries(subject) if e.action.startswith("disclosure.")]


@pytest.mark.promise("S9")
def test_S9_request_is_recorded_pending_and_the_person_is_asked_by_email(
    ws: Workspace, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    req = disclosure.request(ws, "jan", "Acme Marketing BV", ["person_contact"], "newsletter")
    assert req.status is DisclosureStatus.PENDING
    assert req.answer_by == NOW + 30 * DAY
    [(sender, recipients, message)] = inbox.messages
    assert sender == "privacy@praclox.example"
    assert recipients == ["jan@acme.example"]
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Acme Marketing BV" in body
    assert req.id in body
    assert "2026-04-01" in body
    assert actions(ws) == ["disclosure.requested", "disclosure.asked"]
    asked = ws.audit_entries("jan")[-1]
    assert asked.details["how"] == "smtp:jan@acme.example"
    assert asked.details["notifier"] == "notify"


@pytest.mark.promise("S9")
def test_S9_never_disclosed_without_consent_even_when_the_requester_retries(
    ws: Workspace, smtp: tuple[Inbox, int], clock: Clock
) -> None:
    req = disclosure.request(ws, "jan", "Acme Marketing BV", ["person_contact"], "newsletter")
    for _ in range(3):
        clock.now += DAY
        again = disclosure.request(ws, "jan", "Acme Marketing BV", ["person_contact"], "again")
        assert again.id == req.id
        assert again.status is DisclosureStatus.PENDING
        with pytest.raises(DisclosureRefused, match="pending, not consented"):
            disclosure.carry_out(ws, req.id)
    assert len(smtp[0].messages) == 1  # asked once; retries do not spam the person
    assert actions(ws).count("disclosure.retried") == 3
    assert actions(ws).count("disclosure.blocked") == 3
    assert "disclosure.disclosed" not in actions(ws)
    # A consent to another request does not cover this one.
    other = disclosure.request(ws, "jan", "Other BV", ["person_name"], "x")
    disclosure.decide(ws, other.id, True)
    with pytest.raises(DisclosureRefused):
        disclosure.carry_out(ws, req.id)


@pytest.mark.promise("S9")
def test_S9_consent_allows_only_a_manual_disclosure_and_withdrawal_stops_it(
    ws: Workspace,
) -> None:
    from praclox_privacy.services import consents

    req = disclosure.request(ws, "jan", "Acme Marketing BV", ["person_contact"], "newsletter")
    decided = disclosure.decide(ws, req.id, True, method="e-mail reply", reference="<m1@acme>")
    assert decided.status is DisclosureStatus.CONSENTED  # not disclosed: never automatic
    assert consents.is_active(ws, "jan", "disclosure", scope=req.id)
    consents.withdraw(ws, "jan", "disclosure", scope=req.id)
    with pytest.raises(DisclosureRefused, match="no active consent"):
        disclosure.carry_out(ws, req.id)
    second = disclosure.request(ws, "jan", "Acme Marketing BV", ["person_name"], "again")
    disclosure.decide(ws, second.id, True)
    done = disclosure.carry_out(ws, second.id)
    assert done.status is DisclosureStatus.DISCLOSED
    with pytest.raises(DisclosureRefused, match="already carried out"):
        disclosure.carry_out(ws, second.id)
    assert "disclosure.disclosed" in actions(ws)


@pytest.mark.promise("S9")
def test_S9_refusal_is_final(ws: Workspace) -> None:
    req = disclosure.request(ws, "jan", "Acme Marketing BV", ["person_contact"], "newsletter")
    assert disclosure.decide(ws, req.id, False).status is DisclosureStatus.REFUSED
    with pytest.raises(OperationRefused, match="is refused"):
        disclosure.decide(ws, req.id, True)
    with pytest.raises(DisclosureRefused):
        disclosure.carry_out(ws, req.id)
    assert "disclosure.refused" in actions(ws)


@pytest.mark.promise("S9")
def test_S9_silence_counts_as_refusal(ws: Workspace, clock: Clock) -> None:
    req = disclosure.request(ws, "jan", "Acme Marketing BV", ["person_contact"], "newsletter")
    clock.now = req.answer_by
    [listed] = disclosure.list_requests(ws)
    assert listed.status is DisclosureStatus.EXPIRED
    with pytest.raises(OperationRefused, match="expired"):
        disclosure.decide(ws, req.id, True)
    with pytest.raises(DisclosureRefused):
        disclosure.carry_out(ws, req.id)
    assert "disclosure.expired" in actions(ws)
    # Asking again after expiry is a new request, pending again.
    fresh = disclosure.request(ws, "jan", "Acme Marketing BV", ["person_contact"], "newsletter")
    assert fresh.id != req.id


@pytest.mark.promise("S9")
def test_S9_the_answer_time_is_configurable(tmp_path: Path, clock: Clock) -> None:
    from praclox_privacy.formats.policy import default_policy_text

    text = default_policy_text().replace('answer_within = "P30D"', 'answer_within = "P7D"')
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    Workspace.init(tmp_path, policy="policy.toml")
    ws = open_workspace(tmp_path, clock, None)
    try:
        req = disclosure.request(ws, "jan", "X", ["person_name"], "y")
        assert req.answer_by == NOW + 7 * DAY
        assert actions(ws)[-1] == "disclosure.not_asked"  # no notifier configured
    finally:
        ws.close()


class Broken:
    @praclox_privacy.hookimpl
    def ask_consent(self, request: Any) -> str:
        raise RuntimeError("pager is down")


@pytest.mark.promise("S9")
def test_S9_failing_notifier_leaves_the_request_pending_and_is_audited(
    tmp_path: Path, clock: Clock, smtp: tuple[Inbox, int]
) -> None:
    ws = open_workspace(tmp_path, clock, smtp[1], plugins=(Broken(),))
    try:
        req = disclosure.request(ws, "jan", "Acme", ["person_contact"], "why")
        assert req.status is DisclosureStatus.PENDING
        assert len(smtp[0].messages) == 1  # the other notifier still ran
        failed = [e for e in ws.audit_entries("jan") if e.action == "disclosure.ask_failed"]
        assert "pager is down" in failed[0].details["error"]
        with pytest.raises(DisclosureRefused):
            disclosure.carry_out(ws, req.id)
    finally:
        ws.close()


@pytest.mark.promise("S9")
def test_S9_unreachable_mail_server_leaves_the_request_pending(
    tmp_path: Path, clock: Clock
) -> None:
    ws = open_workspace(tmp_path, clock, free_port())  # nothing listens there
    try:
        req = disclosure.request(ws, "jan", "Acme", ["person_contact"], "why")
        assert disclosure.list_requests(ws)[0].status is DisclosureStatus.PENDING
        assert actions(ws) == [
            "disclosure.requested",
            "disclosure.ask_failed",
            "disclosure.not_asked",
        ]
        with pytest.raises(DisclosureRefused):
            disclosure.carry_out(ws, req.id)
        # A retry asks again, since nobody was reached.
        disclosure.request(ws, "jan", "Acme", ["person_contact"], "why")
        assert actions(ws).count("disclosure.ask_failed") == 2
    finally:
        ws.close()


def test_a_person_without_an_email_address_is_not_asked_silently(
    ws: Workspace, smtp: tuple[Inbox, int]
) -> None:
    disclosure.request(ws, "acme", "Bank", ["office_identity"], "loan")
    assert smtp[0].messages == []
    failed = [e for e in ws.audit_entries("acme") if e.action == "disclosure.ask_failed"]
    assert "no e-mail address" in failed[0].details["error"]


def test_invalid_requests_are_refused(ws: Workspace) -> None:
    with pytest.raises(OperationRefused, match="not declared"):
        disclosure.request(ws, "jan", "X", ["passwords"], "y")
    with pytest.raises(OperationRefused, match="unknown subject"):
        disclosure.request(ws, "nobody", "X", ["person_name"], "y")
    with pytest.raises(OperationRefused, match="requester and a reason"):
        disclosure.request(ws, "jan", " ", ["person_name"], "y")
