"""S/4 settings: cloud vs on-premise and the three authentication methods are configuration."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from isthmus.connectors.s4 import S4Settings
from isthmus.connectors.s4.auth import OAuthClientCredentials, http_auth, tls_context
from isthmus.devenv.tls import ensure_local_tls

pytestmark = pytest.mark.unit


def test_cloud_and_on_premise_urls() -> None:
    cloud = S4Settings(base_url="https://my123456-api.s4hana.cloud.sap", user="U", password="p")  # type: ignore[arg-type]
    assert cloud.service_url("API_SALES_ORDER_SRV") == (
        "https://my123456-api.s4hana.cloud.sap/sap/opu/odata/sap/API_SALES_ORDER_SRV/"
    )
    onprem = S4Settings(base_url="https://erp:44300", sap_client="100", user="U", password="p")  # type: ignore[arg-type]
    assert onprem.token_url == "https://erp:44300/sap/bc/sec/oauth2/token"
    assert "100" in onprem.credential_name
    assert "p" not in repr(onprem.password)


def test_auth_methods(tmp_path: Path) -> None:
    tls = ensure_local_tls(tmp_path / "tls")
    basic = S4Settings(base_url="https://erp", user="U", password="p", ca_bundle=tls.ca_cert)  # type: ignore[arg-type]
    context = tls_context(basic)
    assert isinstance(http_auth(basic, context), httpx.BasicAuth)
    oauth = S4Settings(base_url="https://erp", auth="oauth", client_id="C", client_secret="s")  # type: ignore[arg-type]
    assert isinstance(http_auth(oauth, context), OAuthClientCredentials)
    x509 = S4Settings(
        base_url="https://erp", auth="x509", client_cert=tls.server_cert, client_key=tls.server_key
    )
    assert http_auth(x509, tls_context(x509)) is None
    with pytest.raises(ValueError, match="client_cert"):
        tls_context(S4Settings(base_url="https://erp", auth="x509"))
    with pytest.raises(ValueError, match="user and password"):
        http_auth(S4Settings(base_url="https://erp"), context)
