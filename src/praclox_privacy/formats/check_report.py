"""A ``check`` report as text (a line per check) or JUnit XML (a test case per check)."""

import xml.etree.ElementTree as ET

from ..domain.findings import CheckReport, CheckStatus

__all__ = ["report_junit", "report_text"]

_MARKS = {CheckStatus.PASSED: "PASS", CheckStatus.FAILED: "FAIL", CheckStatus.SKIPPED: "SKIP"}


def report_text(report: CheckReport, diff_lines: int = 60) -> str:
    """Return the report as text: a line per check, then its problems with their S-id.

    :param diff_lines: at most this many lines of each document diff are shown.
    """
    lines = [f"praclox-privacy check: {report.source}"]
    if report.now is not None:
        lines[0] += f" at {report.now.isoformat()}"
    for r in report.results:
        lines.append(f"{_MARKS[r.status]}  {r.check:<20} {r.summary or r.title}")
        for f in r.findings:
            mark = "note" if f.ok else f.ref
            lines.append(f"      [{mark}] {f.message}")
            diff = f.details.get("diff")
            if isinstance(diff, str):
                diff_text = diff.splitlines()
                lines += [f"        {line}" for line in diff_text[:diff_lines]]
                if len(diff_text) > diff_lines:
                    lines.append(f"        ... {len(diff_text) - diff_lines} more lines")
    passed, failed, skipped = (
        report.count(CheckStatus.PASSED),
        report.count(CheckStatus.FAILED),
        report.count(CheckStatus.SKIPPED),
    )
    lines.append(
        f"{'ok' if report.ok else 'FAILED'}: {passed} passed, {failed} failed, {skipped} skipped"
    )
    return "\n".join(lines) + "\n"


def report_junit(report: CheckReport) -> str:
    """Return the report as JUnit XML: one ``<testcase>`` per check.

    A failed check has a ``<failure>`` whose ``type`` lists the promises and articles
    broken and whose text lists every problem; a skipped one has ``<skipped>``.
    """
    suite_name = "praclox-privacy check"
    tests = len(report.results)
    failures = report.count(CheckStatus.FAILED)
    skipped = report.count(CheckStatus.SKIPPED)
    counts = {
        "tests": str(tests),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
    }
    root = ET.Element("testsuites", {"name": suite_name, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": suite_name, **counts})
    if report.now is not None:
        suite.set("timestamp", report.now.isoformat())
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "source", "value": report.source})
    for r in report.results:
        case = ET.SubElement(
            suite, "testcase", {"classname": "praclox_privacy.check", "name": r.check, "time": "0"}
        )
        if r.status is CheckStatus.FAILED:
            problems = r.problems
            refs = sorted({f.ref for f in problems})
            failure = ET.SubElement(
                case, "failure", {"message": f"{r.title}: {r.summary}", "type": "; ".join(refs)}
            )
            text = []
            for f in problems:
                text.append(f"[{f.ref}] {f.message}")
                diff = f.details.get("diff")
                if isinstance(diff, str):
                    text.append(diff)
            failure.text = "\n".join(text)
        elif r.status is CheckStatus.SKIPPED:
            ET.SubElement(case, "skipped", {"message": r.summary})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{r.title} ({r.ref}): {r.summary}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
