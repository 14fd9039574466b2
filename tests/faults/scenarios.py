"""The fault matrix: each scenario's injection and how long it holds, and the run under load.

``ISTHMUS_FAULTS=full`` runs every automated scenario with longer windows (``make
test-faults``); the default is the scaled-down set ``make test`` runs. Scenarios the harness
does not automate yet are pending rows of the report, never silently absent.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from isthmus.devenv.demo import PRODUCTS
from isthmus.devenv.ports import free_port
from isthmus.devenv.system import D365_TENANT_ID

from .checker import Verdict, check, pending
from .ledger import Injected
from .system import FaultSystem

Action = Callable[[FaultSystem], None]


def _nothing(_system: FaultSystem) -> None:
    return None


@dataclass(frozen=True)
class Scenario:
    """One row of the matrix: inject, hold, clear."""

    number: int
    name: str
    inject: Action
    clear: Action = _nothing
    hold_s: float = 0.0
    variant: str = ""

    @property
    def title(self) -> str:
        return f"{self.number}{self.variant}. {self.name}"

    @property
    def order(self) -> tuple[int, str]:
        """Where the row sits in the report."""
        return (self.number, self.variant)


@dataclass(frozen=True)
class Scale:
    """How much load a run makes and how long it waits for recovery."""

    orders: int
    interval_s: float
    hold_factor: float
    liveness_budget_s: float


SCALES = {
    "ci": Scale(orders=12, interval_s=1.0, hold_factor=0.5, liveness_budget_s=240.0),
    "full": Scale(orders=60, interval_s=1.0, hold_factor=1.0, liveness_budget_s=300.0),
}


def scale() -> Scale:
    """The scale of this run (``ISTHMUS_FAULTS``: ``ci`` by default, or ``full``)."""
    return SCALES[os.environ.get("ISTHMUS_FAULTS", "ci")]


def _s4_unavailable(system: FaultSystem) -> None:
    system.s4.admin.add_fault(kind="error", status=503, path="*/sap/opu/odata/*")


def _clear_faults(system: FaultSystem) -> None:
    system.s4.admin.clear_faults()
    system.d365.admin.clear_faults()


def _throttled(system: FaultSystem) -> None:
    """Dataverse's service protection scaled to 40 requests per 10 s and 4 at once for the
    integration's user; S/4's API gateway answers 429 with Retry-After to a third of calls."""
    system.d365.admin.set_throttling(
        requests=40, execution_ms=1_000_000_000, window_s=10, concurrency=4
    )
    system.s4.admin.add_fault(kind="throttle", path="*/sap/opu/odata/*", rate=0.3, retry_after_s=2)


def _unthrottled(system: FaultSystem) -> None:
    system.d365.admin.set_throttling(
        requests=10_000_000, execution_ms=1_000_000_000, window_s=300, concurrency=52
    )
    system.s4.admin.clear_faults()


def _answers_lost(system: FaultSystem) -> None:
    """Half of the writes are applied and their answer lost (a 504 from the gateway)."""
    system.s4.admin.add_fault(
        kind="lost_answer",
        path="*/API_SALES_ORDER_SRV/*",
        method="POST",
        rate=0.5,
        gateway_status=504,
    )
    system.d365.admin.add_fault(
        kind="lost_answer", path="/api/data/v9.2/*", method="PATCH", rate=0.5, gateway_status=504
    )


def _tokens_short(system: FaultSystem) -> None:
    """Entra tokens live 5 s and every token issued so far is expired; the token endpoint is
    down for the hold; S/4 forgets its CSRF tokens on a fifth of the writes."""
    system.d365.admin.set_token_lifetime(5)
    system.d365.admin.expire_tokens()
    system.d365.admin.add_fault(kind="status", status=503, path=f"/{D365_TENANT_ID}/oauth2/*")
    system.s4.admin.add_fault(kind="csrf_expiry", path="*/sap/opu/odata/*", rate=0.2)


def _tokens_back(system: FaultSystem) -> None:
    system.d365.admin.clear_faults()
    system.d365.admin.set_token_lifetime(3599)
    system.s4.admin.clear_faults()


def _rewound(system: FaultSystem) -> None:
    """The sap-sink's group is moved back 5 orders: it reads and sends them again."""
    system.stop_service("sap-sink")
    system.rewind_group("sap-sink", "s4.salesorder.commands", by=5)
    system.start_service("sap-sink")


