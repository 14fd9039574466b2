"""A processor process for the crash and shutdown tests: copies its input to its output.

Run as ``python passthrough_app.py --bootstrap ... --group ... --source ... --output ...``.
With ``--kill-on VALUE --marker FILE`` it SIGKILLs itself the first time it handles VALUE, after
the outputs of the batch so far were sent inside the open transaction.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.records import Output, Record
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import KafkaSettings, ProcessorSettings
from isthmus.telemetry.setup import setup_telemetry


def main() -> int:
    """Parse the arguments, run the loop until SIGTERM, return its exit code."""
    parser = argparse.ArgumentParser()
    for name in ("--bootstrap", "--group", "--source", "--output"):
        parser.add_argument(name, required=True)
    parser.add_argument("--exactly-once", action="store_true")
    parser.add_argument("--kill-on", default=None)
    parser.add_argument("--marker", type=Path, default=None)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--metrics-port", type=int, default=None)
    parser.add_argument("--stall-timeout-s", type=float, default=120.0)
    parser.add_argument("--transaction-timeout-ms", type=int, default=60_000)
    args = parser.parse_args()
    setup_telemetry(service="passthrough-test", metrics_port=args.metrics_port)
    kill_on = args.kill_on.encode() if args.kill_on else None

    def handler(record: Record[bytes, bytes]) -> list[Output]:
        if kill_on is not None and record.value == kill_on and not args.marker.exists():
            args.marker.touch()
            time.sleep(1.0)  # let the batch's earlier outputs reach the broker, uncommitted
            os.kill(os.getpid(), signal.SIGKILL)
        if args.delay_ms:
            time.sleep(args.delay_ms / 1000)
        return [Output(topic=args.output, key=record.key, value=record.value)]

    processor = ConsumeLoop.for_handler(
        kafka=KafkaSettings(bootstrap_servers=args.bootstrap, client_id="passthrough-test"),
        settings=ProcessorSettings(
            group_id=args.group,
            exactly_once=args.exactly_once,
            batch_size=args.batch_size,
            static_membership=True,  # the restarted process takes the partitions back at once
            stall_timeout_s=args.stall_timeout_s,
            transaction_timeout_ms=args.transaction_timeout_ms,
        ),
        topics=[args.source],
        handler=handler,
        routes=Routes.from_delays(group=args.group, delays_ms=()),
    )
    processor.install_signal_handlers()
    return processor.run()


if __name__ == "__main__":
    sys.exit(main())
