"""A strict reader of the Prometheus text exposition format (0.0.4), for the tests of `GET /metrics`.

Strict on purpose: every sample belongs to a family announced by `# HELP` and `# TYPE` just before it, names
and labels are well formed, values are numbers, a histogram's buckets grow and end with `+Inf` equal to its
`_count`, a counter's name ends in `_total`, no series appears twice. Anything else fails the test.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


@dataclass
class Family:
    name: str
    help: str
    type: str = ""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)

    def value(self, suffix: str = "", **labels: str) -> float:
        """The sample `name+suffix` whose labels include `labels`; it must be the only one."""
        found = [v for (n, ls), v in self.samples.items()
                 if n == self.name + suffix and labels.items() <= dict(ls).items()]
        assert len(found) == 1, f"{self.name}{suffix} {labels}: {len(found)} samples"
        return found[0]

    def label_values(self, label: str) -> set[str]:
        return {dict(ls)[label] for _, ls in self.samples if label in dict(ls)}


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], value)


def _number(text: str) -> float:
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    assert re.fullmatch(r"-?\d+(\.\d+)?(e[+-]?\d+)?", text), f"not a number: {text!r}"
    return float(text)


def _family_of(sample: str, families: dict[str, Family]) -> Family:
    for suffix in ("_bucket", "_sum", "_count", ""):
        base = sample.removesuffix(suffix) if suffix else sample
        if base in families and (suffix == "" or families[base].type == "histogram"):
            return families[base]
    raise AssertionError(f"sample {sample} has no # TYPE before it")


def parse(text: str) -> dict[str, Family]:
    assert text.endswith("\n"), "the exposition ends with a line break"
    families: dict[str, Family] = {}
    current: Family | None = None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(NAME, name) and name not in families, f"bad or repeated HELP: {line}"
            current = families[name] = Family(name, help_text)
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert current is not None and current.name == name and kind in TYPES, f"bad TYPE: {line}"
            current.type = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name = match.group(1)
            labels = tuple((k, _unescape(v)) for k, v in re.findall(LABEL, match.group(2) or ""))
            assert len({k for k, _ in labels}) == len(labels), f"a label twice: {line}"
            family = _family_of(name, families)
            assert family is current, f"{name} is not under its own # TYPE"
            key = (name, labels)
            assert key not in family.samples, f"series twice: {line}"
            family.samples[key] = _number(match.group(match.lastindex or 0))
    for family in families.values():
        assert family.type, f"{family.name} has no # TYPE"
        assert family.samples, f"{family.name} has no samples"
        if family.type == "counter":
            assert family.name.endswith("_total"), f"counter {family.name} must end in _total"
        if family.type == "histogram":
            _check_histogram(family)
    return families


def _check_histogram(family: Family) -> None:
    series: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    for (name, labels), value in family.samples.items():
        if name == family.name + "_bucket":
            rest = tuple(p for p in labels if p[0] != "le")
            series.setdefault(rest, []).append((_number(dict(labels)["le"]), value))
    assert series, f"histogram {family.name} has no buckets"
    for rest, buckets in series.items():
        buckets.sort()
        counts = [count for _, count in buckets]
        assert counts == sorted(counts), f"{family.name} buckets must be cumulative"
        assert math.isinf(buckets[-1][0]), f"{family.name} must end with le=+Inf"
        assert family.samples[(family.name + "_count", rest)] == counts[-1]
        assert (family.name + "_sum", rest) in family.samples