def _sent_again(system: FaultSystem) -> None:
    """Dataverse sends the last five order Creates the ingress took once more, byte for byte."""
    taken = [
        d
        for d in system.d365.admin.deliveries()
        if d["entity"] == "salesorder" and d["message"] == "Create" and d["succeeded"]
    ]
    for delivery in taken[-5:]:
        system.d365.admin.redeliver(delivery["id"])


def _poisoned(system: FaultSystem) -> None:
    """Poison records on the transformer's and the sap-sink's input, a business-invalid order,
    and a publish request above the ingress's size limit."""
    run = uuid.uuid4().hex[:8]
    for topic in ("d365.salesorder.events", "s4.salesorder.commands"):
        for kind, value in _POISON.items():
            key = f"poison-{kind}-{topic}-{run}"
            system.produce(topic, key, value)
            system.injected.append(Injected(event_id=key, value=value))
    invalid = system.driver.create_order(lines=[(PRODUCTS[0], 0)])
    system.injected.append(Injected(event_id=invalid.order_id, value=None))
    key = f"poison-oversize-{run}"
    answer = system.publish("d365.salesorder.events", key, b"[" + b"0," * 600_000 + b"0]")
    assert answer.status_code == 413, answer.text
    system.injected.append(Injected(event_id=key, value=b""))


_POISON = {
    "not-avro": b'{"this": "is json, not avro"}',
    "wrong-magic": b"\x07" + bytes(range(16)),
    "unknown-fingerprint": b"\xc3\x01" + bytes(8) + b"\x02x",
    "unknown-schema-id": b"\x00" + (999_999).to_bytes(4, "big") + b"\x02x",
}


def _second_instances(system: FaultSystem) -> None:
    """A second transformer and a second sap-sink join their groups mid-run."""
    system.start_service("transformer-2", of="transformer", env=_second_ports("TRANSFORMER"))
    system.start_service("sap-sink-2", of="sap-sink", env=_second_ports("SAP_SINK"))


def _second_instances_gone(system: FaultSystem) -> None:
    system.stop_service("sap-sink-2")
    system.stop_service("transformer-2")


def _second_ports(service: str) -> dict[str, str]:
    """A second replica's own probe port and replica id (its transactional id, if any)."""
    name = {"TRANSFORMER": "HTTP__PORT", "SAP_SINK": "SINK__HEALTH_PORT"}[service]
    return {
        f"ISTHMUS_{service}_{name}": str(free_port()),
        f"ISTHMUS_{service}_PROCESSOR__INSTANCE_ID": "1",
    }


def _second_sink_stalls(system: FaultSystem) -> None:
    """A second sap-sink joins, then freezes (SIGSTOP) past its session timeout while it holds
    partitions; the group moves its work to the first; it comes back when the hold ends."""
    system.start_service(
        "sap-sink-2",
        of="sap-sink",
        env={
            **_second_ports("SAP_SINK"),
            "ISTHMUS_SAP_SINK_PROCESSOR__CONSUMER_EXTRA": '{"session.timeout.ms": "10000", '
            '"heartbeat.interval.ms": "2000"}',
        },
    )
    time.sleep(10)
    system.signal_service("sap-sink-2", signal.SIGSTOP)


def _second_sink_resumes(system: FaultSystem) -> None:
    system.signal_service("sap-sink-2", signal.SIGCONT)
    time.sleep(10)
    system.stop_service("sap-sink-2")


