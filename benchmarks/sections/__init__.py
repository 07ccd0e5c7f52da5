"""The benchmark sections, in the order they run. Each module has NAME, TITLE and run(ctx) -> list[Measure]."""

SECTIONS: dict[str, str] = {
    "api": "benchmarks.sections.api",
    "writes": "benchmarks.sections.writes",
    "uploads": "benchmarks.sections.uploads",
    "websockets": "benchmarks.sections.websockets",
    "collab": "benchmarks.sections.collab",
    "tasks": "benchmarks.sections.tasks",
    "generation": "benchmarks.sections.generation",
    "ui": "benchmarks.sections.ui",
}
