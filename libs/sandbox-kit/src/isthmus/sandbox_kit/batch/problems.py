"""Why a ``$batch`` or one of its parts was refused, as the kit reports it to a sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProblemKind = Literal[
    "no_boundary",
    "change_set_without_boundary",
    "bad_request_line",
    "too_many_requests",
    "modifying_outside_change_set",
    "get_in_change_set",
    "unknown_content_id",
]


@dataclass(frozen=True)
class BatchProblem:
    """One problem; ``detail`` is the request count or the unknown Content-ID, where known.

    Kinds refused for the whole batch: ``no_boundary``, ``change_set_without_boundary``,
    ``bad_request_line``, ``too_many_requests``, ``modifying_outside_change_set``. Kinds that
    fail one change set or part: ``get_in_change_set``, ``unknown_content_id``.
    """

    kind: ProblemKind
    detail: str = ""


class MalformedBatchError(Exception):
    """The whole batch is refused; the sandbox answers with its own error for ``problem``."""

    def __init__(self, problem: BatchProblem) -> None:
        super().__init__(problem.kind)
        self.problem = problem