_SHORT_POLL_INTERVAL = {
    "ISTHMUS_SAP_SINK_PROCESSOR__CONSUMER_EXTRA": '{"max.poll.interval.ms": "10000", '
    '"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"}'
}


def _poll_interval_overrun(system: FaultSystem) -> None:
    """The sap-sink runs with max.poll.interval.ms 10 s and S/4 takes 12 s to answer its next
    three order writes: its loop overruns the interval, the group revokes its partitions."""
    system.restart_service("sap-sink", env=_SHORT_POLL_INTERVAL)
    system.s4.admin.add_fault(
        kind="latency", path="*/API_SALES_ORDER_SRV/*", method="POST", latency_ms=12_000, count=3
    )


def _poll_interval_usual(system: FaultSystem) -> None:
    system.s4.admin.clear_faults()
    system.restart_service("sap-sink")


def _slow_network(system: FaultSystem) -> None:
    """200 ms ± 50 ms each way between the broker and the proxied services, and one chunk in
    500 ends its connection with an RST (what a lossy link becomes above TCP)."""
    system.proxy.latency_ms, system.proxy.jitter_ms = 200, 50
    system.proxy.reset_probability = 0.002


def _answers_from_broker_lost(system: FaultSystem) -> None:
    """One answer in twenty from the broker to the proxied services is lost with its
    connection: the request was delivered (a produce was written), its ack never arrives."""
    system.proxy.answer_loss_probability = 0.05


def _network_healed(system: FaultSystem) -> None:
    proxy = system.proxy
    proxy.latency_ms = proxy.jitter_ms = 0
    proxy.reset_probability = proxy.answer_loss_probability = 0.0


ORDER_SUBJECT = "d365.salesorder.events-value"
_ADDED_FIELD = {"name": "salesChannel", "doc": "Where the order was taken (added mid-run)."}
_OPTIONAL: dict[str, Any] = {**_ADDED_FIELD, "type": ["null", "string"], "default": None}


def _evolved_schemas(system: FaultSystem, field: dict[str, Any]) -> Path:
    """A copy of ``schemas/`` whose sales order event has one more top-level ``field``."""
    target = Path(tempfile.mkdtemp(prefix="isthmus-schemas-"))
    shutil.copytree(system.config.root / "schemas", target, dirs_exist_ok=True)
    path = target / "d365" / "SalesOrderEvent.avsc"
    schema = json.loads(path.read_text())
    schema["fields"].append(field)
    path.write_text(json.dumps(schema, indent=2))
    return target


def _schemas_env(service: str, directory: Path) -> dict[str, str]:
    return {f"ISTHMUS_{service}_SCHEMAS__SCHEMAS_DIR": str(directory)}


def _compatible_change(system: FaultSystem) -> None:
    """The ingress is redeployed with a sales order event that has a new optional field: it
    registers the new version (BACKWARD) and writes it; the transformer still reads the old."""
    evolved = _evolved_schemas(
        system, {**_ADDED_FIELD, "type": ["null", "string"], "default": None}
    )
    system.restart_service("ingress", env=_schemas_env("INGRESS", evolved))


def _consumers_upgraded(system: FaultSystem) -> None:
    """The transformer is redeployed with the new version too."""
    evolved = _evolved_schemas(
        system, {**_ADDED_FIELD, "type": ["null", "string"], "default": None}
    )
    system.restart_service("transformer", env=_schemas_env("TRANSFORMER", evolved))


