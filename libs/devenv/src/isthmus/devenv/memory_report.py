"""The soak's memory report: steady RSS and growth of every process beside the targets."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

from isthmus.devenv.memory import (
    GROWTH_TARGET_PCT,
    SERVICE_RSS_TARGET_MB,
    Figures,
    Kind,
    Sample,
    Traffic,
    figures,
    mb,
    peak_mb,
)

_TARGETS = f"steady RSS <= {SERVICE_RSS_TARGET_MB:.0f} MB, growth < {GROWTH_TARGET_PCT:.0f} %"
_GROUPS = (
    (Kind.SERVICE, f"services (targets: {_TARGETS})"),
    (Kind.SANDBOX, "sandboxes (test doubles, no target)"),
    (Kind.JVM, "JVMs (no target)"),
)
_LABELS = {"kafka": "kafka (broker JVM)", "registry": "registry (Apicurio JVM)"}


def report_lines(samples: Sequence[Sample], traffic: Traffic) -> list[str]:
    """The whole report: the run, the demo's counters, a table per kind, every series."""
    moments = sorted({sample.elapsed_s for sample in samples})
    minutes = moments[-1] / 60 if moments else 0.0
    steps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    every = f", a sample every {statistics.median(steps):.0f} s" if steps else ""
    found = figures(samples)
    lines = [
        f"soak: {minutes:.1f} min of demo traffic{every} ({len(moments)} samples)",
        f"orders created {traffic.created}, completed {traffic.completed}, "
        f"in DLQ {traffic.in_dlq} (during the soak)",
    ]
    for kind, title in _GROUPS:
        own = [item for item in found if item.kind is kind]
        if own:
            lines += ["", title, _header()]
            lines += [_row(item, peak_mb(samples, item.component)) for item in own]
    lines += ["", _overall(found), "", "RSS series, MB (one value per sample; - not running):"]
    lines += [f"  {_label(item.component):<24} {_series(item.series_mb)}" for item in found]
    lines += [
        f"  restarted: {item.component} (pids {', '.join(map(str, item.pids))})"
        for item in found
        if len(item.pids) > 1
    ]
    return lines


def sample_line(samples: Sequence[Sample], traffic: Traffic) -> str:
    """One moment on one line: minutes in, the RSS of every process, the demo's counters."""
    if not samples:
        return "no samples"
    memory = ", ".join(
        f"{s.component} {'-' if s.memory is None else f'{mb(s.memory.rss_kib):.1f}'}"
        for s in samples
    )
    return (
        f"{samples[0].elapsed_s / 60:5.1f} min  RSS MB: {memory}; orders created "
        f"{traffic.created}, completed {traffic.completed}, in DLQ {traffic.in_dlq}"
    )


def _header() -> str:
    return f"  {'component':<24} {'steady MB':>9} {'growth %':>9} {'peak MB':>8}  verdict"


def _row(item: Figures, peak: float | None) -> str:
    return (
        f"  {_label(item.component):<24} {_number(item.steady_mb, '.1f'):>9} "
        f"{_number(item.growth_pct, '+.1f'):>9} {_number(peak, '.1f'):>8}  {_verdict(item)}"
    )


def _verdict(item: Figures) -> str:
    met = item.meets_targets()
    if item.kind is not Kind.SERVICE:
        return "-"
    if met is None:
        return "n/a (fewer than 4 samples)"
    return "met" if met else "NOT met"


def missed_targets(samples: Sequence[Sample]) -> list[str]:
    """The services whose steady RSS or growth misses its target."""
    return [item.component for item in figures(samples) if item.meets_targets() is False]


def _overall(found: Sequence[Figures]) -> str:
    verdicts = [item.meets_targets() for item in found if item.kind is Kind.SERVICE]
    if not verdicts or None in verdicts:
        return "targets: not judged (fewer than 4 samples of a service)"
    failed = [item.component for item in found if item.meets_targets() is False]
    if failed:
        return f"targets: NOT met by {', '.join(failed)}"
    return "targets: met by every service"


def _label(component: str) -> str:
    return _LABELS.get(component, component)


def _number(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _series(values: Sequence[float | None]) -> str:
    return " ".join("-" if value is None else f"{value:.1f}" for value in values)
