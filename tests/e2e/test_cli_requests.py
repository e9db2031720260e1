"""`praclox-privacy request ...`: every right from the command line, answers checked in
Dutch and English, deadlines moved with `--now`, and OpenDSR files in and out."""

import csv
import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from helpers import ok, run, show, write_items
from praclox_privacy.services.workspace import Workspace

NOW = "2026-03-02T10:00:00+01:00"
COLLECTED = datetime(2025, 1, 10, tzinfo=UTC)
UUID = "3f0b6c1e-8d2a-4c1b-9e7f-2a6d5c4b3a21"


def refused(*args: str | Path) -> Result:
    result = run(*args)
    assert result.exit_code == 1, result.output
    return result


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Client ``acme`` (relation ended 1 June 2025, two invoices) with contact person
    ``jan`` (also a website user), and website user ``web``."""
    root = tmp_path / "ws"
    ok("init", root)
    ok("subject", "add", "--relation", "client", "--id", "acme", "--name", "Acme BV", "-w", root)
    ok(
        "subject", "add", "--relation", "contact_person", "--relation", "website_user",
        "--id", "jan", "--organisation", "acme", "--email", "jan@example.org", "-w", root,
    )  # fmt: skip
    ok("subject", "add", "--relation", "website_user", "--id", "web", "-w", root)
    ok(
        "subject",
        "event",
        "acme",
        "relation_ended",
        "--at",
        "2025-06-01T00:00:00+00:00",
        "-w",
        root,
    )
    rows = [
        ("acme", "invoicing_records", "invoice-2025-001", "EUR 1200"),
        ("acme", "office_address", "city", "Utrecht"),
        ("jan", "person_name", "name", "Jan <b>Jansen</b>"),
        ("jan", "life_events", "birthday", "1980-02-29"),
        ("jan", "website_account", "email", "jan@example.org"),
        ("web", "website_account", "email", "web@example.org"),
    ]
    items = write_items(tmp_path / "items.jsonl", [(*row, COLLECTED) for row in rows])
    ok("data", "import", items, "-w", root)
    return root


def new(root: Path, kind: str, *identity: str, now: str = NOW) -> str:
    return ok("request", "new", "--type", kind, *identity, "--now", now, "-w", root).stdout.strip()


def verified(root: Path, kind: str, subject_id: str, now: str = NOW) -> str:
    request_id = new(root, kind, "--subject", subject_id, now=now)
    out = ok("request", "verify", request_id, "--by", "Erik", "--now", now, "-w", root).stdout
    assert out.strip() == f"{request_id}: verified by Erik; subject {subject_id}"
    return request_id


# -- access and portability: GDPR Art. 15 and 20 -----------------------------------------------


def test_art15_nothing_is_exported_before_the_requester_is_verified(root: Path) -> None:
    request_id = new(root, "access", "--email", "JAN@example.org")
    result = refused("request", "access", "jan", "-w", root)
    assert "no verified access or portability request for subject 'jan'" in result.stderr
    assert result.stdout == ""
    result = refused("request", "access", "jan", "--request", request_id, "-w", root)
    assert f"request {request_id} is not verified" in result.stderr


def test_art15_access_html_in_dutch(root: Path) -> None:
    request_id = new(root, "access", "--email", "JAN@example.org")
    ok("request", "verify", request_id, "--by", "Erik", "-w", root)
    out = root.parent / "inzage.html"
    result = ok(
        "request", "access", "jan", "--format", "html", "--lang", "nl", "--out", out,
        "--now", NOW, "-w", root,
    )  # fmt: skip
    assert result.stdout == f"wrote {out}: 4 items of jan\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    html = out.read_text(encoding="utf-8")
    for text in (
        '<html lang="nl">',
        "<title>Uw gegevens bij Praclox</title>",
        f"Dit overzicht beantwoordt uw verzoek {request_id} van 2 maart 2026 "
        "(inzage, artikel 15 AVG).",
        "U staat bij ons geregistreerd als: contactpersoon en websitegebruiker.",
        "Jan &lt;b&gt;Jansen&lt;/b&gt;",
        "tot 1 maand na het einde van de relatie",
        "niemand",
        "gerechtvaardigd belang: een persoonlijke zakelijke relatie onderhouden",
        "Uw verzoeken",
        "afgehandeld",
        "onze functionaris voor gegevensbescherming, Erik Gimbergh",
    ):
        assert text in html, text
    assert "<b>Jansen</b>" not in html


def test_art15_access_html_in_english(root: Path) -> None:
    verified(root, "access", "jan")
    html = ok(
        "request", "access", "jan", "--format", "html", "--lang", "en", "--now", NOW, "-w", root
    ).stdout
    for text in (
        '<html lang="en">',
        "Your data held by Praclox",
        "(access, Art. 15 GDPR)",
        "You are registered with us as: contact person and website user.",
        "up to 1 month after the relationship ends",
        "nobody",
        "legitimate interest: maintaining a personal business relationship",
        "Contact our Data Protection Officer, Erik Gimbergh",
    ):
        assert text in html, text


def test_art20_portability_as_json_and_csv(root: Path) -> None:
    verified(root, "portability", "jan")
    data = json.loads(ok("request", "access", "jan", "--lang", "en", "-w", root).stdout)
    assert data["format"] == "praclox-privacy/access-report"
    assert data["request"]["type"] == "portability"
    assert data["stores"] == {"main": 4}
    birthday = next(i for i in data["items"] if i["field"] == "birthday")
    assert birthday["value"] == "1980-02-29"
    assert birthday["legal_bases"] == ["legitimate_interest"]
    assert birthday["recipients"] == []
    assert birthday["erase_at"] is None
    assert birthday["retention"] == "up to 1 month after the relationship ends"
    verified(root, "portability", "web")
    text = ok("request", "access", "web", "--format", "csv", "-w", root).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["section"], r["field"], r["value"]) for r in rows][:1] == [
        ("item", "email", "web@example.org")
    ]
    assert rows[-1]["section"] == "request"


# -- erasure: GDPR Art. 17 -----------------------------------------------------------------


@pytest.mark.promise("S6")
def test_art17_S6_erasure_keeps_invoices_and_tells_why_in_dutch(root: Path) -> None:
    request_id = verified(root, "erasure", "acme")
    out = ok("request", "erase", "acme", "--lang", "nl", "--now", NOW, "-w", root).stdout
    assert out.splitlines()[:3] == [
        "Verwijdering van uw gegevens (artikel 17 AVG)",
        "",
        f"Op uw verzoek {request_id} hebben wij op 2 maart 2026 2 gegevens over u verwijderd.",
    ]
    assert "De volgende gegevens moeten wij volgens de wet nog bewaren" in out
    assert (
        "- factuurgegevens: invoice-2025-001 (in main): De belastingwet verplicht ons de "
        "administratie 7 jaar te bewaren. Grondslag: Algemene wet inzake rijksbelastingen, "
        "art. 52 (fiscale bewaarplicht van 7 jaar). Wij verwijderen dit op 1 juni 2032."
    ) in out
    assert "De contactpersonen van dit kantoor (jan) zijn afzonderlijke personen" in out
    assert "Wij hebben uw gegevens aan niemand verstrekt" in out
    shown = json.loads(show("acme", "--format", "json", root=root).stdout)
    assert [i["field"] for i in shown["items"]["main"]] == ["invoice-2025-001"]
    jan = json.loads(show("jan", "--format", "json", root=root).stdout)
    assert len(jan["items"]["main"]) == 4  # S3: the contact person stays


@pytest.mark.promise("S6")
def test_art17_S6_erasure_in_english_and_as_json(root: Path) -> None:
    verified(root, "erasure", "acme")
    data = json.loads(ok("request", "erase", "acme", "--format", "json", "-w", root).stdout)
    assert data["done"] is True
    assert data["erased_count"] == 2
    assert [k["field"] for k in data["kept"]] == ["invoice-2025-001"]
    assert data["contact_persons_kept"] == ["jan"]
    assert data["ledger_kept"] is True
    verified(root, "erasure", "acme")
    out = ok("request", "erase", "acme", "--lang", "en", "--now", NOW, "-w", root).stdout
    assert "there was no data left to erase" in out
    assert (
        "- invoicing records: invoice-2025-001 (in main): Dutch tax law obliges us to keep the "
        "accounts for 7 years. Legal ground: Algemene wet inzake rijksbelastingen, art. 52 "
        "(fiscale bewaarplicht van 7 jaar). We will erase it on 1 June 2032."
    ) in out
    assert "We keep only the reference of your file" in out


def test_art17_nothing_is_erased_before_verification(root: Path) -> None:
    new(root, "erasure", "--subject", "jan")
    result = refused("request", "erase", "jan", "-w", root)
    assert "no verified erasure request for subject 'jan'" in result.stderr
    assert "nothing was exported, erased or changed" in result.stderr


# -- rectification: GDPR Art. 16 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("nl", "Op uw verzoek {id} hebben wij uw naam: name gecorrigeerd."),
        ("en", "At your request {id} we corrected your name: name."),
    ],
)
def test_art16_rectification(root: Path, lang: str, sentence: str) -> None:
    request_id = verified(root, "rectification", "jan")
    out = ok(
        "request", "rectify", "jan", "person_name", "name", "Jan Jansen", "--lang", lang,
        "-w", root,
    ).stdout  # fmt: skip
    assert out.splitlines() == [
        f"{request_id}: person_name/name in main",
        sentence.format(id=request_id),
    ]
    shown = json.loads(show("jan", "--format", "json", root=root).stdout)
    assert {i["field"]: i["value"] for i in shown["items"]["main"]}["name"] == "Jan Jansen"


# -- restriction: GDPR Art. 18 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "restricted", "lifted"),
    [
        (
            "nl",
            "Vanaf 2 maart 2026 gebruiken wij uw persoonlijke gebeurtenissen (verjaardag, "
            "geboortedata van kinderen, trouwdag) niet meer, behalve om het te bewaren",
            "De beperking 1 is op 5 maart 2026 opgeheven.",
        ),
        (
            "en",
            "From 2 March 2026 we no longer use your personal life events (birthday, children's "
            "birth dates, wedding date), other than to store it",
            "Restriction 1 was lifted on 5 March 2026.",
        ),
    ],
)
def test_art18_restriction_refuses_use_until_lifted(
    root: Path, lang: str, restricted: str, lifted: str
) -> None:
    out = ok(
        "request", "restrict", "jan", "--ground", "accuracy_contested", "--category",
        "life_events", "--lang", lang, "--now", NOW, "-w", root,
    ).stdout  # fmt: skip
    assert out.startswith("restriction 1 (request ")
    assert restricted in out
    result = refused("request", "usable", "jan", "congratulations", "--now", NOW, "-w", root)
    assert "restricted since" in result.stderr
    assert "only storage is allowed" in result.stderr
    ok("request", "usable", "jan", "client_relationship", "--now", NOW, "-w", root)
    listed = ok("request", "restrictions", "jan", "--now", NOW, "-w", root).stdout
    assert "life_events" in listed
    assert "active" in listed
    later = "2026-03-05T12:00:00+01:00"
    assert ok("request", "lift", "1", "--lang", lang, "--now", later, "-w", root).stdout == (
        lifted + "\n"
    )
    ok("request", "usable", "jan", "congratulations", "--now", later, "-w", root)


# -- objection: GDPR Art. 21 --------------------------------------------------------------


@pytest.mark.promise("S7")
@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        (
            "nl",
            "Vanaf 2 maart 2026 gebruiken wij uw gegevens niet meer voor: nieuwsbrieven sturen "
            "(artikel 21 AVG). Uw overige gegevens en doelen blijven ongewijzigd.",
        ),
        (
            "en",
            "From 2 March 2026 we no longer use your data for: sending newsletters "
            "(Art. 21 GDPR). Your other data and purposes are unchanged.",
        ),
    ],
)
def test_art21_S7_newsletter_objection_ends_only_the_newsletter(
    root: Path, lang: str, sentence: str
) -> None:
    out = ok("request", "object", "jan", "--lang", lang, "--now", NOW, "-w", root).stdout
    assert out.splitlines() == ["objection 1: newsletter", sentence]
    result = refused("request", "usable", "jan", "newsletter", "-w", root)
    assert "objected to purpose 'newsletter'" in result.stderr
    for purpose in ("protected_area", "wishes_portal"):
        ok("request", "usable", "jan", purpose, "-w", root)
    ok("request", "usable", "web", "newsletter", "-w", root)


def test_art21_an_objection_that_the_law_does_not_allow_is_refused(root: Path) -> None:
    result = refused("request", "object", "jan", "--purpose", "client_relationship", "-w", root)
    assert "rests on contract" in result.stderr


# -- the register and its deadlines: GDPR Art. 12(3) -------------------------------------


def test_art12_an_overdue_request_shows_in_list_overdue(root: Path) -> None:
    request_id = new(root, "access", "--email", "jan@example.org", now="2026-03-02T10:00:00")
    assert ok("request", "list", "--overdue", "--now", "2026-04-02T10:00", "-w", root).stdout == (
        "no overdue requests\n"
    )
    out = ok("request", "list", "--overdue", "--now", "2026-04-02T10:01", "-w", root).stdout
    assert out.startswith(f"{request_id}  access ")
    assert "due 2026-04-02" in out
    assert out.rstrip().endswith("OVERDUE")
    data = json.loads(
        ok(
            "request", "list", "--overdue", "--now", "2026-04-03", "--format", "json", "-w", root
        ).stdout
    )
    assert [(r["id"], r["overdue"]) for r in data] == [(request_id, True)]
    assert data[0]["identities"] == [{"kind": "email", "value": "jan@example.org", "format": "raw"}]
    out = ok(
        "request", "extend", request_id, "--months", "2", "--reason", "many requests",
        "--now", "2026-03-20", "-w", root,
    ).stdout  # fmt: skip
    assert out.strip() == f"{request_id}: due 2026-06-02T10:00:00+02:00"
    assert (
        "no overdue requests"
        in ok("request", "list", "--overdue", "--now", "2026-05-01", "-w", root).stdout
    )
    assert "(extended)" in ok("request", "list", "--now", "2026-05-01", "-w", root).stdout
    assert (
        request_id in ok("request", "list", "--overdue", "--now", "2026-06-03", "-w", root).stdout
    )


def test_art12_a_late_extension_is_refused(root: Path) -> None:
    request_id = new(root, "access", "--subject", "jan")
    result = refused(
        "request", "extend", request_id, "--months", "1", "--reason", "late",
        "--now", "2026-05-01", "-w", root,
    )  # fmt: skip
    assert "within the first month" in result.stderr


def test_request_new_needs_an_identity(root: Path) -> None:
    result = run("request", "new", "--type", "access", "-w", root)
    assert result.exit_code == 2
    assert "give the requester's --email or --subject" in result.output
    result = run("request", "new", "--type", "access", "--email", "nope", "-w", root)
    assert result.exit_code == 2
    assert "'nope' is not an e-mail address" in result.output


def test_request_show_and_cancel(root: Path) -> None:
    request_id = new(root, "erasure", "--email", "jan@example.org")
    ok("request", "cancel", request_id, "--reason", "withdrawn by the person", "-w", root)
    out = ok("request", "show", request_id, "-w", root).stdout
    assert "cancelled" in out
    assert "identity email (raw): jan@example.org" in out
    assert '"reason": "withdrawn by the person"' in out
    refused("request", "verify", request_id, "--by", "Erik", "-w", root)


# -- OpenDSR ------------------------------------------------------------------------------


def opendsr(kind: str = "access") -> dict[str, Any]:
    return {
        "subject_request_id": UUID,
        "subject_request_type": kind,
        "submitted_time": "2026-03-01T09:00:00Z",
        "subject_identities": [
            {
                "identity_type": "email",
                "identity_value": "jan@example.org",
                "identity_format": "raw",
            }
        ],
    }


def test_opendsr_intake_status_and_completion(root: Path, tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(opendsr()), encoding="utf-8")
    status = json.loads(ok("request", "intake", path, "--now", NOW, "-w", root).stdout)
    assert status == {
        "controller_id": "Praclox",
        "subject_request_id": UUID,
        "request_status": "pending",
        "expected_completion_time": "2026-04-01T09:00:00Z",
        "received_time": "2026-03-01T09:00:00Z",
        "api_version": "1.0",
    }
    ok("request", "verify", UUID, "--by", "Erik", "-w", root)
    ok("request", "access", "jan", "-w", root)
    done = json.loads(ok("request", "status", UUID, "-w", root).stdout)
    assert done["request_status"] == "completed"
    assert done["results_count"] == 4


def test_opendsr_intake_from_standard_input(root: Path) -> None:
    status = json.loads(
        ok("request", "intake", "-", "-w", root, input=json.dumps(opendsr("erasure"))).stdout
    )
    assert status["request_status"] == "pending"


def test_opendsr_a_malformed_file_lists_every_problem(root: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    bad = opendsr("deletion") | {"subject_request_id": "123", "extra": True}
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = refused("request", "intake", path, "-w", root)
    assert result.stderr.splitlines() == [
        f"{path}: 3 problems",
        f"  {path}: extra: unknown key",
        f"  {path}: subject_request_id: '123' is not a lower-case UUID v4",
        f"  {path}: subject_request_type: 'deletion' is not one of 'access', 'portability', "
        "'erasure'",
    ]
    assert ok("request", "list", "-w", root).stdout == "no requests\n"


def test_the_cli_and_the_api_register_the_same_request(root: Path) -> None:
    request_id = verified(root, "access", "web")
    ok("request", "access", "web", "-w", root)
    with Workspace.open(root) as ws:
        from praclox_privacy.services.requests import get_request

        found = get_request(ws, request_id)
    assert found.status.value == "completed"
    assert found.result == {"results_count": 1, "stores": {"main": 1}}
