"""Development sessions: ``nox -l`` lists them; ``nox -s tests`` runs the whole test suite."""

from __future__ import annotations

from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "docs", "examples"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")


def _install(session: nox.Session, *groups: str) -> None:
    deps = [d for g in groups for d in nox.project.dependency_groups(PYPROJECT, g)]
    session.install("-e", ".[all]", *deps)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (unit, integration against real servers, e2e)."""
    _install(session, "test")
    # The example third-party store: the suite runs the contract kit against it.
    session.install("-e", "examples/praclox-privacy-shelf")
    # One worker per CPU (pytest-xdist); `nox -s tests -- -n 0` runs in one process.
    session.run("pytest", "-n", "auto", *session.posargs, env={"PYTHONHASHSEED": "0"})


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff; check the layers' import rules (import-linter)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", "src", "tests", "examples", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "examples", "noxfile.py")
    # The contracts in pyproject.toml ([tool.importlinter]); the source tree is enough.
    session.run("lint-imports", env={"PYTHONPATH": str(ROOT / "src")})


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check the package with mypy --strict."""
    _install(session, "typecheck")
    session.run("mypy", "--strict", "src")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation with warnings as errors (output in docs/_build/html)."""
    _install(session, "docs")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks and write docs/performance.md (machine, date, results)."""
    _install(session)
    env = {"BENCH_POSTGRESQL": "postgresql+psycopg://root@127.0.0.1:5432/test"}
    session.run("python", "tests/bench/run.py", env=env)


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example in examples/; fails if one fails or prints a traceback."""
    _install(session)
    scripts = sorted((ROOT / "examples").glob("*.py")) + sorted(
        (ROOT / "examples").glob("*/run.py")
    )
    if not scripts:
        session.error("no examples found in examples/")
    for script in scripts:
        out = session.run("python", str(script), silent=True, env={"NO_COLOR": "1"})
        assert isinstance(out, str)
        if "Traceback (most recent call last)" in out:
            session.error(f"{script.relative_to(ROOT)} printed a traceback:\n{out}")
        session.log(f"{script.relative_to(ROOT)}: ok")


@nox.session
def documents(session: nox.Session) -> None:
    """Regenerate docs/examples (statement nl/en, register) from the shipped policy."""
    _install(session)
    out = ROOT / "docs" / "examples"
    for args, name in (
        (("statement", "--lang", "nl"), "statement-nl.md"),
        (("statement", "--lang", "en"), "statement-en.md"),
        (("register", "--format", "md", "--lang", "nl"), "register.md"),
    ):
        session.run("praclox-privacy", *args, "--out", str(out / name))
