"""BACKWARD compatibility of schemas/ against a git baseline: ``python -m isthmus.schemas.compat``.

Every named type that exists both now and at the baseline revision (default: the previous commit
on main) must be able to read data written with its baseline version. New types pass; removed
types are listed but do not fail (topics naming them fail the catalogue test instead).
Exit status: 0 compatible, 1 incompatible changes, 2 the check could not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from isthmus.schemas.catalogue import VERSIONS_FOLDER, SchemaCatalogue
from isthmus.schemas.errors import SchemaError
from isthmus.schemas.resolution import Incompatibility, incompatibilities

DEFAULT_BASELINE = "main~1"


class BaselineError(SchemaError):
    """The baseline revision or its schemas could not be read from git."""


@dataclass(frozen=True)
class CompatibilityReport:
    """The outcome of comparing a catalogue with its baseline."""

    problems: dict[str, list[Incompatibility]] = field(default_factory=dict)
    compared: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def compatible(self) -> bool:
        """True when no schema breaks BACKWARD compatibility."""
        return not self.problems

    def lines(self) -> list[str]:
        """One line per incompatibility, naming schema, field and rule."""
        return [f"{name}: {problem}" for name, found in self.problems.items() for problem in found]


def check_backward(*, baseline: SchemaCatalogue, current: SchemaCatalogue) -> CompatibilityReport:
    """Check that each current schema (reader) reads data written with its baseline (writer)."""
    report = CompatibilityReport(
        added=sorted(set(current.names) - set(baseline.names)),
        removed=sorted(set(baseline.names) - set(current.names)),
    )
    for name in sorted(set(current.names) & set(baseline.names)):
        report.compared.append(name)
        found = incompatibilities(reader=current.get(name).parsed, writer=baseline.get(name).parsed)
        if found:
            report.problems[name] = found
    return report


def archive_versions(
    *, baseline: SchemaCatalogue, current: SchemaCatalogue, folder: Path
) -> list[Path]:
    """Store the baseline version of every changed schema in ``folder`` (``schemas/versions``).

    Consumers load these as writer schemas, so records written before a change stay readable in
    single-object encoding. Returns the files written (existing ones are kept).
    """
    written = []
    for name in sorted(set(current.names) & set(baseline.names)):
        old = baseline.get(name)
        if old.fingerprint == current.get(name).fingerprint:
            continue
        path = folder / f"{name}.{old.fingerprint:016x}.avsc"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(json.loads(old.text), indent=2) + "\n", encoding="utf-8")
            written.append(path)
    return written


def baseline_sources(*, repo: Path, revision: str, folder: str = "schemas") -> dict[str, str]:
    """``{path below folder: text}`` of every current ``.avsc`` at ``revision`` (not ``versions/``).

    Raises:
        BaselineError: git failed or the revision does not exist.
    """
    if _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}") is None:
        raise BaselineError(f"revision {revision!r} does not exist in {repo}")
    listing = _git(repo, "ls-tree", "-r", "--name-only", revision, "--", folder) or ""
    sources = {}
    for path in listing.splitlines():
        relative = path.removeprefix(folder).lstrip("/")
        if path.endswith(".avsc") and not relative.startswith(f"{VERSIONS_FOLDER}/"):
            text = _git(repo, "show", f"{revision}:{path}")
            if text is None:
                raise BaselineError(f"cannot read {path} at {revision}")
            sources[relative] = text
    return sources


def _git(repo: Path, *args: str) -> str | None:
    result = subprocess.run(  # noqa: S603 - fixed git argv, no shell
        ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, as developers run it
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check from the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m isthmus.schemas.compat", description=__doc__)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare to")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="git checkout")
    parser.add_argument("--schemas", default="schemas", help="schema folder inside the checkout")
    parser.add_argument(
        "--archive",
        action="store_true",
        help=f"when compatible, store changed schemas' baseline versions in {VERSIONS_FOLDER}/",
    )
    args = parser.parse_args(argv)
    try:
        current = SchemaCatalogue.load(args.repo / args.schemas)
        try:
            sources = baseline_sources(repo=args.repo, revision=args.baseline, folder=args.schemas)
        except BaselineError as exc:
            print(f"no baseline ({exc}); every schema counts as new")
            sources = {}
        baseline = SchemaCatalogue.from_sources(sources)
    except SchemaError as exc:
        print(f"schemas-check could not run: {exc}", file=sys.stderr)
        return 2
    report = check_backward(baseline=baseline, current=current)
    status = _print(report, args.baseline)
    if status == 0 and args.archive:
        folder = args.repo / args.schemas / VERSIONS_FOLDER
        for path in archive_versions(baseline=baseline, current=current, folder=folder):
            print(f"archived {path}")
    return status


def _print(report: CompatibilityReport, revision: str) -> int:
    for name in report.removed:
        print(f"removed since {revision}: {name}")
    for line in report.lines():
        print(f"INCOMPATIBLE {line}", file=sys.stderr)
    summary = (
        f"{len(report.compared)} schemas compared with {revision}, {len(report.added)} new, "
        f"{len(report.removed)} removed"
    )
    if not report.compatible:
        print(f"BACKWARD compatibility broken in {len(report.problems)} schemas; {summary}")
        return 1
    print(f"all schemas BACKWARD compatible; {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
