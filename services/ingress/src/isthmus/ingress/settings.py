"""Configuration of the ingress (environment prefix ``ISTHMUS_INGRESS_``, nesting ``__``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from isthmus.connectors.d365.settings import D365Settings
from isthmus.connectors.s4.settings import S4Settings
from isthmus.kafka.settings import KafkaSettings
from isthmus.schemas.settings import SchemaSettings

WebhookAuthType = Literal["WebhookKey", "HttpHeader", "HttpQueryString"]


class DataverseRoute(BaseModel):
    """Where webhook events of one Dataverse table go."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    schema_name: str = Field(description="Full Avro name of the topic's event schema.")
    entity_set: str
    key: str = Field(description="Primary key column, the Kafka key.")
    expand: str | None = Field(default=None, description="$expand used when hydrating.")
    messages: tuple[str, ...] = ("Create", "Update", "Delete")


class SapRoute(BaseModel):
    """How thin S/4 events of one object type are hydrated and where they go."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    schema_name: str
    service: str
    entity_set: str
    key: str = Field(description="Key field of the event data; several joined by '/'.")
    expand: tuple[str, ...] = ()


# Lookups the events carry as flat columns (isocurrencycode, customeraccountnumber,
# line productnumber and uomname); the hydrator copies them out of the expanded rows.
_HEADER_LOOKUPS = (
    "transactioncurrencyid($select=isocurrencycode),customerid_account($select=accountnumber)"
)
_LINE_LOOKUPS = "$expand=productid($select=productnumber),uomid($select=name)"


def _d365_routes() -> dict[str, DataverseRoute]:
    def route(table: str, schema: str, expand: str | None = None) -> DataverseRoute:
        return DataverseRoute(
            topic=f"d365.{table}.events",
            schema_name=f"io.isthmus.d365.{schema}Event",
            entity_set=f"{table}s",
            key=f"{table}id",
            expand=expand,
        )

    return {
        "salesorder": route(
            "salesorder", "SalesOrder", f"{_HEADER_LOOKUPS},order_details({_LINE_LOOKUPS})"
        ),
        "account": route("account", "Account"),
        "contact": route("contact", "Contact"),
        "product": route("product", "Product"),
        "invoice": route(
            "invoice", "Invoice", f"{_HEADER_LOOKUPS},invoice_details({_LINE_LOOKUPS})"
        ),
    }


def _s4_routes() -> dict[str, SapRoute]:
    return {
        "salesorder": SapRoute(
            topic="s4.salesorder.events",
            schema_name="io.isthmus.s4.SalesOrderEvent",
            service="API_SALES_ORDER_SRV",
            entity_set="A_SalesOrder",
            key="SalesOrder",
            expand=("to_Item", "to_Partner"),
        ),
        "businesspartner": SapRoute(
            topic="s4.businesspartner.events",
            schema_name="io.isthmus.s4.BusinessPartnerEvent",
            service="API_BUSINESS_PARTNER",
            entity_set="A_BusinessPartner",
            key="BusinessPartner",
            expand=(
                "to_BusinessPartnerAddress",
                "to_BusinessPartnerRole",
                "to_Customer/to_CustomerSalesArea",
            ),
        ),
        "product": SapRoute(
            topic="s4.product.events",
            schema_name="io.isthmus.s4.ProductEvent",
            service="API_PRODUCT_SRV",
            entity_set="A_Product",
            key="Product",
            expand=("to_Description",),
        ),
        "outbounddelivery": SapRoute(
            topic="s4.outbounddelivery.events",
            schema_name="io.isthmus.s4.OutboundDeliveryEvent",
            service="API_OUTBOUND_DELIVERY_SRV",
            entity_set="A_OutbDeliveryHeader",
            key="DeliveryDocument",
            expand=("to_DeliveryDocumentItem",),
        ),
        "billingdocument": SapRoute(
            topic="s4.billingdocument.events",
            schema_name="io.isthmus.s4.BillingDocumentEvent",
            service="API_BILLING_DOCUMENT_SRV",
            entity_set="A_BillingDocument",
            key="BillingDocument",
            expand=("to_Item",),
        ),
        # hydrated by summing the plant's unrestricted rows (adapters/stock.py)
        "materialstock": SapRoute(
            topic="s4.materialstock.events",
            schema_name="io.isthmus.s4.MaterialStockEvent",
            service="API_MATERIAL_STOCK_SRV",
            entity_set="A_MatlStkInAcctMod",
            key="Material/Plant",
        ),
    }


class DataverseWebhookSettings(BaseModel):
    """How Dataverse authenticates to the webhook endpoint and which tables are accepted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auth_type: WebhookAuthType = "WebhookKey"
    auth_pairs: dict[str, SecretStr] = Field(
        default_factory=lambda: {"code": SecretStr("change-me")},
        description="WebhookKey: {'code': key}; HttpHeader/HttpQueryString: name -> value.",
    )
    routes: dict[str, DataverseRoute] = Field(default_factory=_d365_routes)
    shipment_topic: str = "d365.shipment.events"
    shipment_schema: str = "io.isthmus.d365.ShipmentConfirmationEvent"
    integration_user: str | None = Field(
        default=None, description="systemuser id Isthmus writes as (echo detection)."
    )


