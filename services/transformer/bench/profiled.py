"""Run the transformer under cProfile, timing the main thread's CPU only (bench ``--profile``).

Usage: ``python profiled.py STATS_FILE``; the transformer's settings come from the environment
as usual. ``time.thread_time`` as the timer leaves out waits and librdkafka's own threads, so
the stats show where the Python thread spends its CPU per record.
"""

from __future__ import annotations

import cProfile
import sys
import time

from isthmus.transformer.__main__ import main

if __name__ == "__main__":
    profile = cProfile.Profile(time.thread_time)
    try:
        code = profile.runcall(main)
    finally:
        profile.dump_stats(sys.argv[1])
    sys.exit(code)
