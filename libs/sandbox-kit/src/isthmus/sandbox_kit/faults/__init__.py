"""Fault injection shared by the emulators: the rule model, matching, and ASGI mechanics."""

from isthmus.sandbox_kit.faults.asgi import (
    LOST_ANSWER,
    ConnectionDroppedError,
    buffered_receive,
    drop_connection,
    lose_answer,
    respond,
)
from isthmus.sandbox_kit.faults.rules import (
    LATENCY,
    FaultMatch,
    FaultPolicy,
    FaultRule,
    FaultRules,
)

__all__ = [
    "LATENCY",
    "LOST_ANSWER",
    "ConnectionDroppedError",
    "FaultMatch",
    "FaultPolicy",
    "FaultRule",
    "FaultRules",
    "buffered_receive",
    "drop_connection",
    "lose_answer",
    "respond",
]
