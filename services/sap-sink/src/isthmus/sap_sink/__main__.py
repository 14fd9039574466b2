"""Entry point of sap-sink: settings once, telemetry, composition root, run."""

from __future__ import annotations

from isthmus.sap_sink.app import SERVICE, build
from isthmus.sap_sink.settings import SapSinkSettings
from isthmus.telemetry.service import run_service
from isthmus.telemetry.setup import Telemetry


def main() -> None:
    """Run sap-sink until SIGTERM; exit nonzero on a fatal error."""
    run_service(SERVICE, SapSinkSettings, _run)


def _run(settings: SapSinkSettings, _telemetry: Telemetry) -> int:
    runtime = build(settings)
    runtime.loop.install_signal_handlers()
    return runtime.run()


if __name__ == "__main__":
    main()
