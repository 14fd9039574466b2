"""The load's per-key stream: the demo customers' phone numbers, each change one more in its
account's sequence.

A change writes ``+1 555 <account index> <seq>`` to an account's ``telephone1``; Dataverse
delivers its Update webhook, the transformer makes a business partner change of the phone
only, and the sap-sink PATCHes the address's ``A_AddressPhoneNumber``. The number carries the
key and the sequence, so each ledger reads both from what the part itself recorded:

- acknowledged: the account Update deliveries the ingress answered 2xx, by the number in the
  Target they posted (event id ``<account id>/phone/<seq>``);
- applied: the phone writes S/4 applied (its call log), in the order it applied them; one that
  sets the number the address already has is an idempotent no-op;
- audited: the ingress's ``SUCCEEDED`` lines of ``d365.account.events`` Updates, matched to a
  delivery by its correlation id.

Master data is hydrated when the ingress reads it, so an update's event may carry a later
number than its own (two quick changes of one account can reach S/4 as the later number
twice): such an update is *superseded*, not lost, once a later number of its account was
applied. Order per key is what this stream checks: S/4 must never go back to an older number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from isthmus.devenv.demo import DemoDriver
from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4

from .ledger import Acked, Applied

_NUMBER = re.compile(r"\+1 555 (\d{2}) (\d{6})")
PHONE_WRITES = "A_AddressPhoneNumber"
ACCOUNT_EVENTS = "d365.account.events"


def phone_number(index: int, seq: int) -> str:
    """The number of the ``seq``-th change of the ``index``-th account."""
    return f"+1 555 {index:02d} {seq:06d}"


def event_id(account: str, seq: int) -> str:
    """The event id of one change."""
    return f"{account}/phone/{seq}"


@dataclass(frozen=True)
class PhoneLedgers:
    """One row's phone changes as the parts recorded them."""

    acked: list[Acked]
    refused: set[str]
    """Changes whose webhook failed (Dataverse gave up): applied at most once, or not at all."""
    applied: list[Applied]
    superseded: set[str]
    correlations: dict[str, str]
    """Correlation id of each delivered change → its event id (for the audit)."""
    in_flight: int = 0
    """Changes Dataverse answered 2xx to whose webhook it has not concluded yet."""


@dataclass
class PhoneStream:
    """Writes the changes and reads the three ledgers back."""

    d365: SandboxD365
    s4: SandboxS4
    driver: DemoDriver
    accounts: list[str] = field(default_factory=list)
    """The accounts changed, by index in the number (fixed at the first change)."""
    seq: dict[str, int] = field(default_factory=dict)
    written: set[tuple[str, int]] = field(default_factory=set)
    """Changes Dataverse answered 2xx to (their webhook is then due)."""
    _turn: int = 0

    def mark(self) -> dict[str, int]:
        """Each account's last sequence number: a row checks only the changes after it."""
        return dict(self.seq)

    def change(self, *, times: int = 1) -> None:
        """``times`` changes of the next account, one right after the other (the ingress then
        takes both webhooks of one key at once). A change Dataverse did not answer is not
        tried again: its number is simply never acknowledged, or acknowledged all the same."""
        if not self.accounts:
            self.accounts = list(self.driver.ready_accounts)
        index = self._turn % len(self.accounts)
        self._turn += 1
        account = self.accounts[index]
        for _ in range(times):
            seq = self.seq.get(account, 0) + 1
            self.seq[account] = seq
            try:
                self.driver.d365.update(
                    "accounts", account, {"telephone1": phone_number(index, seq)}
                )
            except httpx.HTTPError:
                continue
            self.written.add((account, seq))

    def _parse(self, number: object) -> tuple[str, int] | None:
        found = _NUMBER.fullmatch(number) if isinstance(number, str) else None
        if found is None or int(found[1]) >= len(self.accounts):
            return None
        return self.accounts[int(found[1])], int(found[2])

    def _ours(self, since: Mapping[str, int], parsed: tuple[str, int] | None) -> bool:
        return parsed is not None and parsed[1] > since.get(parsed[0], 0)

    def ledgers(self, since: Mapping[str, int]) -> PhoneLedgers:
        """The changes after ``since``: acknowledged, refused, applied, superseded, and how
        many Dataverse has not concluded the webhook of yet."""
        acked: dict[str, Acked] = {}
        refused: set[str] = set()
        concluded: set[tuple[str, int]] = set()
        correlations: dict[str, str] = {}
        for delivery in self.d365.admin.deliveries(entity="account", message="Update", body=True):
            parsed = self._parse(_target_phone(delivery.get("body")))
            if parsed is None or not self._ours(since, parsed):
                continue
            account, seq = parsed
            concluded.add(parsed)
            name = event_id(account, seq)
            correlations[delivery["correlation_id"]] = name
            if delivery["succeeded"]:
                acked[name] = Acked(event_id=name, key=account, seq=seq)
            else:
                refused.add(name)
        applied = self._applied(since)
        return PhoneLedgers(
            acked=sorted(acked.values(), key=lambda a: (a.key, a.seq)),
            refused=refused - set(acked),
            applied=applied,
            superseded=_superseded(acked.values(), applied),
            correlations=correlations,
            in_flight=sum(1 for w in self.written - concluded if self._ours(since, w)),
        )

    def _applied(self, since: Mapping[str, int]) -> list[Applied]:
        current: dict[str, int] = {}
        applied = []
        for call in self.s4.admin.calls(path_contains=PHONE_WRITES):
            status = call.get("app_status") or call["status"]
            if call["method"] not in {"PATCH", "POST"} or not 200 <= status < 300:
                continue
            try:
                body = json.loads(call["body"])
            except ValueError:
                continue
            parsed = self._parse(body.get("PhoneNumber") if isinstance(body, dict) else None)
            if parsed is None:
                continue
            account, seq = parsed
            effective = current.get(account) != seq
            current[account] = seq
            if self._ours(since, parsed):
                applied.append(
                    Applied(
                        event_id=event_id(account, seq),
                        key=account,
                        seq=seq,
                        effective=effective,
                        request_id=str(call["id"]),
                        at=float(call["id"]),
                    )
                )
        return applied


def _target_phone(context: Any) -> object:
    """``telephone1`` of an Update's Target, from the execution context Dataverse posted."""
    if not isinstance(context, dict):
        return None
    for parameter in context.get("InputParameters") or []:
        if isinstance(parameter, dict) and parameter.get("key") == "Target":
            for attribute in (parameter.get("value") or {}).get("Attributes") or []:
                if isinstance(attribute, dict) and attribute.get("key") == "telephone1":
                    return attribute.get("value")
    return None


def _superseded(acked: Iterable[Acked], applied: Iterable[Applied]) -> set[str]:
    """Acknowledged changes not applied as themselves whose account later got a higher
    number applied (their event carried that later state)."""
    done = {a.event_id for a in applied if a.effective}
    highest: dict[str, int] = {}
    for row in applied:
        if row.effective:
            highest[row.key] = max(highest.get(row.key, 0), row.seq)
    return {a.event_id for a in acked if a.event_id not in done and a.seq < highest.get(a.key, 0)}
