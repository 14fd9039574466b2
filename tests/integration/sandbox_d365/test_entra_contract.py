"""Contract tests for the Entra ID emulator (README checklist 1-5), with real MSAL."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import msal  # type: ignore[import-untyped] # msal ships no type information
import pytest
import requests

from isthmus.testing.sandbox_d365 import SandboxD365

pytestmark = pytest.mark.integration


@pytest.fixture
def session(sandbox_d365: SandboxD365) -> Iterator[requests.Session]:
    """The HTTP session MSAL uses: trusts the local CA only (the machine's REQUESTS_CA_BUNDLE
    would otherwise override ``verify=``)."""
    with requests.Session() as http:
        http.trust_env = False
        http.verify = str(sandbox_d365.ca_file)
        yield http


def _msal_app(
    sandbox: SandboxD365,
    http: requests.Session,
    *,
    discovery: bool = False,
    secret: str | None = None,
) -> msal.ConfidentialClientApplication:
    instance_discovery: bool | str = False
    if discovery:
        instance_discovery = f"{sandbox.base_url}/common/discovery/instance"
    return msal.ConfidentialClientApplication(
        sandbox.client_id,
        client_credential=secret or sandbox.client_secret,
        authority=sandbox.authority,
        http_client=http,
        instance_discovery=instance_discovery,
    )


def test_item_01_https_listener(sandbox_d365: SandboxD365) -> None:
    with pytest.raises(ValueError, match="https"):
        msal.ConfidentialClientApplication(
            sandbox_d365.client_id,
            client_credential=sandbox_d365.client_secret,
            authority=sandbox_d365.authority.replace("https://", "http://"),
        )
    response = httpx.get(f"{sandbox_d365.base_url}/_sandbox/health", verify=sandbox_d365.verify)
    assert response.status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox_d365.base_url}/_sandbox/health", verify=True)


def test_item_02_openid_configuration_and_instance_discovery(
    sandbox_d365: SandboxD365, session: requests.Session
) -> None:
    verify = sandbox_d365.verify
    config = httpx.get(
        f"{sandbox_d365.authority}/v2.0/.well-known/openid-configuration", verify=verify
    ).json()
    assert config["token_endpoint"] == sandbox_d365.token_url
    assert config["authorization_endpoint"].startswith(
        f"{sandbox_d365.authority}/oauth2/v2.0/authorize"
    )
    discovery = httpx.get(
        f"{sandbox_d365.base_url}/common/discovery/instance",
        params={"authorization_endpoint": config["authorization_endpoint"], "api-version": "1.1"},
        verify=verify,
    ).json()
    assert discovery["api-version"] == "1.1"
    assert discovery["tenant_discovery_endpoint"].endswith(
        f"/{sandbox_d365.tenant_id}/v2.0/.well-known/openid-configuration"
    )
    unknown = httpx.get(
        f"{sandbox_d365.base_url}/nobody.example/v2.0/.well-known/openid-configuration",
        verify=verify,
    )
    assert unknown.status_code == 400
    assert unknown.json()["error_codes"] == [90002]
    # MSAL with instance discovery switched on, pointed at the sandbox's discovery endpoint.
    result = _msal_app(sandbox_d365, session, discovery=True).acquire_token_for_client(
        scopes=[sandbox_d365.scope]
    )
    assert result["token_type"] == "Bearer"


def test_item_03_token_endpoint_success_and_errors(sandbox_d365: SandboxD365) -> None:
    verify = sandbox_d365.verify
    form = {
        "grant_type": "client_credentials",
        "client_id": sandbox_d365.client_id,
        "scope": sandbox_d365.scope,
    }
    basic = base64.b64encode(
        f"{sandbox_d365.client_id}:{sandbox_d365.client_secret}".encode()
    ).decode()
    ok = httpx.post(
        sandbox_d365.token_url,
        data=form,
        headers={"Authorization": f"Basic {basic}"},
        verify=verify,
    )
    assert ok.status_code == 200
    body = ok.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    bad_secret = httpx.post(
        sandbox_d365.token_url, data={**form, "client_secret": "wrong"}, verify=verify
    )
    assert bad_secret.status_code == 401
    error = bad_secret.json()
    assert error["error"] == "invalid_client"
    assert error["error_codes"] == [7000215]
    assert error["error_description"].startswith("AADSTS7000215: ")
    assert {"timestamp", "trace_id", "correlation_id"} <= set(error)
    bad_scope = httpx.post(
        sandbox_d365.token_url,
        data={
            **form,
            "client_secret": sandbox_d365.client_secret,
            "scope": "https://isthmus.crm4.dynamics.com/user_impersonation",
        },
        verify=verify,
    )
    assert bad_scope.status_code == 400
    assert bad_scope.json()["error"] == "invalid_scope"
    unknown_org = httpx.post(
        sandbox_d365.token_url,
        data={
            **form,
            "client_secret": sandbox_d365.client_secret,
            "scope": "https://other.crm.dynamics.com/.default",
        },
        verify=verify,
    )
    assert unknown_org.status_code == 400
    assert unknown_org.json()["error_codes"] == [500011]
    by_domain = httpx.post(
        f"{sandbox_d365.base_url}/isthmus.onmicrosoft.com/oauth2/v2.0/token",
        data={
            **form,
            "client_secret": sandbox_d365.client_secret,
            "scope": f"{sandbox_d365.base_url}/.default",
        },
        verify=verify,
    )
    assert by_domain.status_code == 200
    own_origin = by_domain.json()["access_token"]
    who = httpx.get(
        f"{sandbox_d365.api_url}/WhoAmI",
        headers={"Authorization": f"Bearer {own_origin}"},
        verify=verify,
    )
    assert who.status_code == 200
    bad_grant = httpx.post(
        sandbox_d365.token_url, data={**form, "grant_type": "password"}, verify=verify
    )
    assert bad_grant.json()["error"] == "unsupported_grant_type"


def test_msal_acquires_from_cache_and_refreshes_after_expiry(
    sandbox_d365_clean: SandboxD365, session: requests.Session
) -> None:
    app = _msal_app(sandbox_d365_clean, session)
    first = app.acquire_token_for_client(scopes=[sandbox_d365_clean.scope])
    assert first["token_source"] == "identity_provider"
    cached = app.acquire_token_for_client(scopes=[sandbox_d365_clean.scope])
    assert cached["token_source"] == "cache"
    assert cached["access_token"] == first["access_token"]
    # Tokens with less than five minutes left are refreshed by MSAL on every call.
    sandbox_d365_clean.admin.set_token_lifetime(2)
    short_app = _msal_app(sandbox_d365_clean, session)
    short = short_app.acquire_token_for_client(scopes=[sandbox_d365_clean.scope])
    assert short["expires_in"] == 2
    time.sleep(1.1)
    refreshed = short_app.acquire_token_for_client(scopes=[sandbox_d365_clean.scope])
    assert refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != short["access_token"]
    deadline = time.monotonic() + 10
    status = 200
    while time.monotonic() < deadline and status == 200:
        time.sleep(0.5)
        status = httpx.get(
            f"{sandbox_d365_clean.api_url}/WhoAmI",
            verify=sandbox_d365_clean.verify,
            headers={"Authorization": f"Bearer {short['access_token']}"},
        ).status_code
    assert status == 401


def test_msal_returns_error_dict_for_bad_secret(
    sandbox_d365: SandboxD365, session: requests.Session
) -> None:
    result = _msal_app(sandbox_d365, session, secret="not-the-secret").acquire_token_for_client(
        scopes=[sandbox_d365.scope]
    )
    assert result["error"] == "invalid_client"
    assert 7000215 in result["error_codes"]


def test_item_04_token_endpoint_fault_injection(sandbox_d365_clean: SandboxD365) -> None:
    admin = sandbox_d365_clean.admin
    admin.add_fault(kind="throttle", path="*/oauth2/v2.0/token", retry_after=7, times=1)
    admin.add_fault(kind="status", status=503, path="*/oauth2/v2.0/token", retry_after=3, times=1)
    form = {
        "grant_type": "client_credentials",
        "client_id": sandbox_d365_clean.client_id,
        "client_secret": sandbox_d365_clean.client_secret,
        "scope": sandbox_d365_clean.scope,
    }
    verify = sandbox_d365_clean.verify
    throttled = httpx.post(sandbox_d365_clean.token_url, data=form, verify=verify)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error_description"].startswith("AADSTS")
    unavailable = httpx.post(sandbox_d365_clean.token_url, data=form, verify=verify)
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "3")
    assert httpx.post(sandbox_d365_clean.token_url, data=form, verify=verify).status_code == 200


def test_item_05_bearer_validation(sandbox_d365_clean: SandboxD365) -> None:
    verify = sandbox_d365_clean.verify
    url = f"{sandbox_d365_clean.api_url}/WhoAmI"
    missing = httpx.get(url, verify=verify)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith(
        "Bearer authorization_uri=https://login.microsoftonline.com/"
    )
    assert set(missing.json()["error"]) == {"code", "message"}
    forged = httpx.get(
        url, verify=verify, headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}
    )
    assert forged.status_code == 401
    who = httpx.get(
        url, verify=verify, headers={"Authorization": f"Bearer {sandbox_d365_clean.token()}"}
    )
    assert who.status_code == 200, who.text
    assert {"BusinessUnitId", "UserId", "OrganizationId"} <= set(who.json())
    sandbox_d365_clean.admin.add_app(
        client_id="0f0f0f0f-1111-2222-3333-444444444444",
        client_secret="s3cret",
        application_user=False,
    )
    outsider = httpx.post(
        sandbox_d365_clean.token_url,
        verify=verify,
        data={
            "grant_type": "client_credentials",
            "client_id": "0f0f0f0f-1111-2222-3333-444444444444",
            "client_secret": "s3cret",
            "scope": sandbox_d365_clean.scope,
        },
    ).json()["access_token"]
    denied = httpx.get(url, verify=verify, headers={"Authorization": f"Bearer {outsider}"})
    assert denied.status_code == 403
    assert denied.json() == {
        "error": {"code": "0x80072560", "message": "The user is not a member of the organization."}
    }


def test_expired_token_by_admin_gets_401(sandbox_d365_clean: SandboxD365) -> None:
    verify = sandbox_d365_clean.verify
    token = sandbox_d365_clean.token()
    url = f"{sandbox_d365_clean.api_url}/WhoAmI"
    assert (
        httpx.get(url, verify=verify, headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    sandbox_d365_clean.admin.expire_tokens()
    expired = httpx.get(url, verify=verify, headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]["message"]
    fresh = sandbox_d365_clean.token()
    assert (
        httpx.get(url, verify=verify, headers={"Authorization": f"Bearer {fresh}"}).status_code
        == 200
    )
