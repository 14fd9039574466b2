"""Entry point of d365-sink: settings once, telemetry, composition root, run."""

from __future__ import annotations

from isthmus.d365_sink.app import SERVICE, build
from isthmus.d365_sink.settings import D365SinkSettings
from isthmus.telemetry.service import run_service
from isthmus.telemetry.setup import Telemetry


def main() -> None:
    """Run d365-sink until SIGTERM; exit nonzero on a fatal error."""
    run_service(SERVICE, D365SinkSettings, _run)


def _run(settings: D365SinkSettings, _telemetry: Telemetry) -> int:
    runtime = build(settings)
    runtime.loop.install_signal_handlers()
    return runtime.run()


if __name__ == "__main__":
    main()
