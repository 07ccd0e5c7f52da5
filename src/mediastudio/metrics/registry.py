"""Counters, gauges and histograms with labels, rendered in the Prometheus text exposition format (0.0.4).

Deliberately small: one process, updated from the event loop (the request wrapper, event bus listeners) or
set by collectors just before a scrape, so no locks. Label values come from bounded sets (route templates,
lanes, task kinds, status classes), never from what a client sends as it is.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable

from litestar.di import NamedDependency

Labels = tuple[str, ...]
# Seconds: from a cached answer (~1 ms) to a long generation (an hour).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAIT_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _label_text(names: Iterable[str], values: Iterable[str]) -> str:
    pairs = ",".join(f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True))
    return f"{{{pairs}}}" if pairs else ""


class Metric:
    kind = "untyped"

    def __init__(self, name: str, help: str, labels: Labels = ()) -> None:
        self.name, self.help, self.labels = name, help, labels

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help.replace(chr(92), chr(92) * 2).replace(chr(10), ' ')}",
                f"# TYPE {self.name} {self.kind}"]

    def lines(self) -> list[str]:
        raise NotImplementedError


class Counter(Metric):
    """A count that only grows (its name ends in `_total`)."""

    kind = "counter"

    def __init__(self, name: str, help: str, labels: Labels = ()) -> None:
        super().__init__(name, help, labels)
        self.values: dict[Labels, float] = {}

    def inc(self, *labels: str, by: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + by

    def set_total(self, value: float, *labels: str) -> None:
        """For a count kept elsewhere (a feature's own tally), copied here by a collector."""
        self.values[labels] = value

    def lines(self) -> list[str]:
        return [f"{self.name}{_label_text(self.labels, key)} {_number(v)}" for key, v in sorted(self.values.items())]


class Gauge(Counter):
    """A value that goes up and down; `clear()` before a collector sets the series it sees now."""

    kind = "gauge"

    def set(self, value: float, *labels: str) -> None:
        self.values[labels] = value

    def dec(self, *labels: str, by: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) - by

    def clear(self) -> None:
        self.values.clear()


class Histogram(Metric):
    """Observations counted into buckets (upper bounds, inclusive), with their sum and count."""

    kind = "histogram"

    def __init__(self, name: str, help: str, labels: Labels = (), buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        super().__init__(name, help, labels)
        self.bounds = tuple(sorted(buckets))
        self.series: dict[Labels, list[float]] = {}  # per bucket (not cumulative), then +Inf, sum

    def observe(self, value: float, *labels: str) -> None:
        counts = self.series.get(labels)
        if counts is None:
            counts = self.series[labels] = [0.0] * (len(self.bounds) + 2)
        counts[bisect_left(self.bounds, value)] += 1
        counts[-1] += value

    def lines(self) -> list[str]:
        out = []
        for key, counts in sorted(self.series.items()):
            running = 0.0
            for bound, count in zip((*self.bounds, math.inf), counts[:-1], strict=True):
                running += count
                le = _label_text((*self.labels, "le"), (*key, _number(bound)))
                out.append(f"{self.name}_bucket{le} {_number(running)}")
            out.append(f"{self.name}_sum{_label_text(self.labels, key)} {_number(counts[-1])}")
            out.append(f"{self.name}_count{_label_text(self.labels, key)} {_number(running)}")
        return out


class CountOf(Metric):
    """A histogram's observations counted as a counter of its own name: the same series, no second update."""

    kind = "counter"

    def __init__(self, name: str, help: str, source: Histogram) -> None:
        super().__init__(name, help, source.labels)
        self.source = source

    def lines(self) -> list[str]:
        return [f"{self.name}{_label_text(self.labels, key)} {_number(sum(counts[:-1]))}"
                for key, counts in sorted(self.source.series.items())]


class Registry:
    """The metrics of one app. `collectors` run before each render and set the values read at that moment;
    `refreshers` (async) before a scrape."""

    def __init__(self) -> None:
        self.metrics: dict[str, Metric] = {}
        self.collectors: list[Callable[[], None]] = []
        self.refreshers: list[Callable[[], Awaitable[None]]] = []  # slow readings (a subprocess), awaited first

    def _add(self, metric: Metric) -> Metric:
        known = self.metrics.get(metric.name)
        if known is not None:  # asked twice (two listeners of one feature): the same series
            if type(known) is not type(metric) or known.labels != metric.labels:
                raise ValueError(f"Metric {metric.name} is already registered with other labels or type")
            return known
        self.metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help: str, labels: Labels = ()) -> Counter:
        metric = self._add(Counter(name, help, labels))
        assert isinstance(metric, Counter)
        return metric

    def gauge(self, name: str, help: str, labels: Labels = ()) -> Gauge:
        metric = self._add(Gauge(name, help, labels))
        assert isinstance(metric, Gauge)
        return metric

    def histogram(self, name: str, help: str, labels: Labels = (),
                  buckets: tuple[float, ...] = LATENCY_BUCKETS) -> Histogram:
        metric = self._add(Histogram(name, help, labels, buckets))
        assert isinstance(metric, Histogram)
        return metric

    def count_of(self, name: str, help: str, source: Histogram) -> None:
        """`source`'s counts as a counter named `name` (requests: their number beside their durations)."""
        self._add(CountOf(name, help, source))

    def collect(self) -> None:
        for collector in self.collectors:
            collector()

    async def scrape(self) -> str:
        """`render` after the slow readings are fresh."""
        for refresh in self.refreshers:
            await refresh()
        return self.render()

    def render(self) -> str:
        """Every metric with at least one series, in the text format (a series-less one is left out)."""
        self.collect()
        out: list[str] = []
        for metric in self.metrics.values():
            lines = metric.lines()
            if lines:
                out += metric.header() + lines
        return "\n".join(out) + "\n"


MetricsDep = NamedDependency[Registry]
