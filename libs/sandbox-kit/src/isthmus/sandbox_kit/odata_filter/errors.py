"""The error a ``$filter`` expression that does not parse raises."""

from __future__ import annotations


class FilterSyntaxError(Exception):
    """A ``$filter`` the dialect cannot parse; ``message`` is the text the server answers with."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
