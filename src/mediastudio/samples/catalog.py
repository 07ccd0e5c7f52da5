"""The shipped samples: examples/samples/samples.json lists them, each a `.msproj` bundle and a cover picture
beside it (made by scripts/make_examples.py). A sample is named by its id in that list, never by a path: an id
the list does not hold is refused before any file is touched."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mediastudio.errors import NotFound
from mediastudio.projects.templates import examples_dir

SAMPLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\.(?:msproj|webp)$")


@dataclass(frozen=True)
class Sample:
    id: str
    name: str
    description: str
    bundle: Path
    cover: Path


def samples_dir() -> Path:
    return examples_dir() / "samples"


def _file(folder: Path, name: object) -> Path:
    """A file the list names: a plain name inside the folder (the list ships with the studio; checked anyway)."""
    if not isinstance(name, str) or not FILE_NAME.match(name):
        raise ValueError(f"samples.json names a file it may not: {name!r}")
    return folder / name


@cache
def all_samples() -> tuple[Sample, ...]:
    """Every shipped sample, in the list's order; none when the studio ships without them."""
    folder = samples_dir()
    listing = folder / "samples.json"
    if not listing.is_file():
        return ()
    entries = json.loads(listing.read_text(encoding="utf-8"))["samples"]
    found = []
    for entry in sorted(entries, key=lambda e: (e.get("order", 99), e["id"])):
        if not SAMPLE_ID.match(entry["id"]):
            raise ValueError(f"samples.json has an id it may not: {entry['id']!r}")
        found.append(Sample(id=entry["id"], name=entry["name"], description=entry["description"],
                            bundle=_file(folder, entry["bundle"]), cover=_file(folder, entry["cover"])))
    return tuple(found)


def get_sample(sample_id: str) -> Sample:
    """The sample of this id, or 404 (a hostile id is only ever compared with the list)."""
    for sample in all_samples():
        if sample.id == sample_id:
            return sample
    shown = "".join(c if c.isprintable() else "?" for c in sample_id[:64])
    names = ", ".join(s.id for s in all_samples()) or "none on this server"
    raise NotFound(f"There is no sample '{shown}'.", hint=f"GET /api/v1/samples lists them: {names}.")
