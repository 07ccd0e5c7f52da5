"""The benchmark sections, in the order they run. Each module has NAME, TITLE and run(ctx) -> list[Measure]."""

SECTIONS: dict[str, str] = {
    "api": "benchmarks.sections.api",
    "uploads": "benchmarks.sections.uploads",
}
