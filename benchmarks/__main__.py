"""`python -m benchmarks`: start real studios on 127.0.0.1, measure every section, print one table, write JSON.

    python -m benchmarks                  # every section, full size
    python -m benchmarks --quick          # small sizes (CI): fails on a >3× regression against the baseline
    python -m benchmarks --only api,uploads
    python -m benchmarks --quick --update-baseline   # make this run the committed baseline of its mode
    python -m benchmarks --baseline-from a.json b.json   # the baseline: each measure's worst of these runs

Results go to benchmarks/results/ (`<mode>-<time>.json` and `latest-<mode>.json`). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

from benchmarks import harness
from benchmarks.sections import SECTIONS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI (under 3 minutes)")
    parser.add_argument("--only", default="", help=f"comma-separated sections (of: {', '.join(SECTIONS)})")
    parser.add_argument("--out", type=Path, default=harness.RESULTS, help="where the JSON goes")
    parser.add_argument("--no-check", action="store_true", help="do not compare with the committed baseline")
    parser.add_argument("--update-baseline", action="store_true", help="write this run as the baseline of its mode")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (servers' data and logs)")
    parser.add_argument("--baseline-from", nargs="+", type=Path, metavar="RUN.json",
                        help="write the baseline of these runs' mode from them (each measure's worst) and stop")
    args = parser.parse_args(argv)

    if args.baseline_from:
        runs = [json.loads(path.read_text()) for path in args.baseline_from]
        combined = harness.worst_of(runs)
        target = harness.baseline_path(combined["mode"] == "quick")
        target.write_text(json.dumps(combined, indent=2) + "\n")
        print(f"baseline written: {target.relative_to(harness.REPO)} (each measure's worst of {len(runs)} runs)")
        return 0

    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; there are: {', '.join(SECTIONS)}")

    measures: list[harness.Measure] = []
    errors: dict[str, str] = {}
    started = time.perf_counter()
    for name in chosen:
        module = importlib.import_module(SECTIONS[name])
        print(f"== {name}: {module.TITLE}", flush=True)
        section_started = time.perf_counter()
        with harness.context(args.quick, keep=args.keep) as ctx:
            try:
                found = module.run(ctx)
            except Exception as exc:  # one broken section must not hide the others' numbers
                traceback.print_exc()
                errors[name] = f"{type(exc).__name__}: {exc}"
                found = []
        for m in found:
            print(f"   {m.name}: {harness.fmt(m.value, m.unit)}"
                  + (f" (anchor {harness.fmt(m.anchor, m.unit)}, {m.ratio:.2f}×)" if m.ratio is not None else ""),
                  flush=True)
        print(f"   ({time.perf_counter() - section_started:.0f} s)", flush=True)
        measures += found

    result = harness.report(measures, args.quick, errors)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print()
    print(harness.table(measures))
    path = harness.write(result, args.out)
    print(f"\nwritten: {path.relative_to(harness.REPO) if path.is_relative_to(harness.REPO) else path}"
          f" ({result['seconds']} s)")

    failed = False
    if errors:
        print(f"sections that failed: {', '.join(errors)}", file=sys.stderr)
        failed = True
    baseline = harness.baseline_path(args.quick)
    if args.update_baseline:
        baseline.write_text(json.dumps(result, indent=2) + "\n")
        print(f"baseline written: {baseline.relative_to(harness.REPO)}")
    elif not args.no_check and baseline.exists():
        worse = harness.regressions(result, json.loads(baseline.read_text()))
        if worse:
            print("regressions against the baseline:\n  " + "\n  ".join(worse), file=sys.stderr)
            failed = True
        else:
            print(f"no measure is more than {harness.REGRESSION_FACTOR:g}× worse than {baseline.name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
