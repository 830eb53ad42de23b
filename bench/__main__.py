"""`make bench` / `make bench-quick`: run every figure in one process, write the report."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import traceback
from collections.abc import Callable

from bench import cache_figures
from bench.common import Figure
from bench.report import write
from cachepolicy.embedded import RedisProcess


def plan(quick: bool, server: RedisProcess) -> list[Callable[[], Figure | list[Figure]]]:
    n = 2_000 if quick else 20_000
    sizes = [10**4, 10**5] if quick else [10**4, 10**5, 10**6]
    return [
        lambda: cache_figures.hit_cost(server, n),
        lambda: cache_figures.invalidation_at_scale(sizes),
        lambda: cache_figures.breaker_cost(n),
        lambda: cache_figures.stampede(server),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    options = parser.parse_args(argv)
    figures: list[Figure] = []
    failures = 0
    with RedisProcess() as server:
        for step in plan(options.quick, server):
            try:
                produced = step()
            except Exception:  # a broken figure is reported, the others still run
                traceback.print_exc()
                failures += 1
                continue
            for figure in produced if isinstance(produced, list) else [produced]:
                figures.append(figure)
                print(
                    f"#{figure.number} {figure.name}: ours {figure.ours:,.2f} {figure.unit}, "
                    f"ratio {figure.ratio or 0:,.2f}x, target {figure.target}: "
                    f"{'met' if figure.met else 'MISSED' if figure.met is False else '-'}",
                    flush=True,
                )
    mode = "quick" if options.quick else "full"
    report = write(figures, mode, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    print(report.read_text())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