def _incompatible_change(system: FaultSystem) -> None:
    """An incompatible version (the latest plus a required field) is refused by the registry
    with 409 and never becomes the subject's latest; records framed with a schema id the
    registry does not know are written to the transformer's input."""
    url = f"{system.config.registry_url}/subjects/{ORDER_SUBJECT}/versions"
    latest = httpx.get(f"{url}/latest", timeout=30).raise_for_status().json()
    schema = json.loads(latest["schema"])
    schema["fields"].append({"name": f"required{uuid.uuid4().hex[:6]}", "type": "string"})
    answer = httpx.post(url, json={"schema": json.dumps(schema), "schemaType": "AVRO"}, timeout=30)
    assert answer.status_code == 409, answer.text
    after = httpx.get(f"{url}/latest", timeout=30).raise_for_status().json()
    assert after["version"] == latest["version"]
    run = uuid.uuid4().hex[:8]
    for n in range(3):
        key = f"poison-unregistered-id-{run}-{n}"
        value = b"\x00" + (900_000 + n).to_bytes(4, "big") + b"\x02x"
        system.produce("d365.salesorder.events", key, value)
        system.injected.append(Injected(event_id=key, value=value))


def _registry_away(system: FaultSystem) -> None:
    """The registry stops answering (its connections hang); meanwhile a record framed with a
    schema id no consumer has cached yet arrives: it must wait for the registry, not be
    dead-lettered."""
    system.registry_proxy.pause()
    system.produce_under_new_schema_id("d365.salesorder.events")


def _registry_back(system: FaultSystem) -> None:
    system.registry_proxy.resume()


SCENARIOS = (
    Scenario(
        1,
        "broker restart, clean (SIGTERM, down 20 s)",
        inject=lambda s: s.broker_down(),
        clear=lambda s: s.broker_up(),
        hold_s=20,
    ),
    Scenario(
        2,
        "broker paused (SIGSTOP 30 s)",
        inject=lambda s: s.signal_broker(signal.SIGSTOP),
        clear=lambda s: s.signal_broker(signal.SIGCONT),
        hold_s=30,
    ),
    Scenario(
        2,
        "broker crash (kill -9, down 20 s)",
        inject=lambda s: s.signal_broker(signal.SIGKILL),
        clear=lambda s: s.broker_up(),
        hold_s=20,
        variant="b",
    ),
    Scenario(3, "sap-sink crash mid-stream (kill -9)", inject=lambda s: s.kill_service("sap-sink")),
    Scenario(
        3,
        "transformer crash mid-transaction (kill -9)",
        inject=lambda s: s.kill_service("transformer"),
        variant="b",
    ),
    Scenario(
        4,
        "429 with Retry-After (Dataverse 40 per 10 s, S/4 gateway 30 %) for 40 s",
        inject=_throttled,
        clear=_unthrottled,
        hold_s=40,
    ),
    Scenario(
        5,
        "S/4 answers 503 for 40 s",
        inject=_s4_unavailable,
        clear=_clear_faults,
        hold_s=40,
    ),
    Scenario(
        6,
        "ambiguous timeout: half the writes applied, answer lost (504), for 30 s",
        inject=_answers_lost,
        clear=_clear_faults,
        hold_s=30,
    ),
    Scenario(
        7,
        "tokens expired, 5 s lifetime, token endpoint down 60 s, CSRF expiry",
        inject=_tokens_short,
        clear=_tokens_back,
        hold_s=60,
    ),
    Scenario(8, "duplicate delivery: sap-sink group rewound by 5", inject=_rewound),
    Scenario(
        8, "duplicate delivery: Dataverse re-sends 5 webhooks", inject=_sent_again, variant="b"
    ),
    Scenario(
        8,
        "duplicate delivery: 5 % of the broker's answers to ingress and transformer lost, 30 s",
        inject=_answers_from_broker_lost,
        clear=_network_healed,
        hold_s=30,
        variant="c",
    ),
    Scenario(
        9,
        "poison records: non-Avro, wrong magic, unknown schema, business-invalid, oversize",
        inject=_poisoned,
    ),
    Scenario(
        10,
        "compatible schema change: the ingress writes a new version, 30 s later the transformer"
        " reads it too",
        inject=_compatible_change,
        clear=_consumers_upgraded,
        hold_s=30,
    ),
    Scenario(
        11,
        "incompatible schema change refused (409); records with an unregistered schema id",
        inject=_incompatible_change,
    ),
    Scenario(
        13,
        "slow, lossy network to the broker (200 ms ± 50, RST per 500 chunks) for 60 s",
        inject=_slow_network,
        clear=_network_healed,
        hold_s=60,
    ),
    Scenario(
        14,
        "schema registry unreachable for 60 s; a record under a schema id not cached yet",
        inject=_registry_away,
        clear=_registry_back,
        hold_s=60,
    ),
    # Last: whatever a rebalance leaves behind (a partition left paused once kept write-backs
    # waiting for good) must not spill into the other rows.
    Scenario(
        12,
        "rebalance: a second transformer and sap-sink for 30 s",
        inject=_second_instances,
        clear=_second_instances_gone,
        hold_s=30,
    ),
    Scenario(
        12,
        "rebalance: a second sap-sink frozen past its session timeout (SIGSTOP 20 s)",
        inject=_second_sink_stalls,
        clear=_second_sink_resumes,
        hold_s=20,
        variant="b",
    ),
    Scenario(
        12,
        "rebalance: the sap-sink overruns max.poll.interval.ms (S/4 answers in 12 s, limit 10 s)",
        inject=_poll_interval_overrun,
        clear=_poll_interval_usual,
        hold_s=45,
        variant="c",
    ),
)
CI_SCENARIOS = (1, 3)

