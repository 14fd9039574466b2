"""Everything one sandbox process holds, built once by the composition root."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from isthmus.sandbox_d365.business.records import Records
from isthmus.sandbox_d365.business.webhooks import WebhookDispatcher
from isthmus.sandbox_d365.http.calllog import CallLog
from isthmus.sandbox_d365.http.faults import Faults
from isthmus.sandbox_d365.http.throttling import Limits, Throttle
from isthmus.sandbox_d365.http.webapi import WebApi
from isthmus.sandbox_d365.identity.apps import AppRegistry
from isthmus.sandbox_d365.identity.entra import EntraEmulator
from isthmus.sandbox_d365.identity.tokens import TokenService
from isthmus.sandbox_d365.settings import SandboxSettings


@dataclass
class Sandbox:
    """The parts of a running sandbox."""

    settings: SandboxSettings
    records: Records
    api: WebApi
    tokens: TokenService
    apps: AppRegistry
    entra: EntraEmulator
    faults: Faults
    calls: CallLog
    throttle: Throttle
    webhooks: WebhookDispatcher
    lock: asyncio.Lock  # one writer at a time; held across synchronous webhook calls

    def default_limits(self) -> Limits:
        """The throttling limits from the settings."""
        s = self.settings
        return Limits(
            requests=s.throttle_requests,
            execution_ms=s.throttle_execution_ms,
            window_s=s.throttle_window_s,
            concurrency=s.throttle_concurrency,
        )
