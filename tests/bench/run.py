"""Run every benchmark and write docs/performance.md (``nox -s bench``).

Targets come from the issues; they are reported here, never asserted in unit tests.
"""

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def run(script: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(HERE / script)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    started = datetime.now(UTC)
    imp = run("bench_import.py")
    lib = imp["sqlite_library"]
    base = imp["sqlite_baseline"]
    assert isinstance(lib, dict)
    assert isinstance(base, dict)
    ratio = lib["seconds"] / base["seconds"]
    lines = [
        "# Performance",
        "",
        "Written by `nox -s bench` (tests/bench/); numbers from one run, not asserted in tests.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        "",
        "## Import into the SQL store (issue: pluggable stores)",
        "",
        f"{imp['items']:,} items (10 per subject) from a JSON Lines file with "
        "`Workspace.import_file` (parsing, validation against the policy, upsert in batches, "
        "one transaction, audit entry), against a plain `sqlite3` `executemany` of the same "
        "rows from the same file into the same schema. Each side runs in its own process; "
        "peak memory is that process's maximum resident set size.",
        "",
        "| run | seconds | items/s | peak memory (MB) |",
        "|---|---:|---:|---:|",
    ]
    for key, label in (
        ("sqlite_library", "praclox-privacy, SQLite"),
        ("sqlite_baseline", "plain sqlite3 executemany"),
        ("postgresql_library", "praclox-privacy, PostgreSQL"),
    ):
        row = imp.get(key)
        if isinstance(row, dict):
            lines.append(
                f"| {label} | {row['seconds']:.2f} | "
                f"{int(imp['items']) / row['seconds']:,.0f} | {row['peak_mb']:.0f} |"
            )
    lines += [
        "",
        f"Ratio to the plain import: **{ratio:.2f}x** (target: at most 2x). Peak memory: "
        f"**{lib['peak_mb']:.0f} MB** (target: under 200 MB; the file is streamed).",
        "",
    ]
    (ROOT / "docs" / "performance.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
