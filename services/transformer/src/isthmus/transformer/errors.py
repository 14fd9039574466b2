"""Errors raised by the transformer.

TransformerError
├── PrerequisiteMissingError   an xref id the flow needs is not in xref.ids yet (retryable:
│                              the record it depends on may still be in flight)
├── FlowReloadError            a changed flow folder could not be loaded; the old flows keep
│                              running
└── XrefLoadError              the initial read of xref.ids did not finish (fatal at start)
"""

from __future__ import annotations

from isthmus.kafka.errors import RetryableError


class TransformerError(Exception):
    """Root of the errors the transformer raises itself."""


class PrerequisiteMissingError(RetryableError, TransformerError):
    """A cross reference the mapping needs is missing; retried through the retry tiers."""


class FlowReloadError(TransformerError):
    """The flow folder changed but does not load; the message names file, line and field."""


class XrefLoadError(TransformerError):
    """The cross-reference table could not be read to its end at start-up."""
