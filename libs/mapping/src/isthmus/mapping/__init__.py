"""Pure mapping engine: flow files compiled once into callables, validation and suggestions.

Typical use::

    flows = load_flows(Path("flows"))
    flow = flows["d365-salesorder-to-s4"]
    if flow.matches(event_type, record):
        result = flow.apply(record, lookups)   # Result: target dict, or every violation
"""

from isthmus.mapping.errors import (
    ConversionError,
    EvaluationError,
    ExpressionSyntaxError,
    FlowDefinitionError,
    LookupMissError,
    MappingEngineError,
    MappingError,
    ValidationFailedError,
)
from isthmus.mapping.flow import Flow
from isthmus.mapping.loader import load_flow, load_flow_text, load_flows, load_tables
from isthmus.mapping.lookups import InMemoryLookups, LookupPort, StaticTable
from isthmus.mapping.result import Result, Violation

__all__ = [
    "ConversionError",
    "EvaluationError",
    "ExpressionSyntaxError",
    "Flow",
    "FlowDefinitionError",
    "InMemoryLookups",
    "LookupMissError",
    "LookupPort",
    "MappingEngineError",
    "MappingError",
    "Result",
    "StaticTable",
    "ValidationFailedError",
    "Violation",
    "load_flow",
    "load_flow_text",
    "load_flows",
    "load_tables",
]
