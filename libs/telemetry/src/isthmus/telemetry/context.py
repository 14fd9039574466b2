"""The correlation id of the work in progress, carried in a context variable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_correlation_id: ContextVar[str | None] = ContextVar("isthmus_correlation_id", default=None)


def current_correlation_id() -> str | None:
    """The correlation id set by the innermost ``correlation`` block, if any."""
    return _correlation_id.get()


@contextmanager
def correlation(correlation_id: str | None) -> Iterator[None]:
    """Mark every log line written inside the block with ``correlation_id``."""
    token = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _correlation_id.reset(token)
