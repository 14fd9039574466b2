"""What differs between the OData ``$batch`` flavours the emulators speak."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchDialect:
    """How one server reads and answers a multipart/mixed ``$batch``.

    Attributes:
        answer_status: status of the outer answer when every item ran (Dataverse OData V4:
            200; SAP Gateway OData V2: 202).
        stops_at_first_failure: whether the batch ends at the first failed item unless the
            caller prefers ``odata.continue-on-error``; the outer answer then carries the failed
            item's status (Dataverse). False: every item runs and the outer status stays
            ``answer_status`` (SAP Gateway).
        modifying_outside_change_set: whether a top-level part may change data (Dataverse);
            SAP Gateway V2 rejects the whole batch when one does.
        content_id_header: the response header whose value a later ``$<Content-ID>``
            reference in a URL or JSON body stands for (Dataverse: ``OData-EntityId``);
            None: references are not resolved (SAP Gateway, as emulated).
        max_requests: how many requests one batch may hold (Dataverse: 1000); None: no limit.
        strip_body_whitespace: whether white space around a part's body is dropped
            (Dataverse); otherwise only the line breaks before the next delimiter are.
        batch_boundary_prefix: how the boundary of the answer starts.
        change_set_boundary_prefix: how the boundary of a change set in the answer starts.
    """

    answer_status: int
    stops_at_first_failure: bool
    modifying_outside_change_set: bool
    content_id_header: str | None
    max_requests: int | None
    strip_body_whitespace: bool
    batch_boundary_prefix: str
    change_set_boundary_prefix: str


DATAVERSE_V4 = BatchDialect(
    answer_status=200,
    stops_at_first_failure=True,
    modifying_outside_change_set=True,
    content_id_header="OData-EntityId",
    max_requests=1000,
    strip_body_whitespace=True,
    batch_boundary_prefix="batchresponse_",
    change_set_boundary_prefix="changesetresponse_",
)
"""Dataverse Web API (OData V4): 200, stops at the first failure, Content-ID references."""

SAP_GATEWAY_V2 = BatchDialect(
    answer_status=202,
    stops_at_first_failure=False,
    modifying_outside_change_set=False,
    content_id_header=None,
    max_requests=None,
    strip_body_whitespace=False,
    batch_boundary_prefix="batch_",
    change_set_boundary_prefix="changeset_",
)
"""SAP Gateway (OData V2): 202, every item runs, changes only inside change sets."""
