"""The composition root: builds every client of the transformer; tests pass overrides."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from opentelemetry.trace import Tracer

from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.parking import PARKED_SCHEMA, ParkedCodec
from isthmus.kafka.probes import ProbeServer, loop_probes
from isthmus.kafka.routing import routes_for
from isthmus.mapping import LookupPort
from isthmus.schemas import SerdeFactory
from isthmus.schemas.xref import XREF_SCHEMA
from isthmus.transformer.adapters.flow_files import FlowRegistry
from isthmus.transformer.adapters.serde import InputDecoder, OutputSerializer, catalogue_schemas
from isthmus.transformer.adapters.xref import XrefFollower
from isthmus.transformer.core.events import SourceDecoder, utf8_key
from isthmus.transformer.core.handler import TransformHandler
from isthmus.transformer.metrics import TransformerMetrics
from isthmus.transformer.settings import TransformerSettings

logger = logging.getLogger(__name__)


_RETRY_TEMPLATE = "transformer"


class TransformerApp:
    """The transformer process: flow registry, xref table, processing loop, probe server."""

    def __init__(
        self,
        *,
        settings: TransformerSettings,
        root: Path | None = None,
        lookups: LookupPort | None = None,
        serdes: SerdeFactory | None = None,
        spans: Tracer | None = None,
    ) -> None:
        """Build every part; nothing connects before ``run``.

        ``spans`` makes each record's CONSUMER span (default: the process's tracer provider).

        Raises:
            FlowReloadError: the flow folder does not load at start.
            CatalogueError: the topic catalogue or the schemas are invalid.
        """
        base = root or Path.cwd()
        self.settings = settings
        self.metrics = TransformerMetrics.create()
        catalogue = load_catalogue(_under(base, settings.topics_file))
        schemas = catalogue_schemas(catalogue)
        self.serdes = serdes or SerdeFactory(settings=settings.schemas, root=base)
        self.flows = FlowRegistry(
            directory=_under(base, settings.flows.directory),
            interval_s=settings.flows.reload_interval_s,
            metrics=self.metrics,
        )
        self.xref: XrefFollower | None = None
        if lookups is None:
            self.xref = XrefFollower(
                kafka=settings.kafka,
                topic=settings.xref.topic,
                decoder=self.serdes.deserializer(value_schema=XREF_SCHEMA),
                metrics=self.metrics,
            )
            lookups = self.xref.table
        self.routes = routes_for(settings.processor, catalogue=catalogue, service=_RETRY_TEMPLATE)

        def output_schema(topic: str) -> str | None:
            return self.flows.current().target_topics.get(topic) or schemas.get(topic)

        self.processor = ConsumeLoop.for_handler(
            kafka=settings.kafka,
            settings=settings.processor,
            topics=self.flows.current().source_topics,
            handler=TransformHandler(
                flows=self.flows.current,
                lookups=lookups,
                routes=self.routes,
                ignore_origins=settings.flows.ignore_origins,
                topics=catalogue,
            ),
            routes=self.routes,
            key_deserializer=utf8_key,
            value_deserializer=SourceDecoder(
                decoder=InputDecoder(factory=self.serdes, schema_of=schemas.get),
                flows=self.flows.current,
            ),
            value_serializer=OutputSerializer(factory=self.serdes, schema_of=output_schema),
            parked_codec=self._parked_codec(schemas.get(self.routes.parked)),
            spans=spans,
            waits=self.xref.table if self.xref is not None else None,
        )
        self._ready = False
        alive, ready = loop_probes(self.processor.health, started=lambda: self._ready)
        self.probes = ProbeServer(
            host=settings.http.host, port=settings.http.port, alive=alive, ready=ready
        )

    def _parked_codec(self, schema: str | None) -> ParkedCodec:
        """The ``<group>.parked`` codec, from the topic's catalogue schema.

        A group without a catalogue entry (tests) uses the schema every parked topic names.
        """
        pair = self.serdes.pair(value_schema=schema or PARKED_SCHEMA)
        return ParkedCodec(serializer=pair.serializer, deserializer=pair.deserializer)

    def run(self) -> int:
        """Serve probes, load xref.ids, watch the flows and process until SIGTERM; exit code.

        Raises:
            XrefLoadError: xref.ids could not be read to its end at start.
        """
        self.probes.start()
        try:
            if self.xref is not None:
                self.xref.start(timeout_s=self.settings.xref.load_timeout_s)
            self.flows.start()
            self.processor.install_signal_handlers()
            logger.info(
                "transformer running",
                extra={
                    "topics": self.flows.current().source_topics,
                    "flows": self.flows.current().versions(),
                },
            )
            self._ready = True
            # Everything built so far (compiled flows, parsed schemas, clients) lives as long as
            # the loop: kept out of the cyclic collector, whose frequent runs during Avro
            # decoding would otherwise walk all of it again and again.
            gc.collect()
            gc.freeze()
            return self.processor.run()
        finally:
            gc.unfreeze()
            self._ready = False
            self.flows.stop()
            if self.xref is not None:
                self.xref.stop()
            self.probes.stop()
            self.serdes.close()


def _under(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path
