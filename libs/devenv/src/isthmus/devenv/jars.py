"""Fetch and cache the Java artifacts of the local environment with Maven."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)


class JarFetchError(RuntimeError):
    """Maven could not resolve the artifacts (no ``mvn``, or the registry refused)."""


def ensure_jars(*, pom: Path, target: Path) -> Path:
    """Copy the runtime dependencies of ``pom`` into ``target`` unless that was done for this pom.

    The folder is reused as long as the pom's content hash matches the one recorded after the last
    successful copy, so repeated runs cost nothing and a version bump refreshes the folder.

    Raises:
        JarFetchError: ``mvn`` is missing or failed; its output tail is in the message.
    """
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    marker = target / ".pom.sha256"
    if marker.is_file() and marker.read_text().strip() == digest:
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarFetchError("Maven ('mvn') is not on PATH; install Maven to fetch the Kafka jars")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    logger.info("fetching %s dependencies into %s", pom, target)
    command = [
        mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
        f"-DoutputDirectory={target}", "-DincludeScope=runtime",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-2000:]
        raise JarFetchError(f"mvn failed with exit code {result.returncode}:\n{tail}")
    marker.write_text(digest)
    return target
