"""Server-side OData ``$batch``: multipart/mixed parts, change sets, answers, dialects."""

from isthmus.sandbox_kit.batch.answer import BatchAnswer, PartResponse, http_part
from isthmus.sandbox_kit.batch.dialect import DATAVERSE_V4, SAP_GATEWAY_V2, BatchDialect
from isthmus.sandbox_kit.batch.parts import BatchItem, ChangeSet, Part, parse_batch
from isthmus.sandbox_kit.batch.problems import BatchProblem, MalformedBatchError, ProblemKind
from isthmus.sandbox_kit.batch.runner import BatchRunner, BatchTarget

__all__ = [
    "DATAVERSE_V4",
    "SAP_GATEWAY_V2",
    "BatchAnswer",
    "BatchDialect",
    "BatchItem",
    "BatchProblem",
    "BatchRunner",
    "BatchTarget",
    "ChangeSet",
    "MalformedBatchError",
    "Part",
    "PartResponse",
    "ProblemKind",
    "http_part",
    "parse_batch",
]
