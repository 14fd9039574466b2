"""Hot reload of the flow folder: a changed folder is loaded whole, or rejected whole."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from isthmus.mapping import FlowDefinitionError, load_flows
from isthmus.transformer.core.dispatch import FlowSet
from isthmus.transformer.errors import FlowReloadError
from isthmus.transformer.metrics import TransformerMetrics

logger = logging.getLogger(__name__)


def folder_signature(directory: Path) -> str:
    """A digest of the names, sizes and modification times of every file under ``directory``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(directory)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def load_flow_set(directory: Path) -> FlowSet:
    """Load and compile every flow of ``directory``.

    Raises:
        FlowReloadError: a file is broken; the message names file, line and field.
    """
    signature = folder_signature(directory)
    try:
        flows = load_flows(directory)
    except (FlowDefinitionError, OSError) as exc:
        raise FlowReloadError(str(exc)) from exc
    return FlowSet(flows=flows, signature=signature)


class FlowRegistry:
    """Holds the flow set in service and swaps in a new one when the folder changes.

    ``current`` is read once per record; replacing the reference is atomic, so a record sees
    either the old set or the new one, never a mix.
    """

    def __init__(
        self,
        *,
        directory: Path,
        interval_s: float,
        initial: FlowSet | None = None,
        metrics: TransformerMetrics | None = None,
    ) -> None:
        self._directory = directory
        self._interval_s = interval_s
        self._metrics = metrics or TransformerMetrics.create()
        self._current = initial or load_flow_set(directory)
        self._rejected = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="flow-reloader", daemon=True)

    def current(self) -> FlowSet:
        """The flow set in service."""
        return self._current

    def start(self) -> None:
        """Check the folder every interval in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def check(self) -> bool:
        """Reload when the folder changed; True when a new set went into service."""
        signature = folder_signature(self._directory)
        if signature in (self._current.signature, self._rejected):
            return False
        try:
            loaded = load_flow_set(self._directory)
        except FlowReloadError as exc:
            self._rejected = signature
            self._metrics.flow_reload_failures.add(1)
            logger.error(
                "FLOW RELOAD REJECTED, the previous flows keep running: %s",
                exc,
                extra={"flows": self._current.versions()},
            )
            return False
        self._report(loaded)
        self._current = loaded
        self._rejected = ""
        self._metrics.flow_reloads.add(1)
        return True

    def _report(self, loaded: FlowSet) -> None:
        old, new = self._current.versions(), loaded.versions()
        changed = {fid: f"{old.get(fid)} -> {v}" for fid, v in new.items() if old.get(fid) != v}
        gone = sorted(set(old) - set(new))
        added = set(loaded.source_topics) - set(self._current.source_topics)
        logger.info("flows reloaded", extra={"changed": changed, "removed": gone})
        if added:
            logger.warning(
                "flows now trigger on topics this process does not consume (restart to add): %s",
                sorted(added),
            )

    def _watch(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.check()
            except OSError as exc:
                logger.error("flow folder unreadable, the previous flows keep running: %s", exc)
