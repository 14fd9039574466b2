"""App registrations known to the Entra emulator and whether each is an application user."""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass

from isthmus.sandbox_d365.business.store import Store

_META = "apps"


@dataclass(frozen=True)
class App:
    """One app registration with a client secret."""

    client_id: str
    secret: str
    application_user: bool = True
    roles: tuple[str, ...] = ()
    """App roles of the API resources assigned to this app (the token's ``roles`` claim)."""

    def secret_matches(self, candidate: str) -> bool:
        """Constant-time comparison of a presented secret."""
        return hmac.compare_digest(self.secret.encode(), candidate.encode())


class AppRegistry:
    """The default app from the settings plus any apps added through the admin API."""

    def __init__(self, *, store: Store, default: App) -> None:
        self._store = store
        self._default = default

    def _extra(self) -> dict[str, App]:
        raw = json.loads(self._store.meta(_META) or "{}")
        return {
            cid: App(**{**fields, "roles": tuple(fields.get("roles", ()))})
            for cid, fields in raw.items()
        }

    def get(self, client_id: str) -> App | None:
        """The app with this client id (case-insensitive, as GUIDs are)."""
        wanted = client_id.lower()
        if wanted == self._default.client_id.lower():
            return self._default
        return self._extra().get(wanted)

    def add(self, app: App) -> None:
        """Register or replace an app."""
        extra = {cid: asdict(a) for cid, a in self._extra().items()}
        extra[app.client_id.lower()] = asdict(app)
        self._store.set_meta(_META, json.dumps(extra))

    def listing(self) -> list[dict[str, object]]:
        """Every app without its secret."""
        apps = [self._default, *self._extra().values()]
        return [
            {"client_id": a.client_id, "application_user": a.application_user, "roles": a.roles}
            for a in apps
        ]
