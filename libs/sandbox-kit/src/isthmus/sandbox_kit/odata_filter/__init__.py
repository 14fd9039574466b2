"""OData ``$filter``: one parser for the V4 (Dataverse) and V2 (SAP Gateway) dialects.

``parse(text, dialect=V4)`` or ``dialect=V2`` gives a tree of ``Literal``, ``Prop``,
``Compare``, ``Logical``, ``Not`` and ``Call`` nodes or raises ``FilterSyntaxError`` with the
message that server answers; ``compare`` and ``apply_function`` are the shared semantics of
operators and text functions that each emulator's evaluator builds on.
"""

from isthmus.sandbox_kit.odata_filter.dialect import V2, V4, Dialect, Messages
from isthmus.sandbox_kit.odata_filter.errors import FilterSyntaxError
from isthmus.sandbox_kit.odata_filter.functions import (
    MIRRORED,
    TEXT_FUNCTIONS,
    apply_function,
    compare,
)
from isthmus.sandbox_kit.odata_filter.parser import COMPARISONS, parse
from isthmus.sandbox_kit.odata_filter.syntax import Call, Compare, Literal, Logical, Node, Not, Prop
from isthmus.sandbox_kit.odata_filter.tokens import Token, tokenize

__all__ = [
    "COMPARISONS",
    "MIRRORED",
    "TEXT_FUNCTIONS",
    "V2",
    "V4",
    "Call",
    "Compare",
    "Dialect",
    "FilterSyntaxError",
    "Literal",
    "Logical",
    "Messages",
    "Node",
    "Not",
    "Prop",
    "Token",
    "apply_function",
    "compare",
    "parse",
    "tokenize",
]