PENDING = {
    15: "drift behind the pipeline's back (needs the reconciler)",
}


def chosen() -> list[Scenario]:
    """The scenarios this run executes."""
    if os.environ.get("ISTHMUS_FAULTS", "ci") == "full":
        return list(SCENARIOS)
    return [s for s in SCENARIOS if s.number in CI_SCENARIOS]


def pending_verdicts() -> list[tuple[tuple[int, str], Verdict]]:
    """Rows of the scenarios not automated yet."""
    return [
        ((number, ""), pending(f"{number}. {name}", "not automated yet"))
        for number, name in sorted(PENDING.items())
    ]


def run(system: FaultSystem, scenario: Scenario, load: Scale) -> Verdict:
    """Drive ``load.orders`` orders, inject the fault a third of the way in, clear it after its
    hold, wait for the pipeline to drain, and check the six invariants.

    Orders whose webhook the ingress answered 5xx (twice: Dataverse retries once) are not
    acknowledged; they may still be applied, once (see ``check``'s ``unconfirmed``).
    """
    driver = system.driver
    before = set(driver.journeys)
    phones_before = system.phones.mark()
    system.injected.clear()
    inject_at = max(1, load.orders // 3)
    hold_s = scenario.hold_s * load.hold_factor
    injected_at: float | None = None
    cleared_at: float | None = None
    created = tick = 0
    next_order = time.monotonic()
    try:
        while created < load.orders or cleared_at is None:
            now = time.monotonic()
            if created < load.orders and now >= next_order:
                created += _create_order(system)
                _change_phone(system, tick)
                tick += 1
                next_order = now + load.interval_s
            if injected_at is None and created >= inject_at:
                injected_at = time.monotonic()
                scenario.inject(system)
            if injected_at is not None and cleared_at is None and now - injected_at >= hold_s:
                scenario.clear(system)
                cleared_at = time.monotonic()
            _poll(system)
            time.sleep(0.5)
    finally:
        if injected_at is not None and cleared_at is None:
            scenario.clear(system)  # the next scenario starts without this one's fault
    return _settle(
        system,
        scenario.title,
        before=before,
        phones_before=phones_before,
        cleared_at=cleared_at,
        budget_s=load.liveness_budget_s,
    )


def _change_phone(system: FaultSystem, tick: int) -> None:
    """One phone change with each order; every fourth tick two of one account back to back."""
    try:
        system.phones.change(times=2 if tick % 4 == 3 else 1)
    except httpx.HTTPError:  # the customers could not be read: the next tick tries again
        return


def _create_order(system: FaultSystem) -> int:
    """One order by the clerk; 0 when Dataverse or its sign-in is away (tried again later)."""
    try:
        system.driver.create_order()
    except httpx.HTTPError:
        return 0
    return 1


def _poll(system: FaultSystem) -> None:
    """Let the driver do the human steps; the systems may be away during a fault."""
    try:
        system.driver.poll()
    except Exception:  # a fault may make any read fail; the next poll retries
        return


@dataclass(frozen=True)
class SoakSample:
    """One soak sample: minutes in, pipeline lag, resident memory of each service (MiB)."""

    minute: float
    lag: int
    rss_mib: dict[str, float]


def soak(
    system: FaultSystem, *, duration_s: float, sample_s: float, interval_s: float = 2.0
) -> tuple[Verdict, list[SoakSample]]:
    """Steady load with no fault for ``duration_s``, sampling lag and RSS every ``sample_s``."""
    driver = system.driver
    before = set(driver.journeys)
    phones_before = system.phones.mark()
    started = time.monotonic()
    samples: list[SoakSample] = []
    next_order = next_sample = started
    tick = 0
    while (now := time.monotonic()) - started < duration_s:
        if now >= next_order:
            driver.create_order()
            _change_phone(system, tick)
            tick += 1
            next_order = now + interval_s
        if now >= next_sample:
            ours = {o: j for o, j in driver.journeys.items() if o not in before}
            numbers = {j.order_number: o for o, j in ours.items()}
            lag = system.outstanding(set(ours), numbers, phones_since=phones_before).lag
            samples.append(SoakSample((now - started) / 60, lag, system.rss_mib()))
            next_sample = now + sample_s
        _poll(system)
        time.sleep(0.5)
    verdict = _settle(
        system,
        "soak: steady load, no fault",
        before=before,
        phones_before=phones_before,
        cleared_at=None,
        budget_s=300.0,
    )
    return verdict, samples


def _settle(
    system: FaultSystem,
    title: str,
    *,
    before: set[str],
    phones_before: dict[str, int],
    cleared_at: float | None,
    budget_s: float,
) -> Verdict:
    """Wait until every acknowledged event of both legs and of the phone stream is applied or
    is an injected poison record (or the budget is gone), then check."""
    ours = {o: j for o, j in system.driver.journeys.items() if o not in before}
    ids = set(ours)
    numbers = {j.order_number: o for o, j in ours.items()}
    poison = {i.event_id for i in system.injected}
    deadline = (cleared_at or time.monotonic()) + budget_s
    lag = []
    while True:
        sample = system.outstanding(ids, numbers, poison, phones_since=phones_before)
        lag.append(sample)
        if sample.lag == 0 or time.monotonic() > deadline:
            break
        _poll(system)
        time.sleep(1.0)
    s4_orders = system.applied(numbers)
    wb_acked, wb_applied = system.write_backs(s4_orders)
    phones = system.phones.ledgers(phones_before)
    events = ids | poison | {a.event_id for a in [*wb_acked, *phones.acked]}
    return check(
        scenario=title,
        acked=[*system.acked(ids), *wb_acked, *phones.acked],
        applied=[*s4_orders, *wb_applied, *phones.applied],
        dead_letters=[d for d in system.dead_letters() if d.event_id in events],
        injected=list(system.injected),
        audited_event_ids=system.audited(
            ids,
            {row.request_id.lstrip("0"): row.event_id for row in s4_orders},
            phones.correlations,
        ),
        lag=lag,
        fault_cleared_at=cleared_at,
        liveness_budget_s=budget_s,
        unconfirmed=system.refused(ids) | phones.refused,
        superseded=phones.superseded,
    )
