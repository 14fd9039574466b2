"""Where the project's local environment lives: the repository root and its ``.local`` folder."""

from __future__ import annotations

from pathlib import Path

_MARKER = Path("deploy/local/kafka/pom.xml")


def find_root(start: Path | None = None) -> Path:
    """Return the Isthmus repository root that contains ``start`` (default: the working directory).

    Raises:
        FileNotFoundError: no parent folder holds ``deploy/local/kafka/pom.xml``.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / _MARKER).is_file():
            return folder
    raise FileNotFoundError(f"no Isthmus checkout (with {_MARKER}) above {here}")


def local_dir(root: Path) -> Path:
    """The untracked folder for jars, broker data and logs."""
    path = root / ".local"
    path.mkdir(parents=True, exist_ok=True)
    return path