class SapEventSettings(BaseModel):
    """How S/4 (Event Mesh) authenticates, and how thin events are hydrated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str = "isthmus-events"
    password: SecretStr = SecretStr("change-me")
    oauth_client_id: str | None = Field(default=None, description="Enables the token endpoint.")
    oauth_client_secret: SecretStr | None = None
    token_lifetime_s: int = Field(default=3600, ge=60)
    token_signing_key: SecretStr | None = Field(
        default=None, description="Shared HMAC key so every replica accepts the tokens."
    )
    allowed_origins: tuple[str, ...] = Field(
        default=("*",), description="WebHook-Request-Origin values answered in the handshake."
    )
    routes: dict[str, SapRoute] = Field(default_factory=_s4_routes)
    coalesce_window_s: float = Field(
        default=0.0,
        ge=0,
        le=10,
        description=(
            "Wait this long to gather a burst per key before reading it. Every S/4 event waits "
            "this long, so keep 0 when events are pushed one at a time."
        ),
    )
    integration_user: str | None = Field(
        default=None, description="S/4 user Isthmus writes as (echo detection)."
    )


class ApiKey(BaseModel):
    """One API key of the publish API and the roles it carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    secret: SecretStr = Field(description="The key as callers send it in X-API-Key.")
    roles: tuple[str, ...] = Field(description="Roles granted, as an app role in a token would.")


def _topic_roles() -> dict[str, str]:
    return {"d365.*.events": "Events.Publish.Dataverse", "s4.*.events": "Events.Publish.S4"}


class PublishAuthSettings(BaseModel):
    """Who may call ``POST /v1/events/{topic}``: OAuth2 bearer tokens or API keys.

    A token is accepted when its signature verifies against a key of ``jwks_url``, its ``iss`` is
    one of ``issuers``, its ``aud`` one of ``audiences``, and it is within its lifetime. Its app
    roles (``roles``) or scopes (``scp``) decide the topics: a topic needs the role of the first
    ``topic_roles`` pattern it matches, and a topic no pattern matches is not open at all. With
    neither a JWKS URL nor an API key configured every publish is refused (fail closed).

    Entra ID: ``jwks_url=https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys``,
    ``issuers`` the v2.0 and v1 issuer of the tenant, ``audiences`` the API's application id
    URI and client id, app roles defined on the API's app registration.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    jwks_url: str | None = Field(default=None, description="Signing keys of the token issuer.")
    issuers: tuple[str, ...] = Field(default=(), description="Accepted iss claims.")
    audiences: tuple[str, ...] = Field(default=(), description="Accepted aud claims.")
    ca_file: Path | None = Field(default=None, description="CA bundle for the JWKS URL.")
    leeway_s: int = Field(default=60, ge=0, le=600, description="Clock skew allowed.")
    topic_roles: dict[str, str] = Field(
        default_factory=_topic_roles,
        description="Topic pattern (fnmatch) -> role or scope a publisher needs.",
    )
    api_keys: dict[str, ApiKey] = Field(
        default_factory=dict, description="Key name -> key and roles (X-API-Key header)."
    )


class LimitSettings(BaseModel):
    """Abuse limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    rate_per_s: float = Field(default=200.0, gt=0, description="Sustained requests per source.")
    burst: int = Field(default=400, ge=1, description="Requests a source may send at once.")


class PollerSettings(BaseModel):
    """Scheduled change pollers (off by default: webhooks and events are the main path)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    interval_s: float = Field(default=60.0, gt=0)
    d365_tables: tuple[str, ...] = ("salesorder", "account", "invoice")
    s4_objects: tuple[str, ...] = Field(
        default=("salesorder", "product"),
        description="Object types whose entity has LastChangeDateTime (not A_BusinessPartner).",
    )
    checkpoint_topic: str = "ingress.checkpoints"


class IngressSettings(BaseSettings):
    """Everything the ingress process needs; built once in ``__main__``."""

    model_config = SettingsConfigDict(
        env_prefix="ISTHMUS_INGRESS_", env_nested_delimiter="__", frozen=True
    )

    host: str = "127.0.0.1"
    port: int = 8090
    metrics_port: int | None = 9490
    log_level: str = "INFO"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    kafka: KafkaSettings = Field(default_factory=lambda: KafkaSettings(client_id="ingress"))
    schemas: SchemaSettings = Field(default_factory=SchemaSettings)
    d365: D365Settings | None = Field(default=None, description="Hydration and polling source.")
    s4: S4Settings | None = Field(default=None, description="Hydration and polling source.")
    dataverse: DataverseWebhookSettings = Field(default_factory=DataverseWebhookSettings)
    sap: SapEventSettings = Field(default_factory=SapEventSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    publish: PublishAuthSettings = Field(default_factory=PublishAuthSettings)
    pollers: PollerSettings = Field(default_factory=PollerSettings)
    publish_topics: tuple[str, ...] = Field(
        default=(),
        description="Topics open to POST /v1/events/{topic} (default: every *.events topic "
        "that a publish.topic_roles pattern matches).",
    )
    topics_file: Path = Path("deploy/topics.yaml")
    ack_timeout_s: float = Field(default=10.0, gt=0, le=55, description="Kafka ack wait.")
    dedup_window_s: float = Field(default=900.0, ge=0, description="Duplicate-id memory.")
    audit_topic: str | None = Field(default="audit.events", description="None: no audit.")
    dlq_topic: str | None = Field(
        default="ingress.dlq",
        description="Where requests refused after authentication are kept (None: not kept).",
    )
    state_topics: tuple[str, ...] = Field(
        default=(),
        description=(
            "Compacted state topics of the master data: the sinks' WRITEs for echo detection, "
            "and every state as the base of an S/4 event's changed fields."
        ),
    )
