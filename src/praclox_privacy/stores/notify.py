"""The built-in notifier: asks a person for consent to a disclosure by e-mail (S9).

A plugin like any other (entry point ``notify``), implementing the ``ask_consent`` hook
with the standard library's SMTP client. It is configured in the workspace's
``praclox-privacy.toml``; without a ``[notify.smtp]`` table it does nothing::

    [notify.smtp]
    host = "smtp.example.org"
    port = 587
    sender = "privacy@praclox.nl"     # default: the controller's e-mail address
    starttls = true
    username = "praclox"
    password_env = "PRACLOX_SMTP_PASSWORD"   # the password is read from this variable
    timeout = 30

The person's address is the value of an ``email`` field held about them in any store.
"""

import os
from email.message import EmailMessage
from typing import TYPE_CHECKING

import attrs

from ..domain.errors import OperationRefused
from ..formats.documents.words import category_label
from ..hookspecs import hookimpl
from ..ports import CONFIG_NAME

if TYPE_CHECKING:
    from ..domain.guards import DisclosureRequest
    from ..ports import WorkspaceView

__all__ = ["NotifyError", "SmtpSettings", "ask_consent", "compose", "smtp_settings"]


class NotifyError(OperationRefused):
    """The person could not be asked (no address known, the mail server refused, ...)."""


@attrs.frozen
class SmtpSettings:
    """The ``[notify.smtp]`` table of the workspace config."""

    host: str
    port: int = 25
    sender: str | None = None
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout: float = 30.0


def smtp_settings(ws: "WorkspaceView") -> SmtpSettings | None:
    """Return the workspace's SMTP settings, or ``None`` when there is no ``[notify.smtp]``.

    :raises WorkspaceError: naming the key at fault.
    """
    from ..domain.errors import WorkspaceError
    from ..formats.policy import structure_document

    table = ws.config.notify.get("smtp")
    if table is None:
        return None
    return structure_document(
        table, SmtpSettings, str(ws.root / CONFIG_NAME), WorkspaceError, "notify.smtp"
    )


def _address(ws: "WorkspaceView", subject_id: str) -> str | None:
    for items in ws.items_of(subject_id).values():
        for item in items:
            if item.field == "email" and "@" in item.value:
                return item.value
    return None


def compose(
    ws: "WorkspaceView", request: "DisclosureRequest", sender: str, to: str
) -> EmailMessage:
    """Return the e-mail asking the person about ``request`` (Dutch and English)."""
    policy = ws.policy
    kind = policy.consent_kind(policy.disclosure.consent_kind) if policy.disclosure else None
    data_nl = ", ".join(category_label(ws.policy, c, "nl") for c in request.data)
    data_en = ", ".join(category_label(ws.policy, c, "en") for c in request.data)
    answer_by = request.answer_by.astimezone(ws.timezone).date().isoformat()
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = (
        f"Toestemming gevraagd / consent requested: {request.requester} ({request.id})"
    )
    text_nl = kind.text.nl if kind else ""
    text_en = kind.text.en if kind else ""
    message.set_content(
        f"{request.requester} heeft {policy.controller.name} gevraagd om uw gegevens "
        f"({data_nl}).\nReden: {request.reason}\n\n"
        f"{policy.controller.name} deelt uw gegevens nooit zonder uw toestemming. "
        f"Antwoordt u niet vóór {answer_by}, dan weigeren we het verzoek.\n"
        f"Antwoord op deze e-mail met JA of NEE. ({text_nl})\n\n"
        f"---\n\n"
        f"{request.requester} asked {policy.controller.name} for your data ({data_en}).\n"
        f"Reason: {request.reason}\n\n"
        f"{policy.controller.name} never shares your data without your consent. If you do "
        f"not answer before {answer_by}, the request is refused.\n"
        f"Reply to this e-mail with YES or NO. ({text_en})\n\n"
        f"Reference: {request.id}\n"
    )
    return message


@hookimpl
def ask_consent(
    request: "DisclosureRequest", subject_id: str, workspace: "WorkspaceView"
) -> str | None:
    """Send the person an e-mail asking for consent, when ``[notify.smtp]`` is configured.

    :returns: ``"smtp:<address>"``, or ``None`` when not configured.
    :raises NotifyError: when no address is known or the server refuses the message.
    """
    import smtplib

    settings = smtp_settings(workspace)
    if settings is None:
        return None
    to = _address(workspace, subject_id)
    if to is None:
        raise NotifyError(f"no e-mail address of {subject_id!r} is held")
    sender = settings.sender or workspace.policy.controller.email
    message = compose(workspace, request, sender, to)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username:
                password = os.environ.get(settings.password_env or "", "")
                smtp.login(settings.username, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(f"could not send the e-mail via {settings.host}: {exc}") from exc
    return f"smtp:{to}"
