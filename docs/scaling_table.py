"""Re-measure the README's scaling table: one ``planner bench --json`` per row, one at a time.

    python docs/scaling_table.py [--only LABEL ...] > table.md

Each row runs in its own process (peak memory is per process) into a fresh temporary folder, and
the script prints the Markdown table the README shows. Run it on an otherwise idle machine: the
figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

QUARTERLY_20 = ["--sites", "20", "--periods", "40", "--quarters"]
ROWS: list[tuple[str, list[str]]] = [
    ("5 sites × 40 quarters, LP", ["--sites", "5", "--relax"]),
    ("10 sites × 40 quarters, LP", ["--sites", "10", "--relax"]),
    (
        "10 sites × 40 quarters, 27 scenarios (`--branching 3 --stages 3`), LP",
        ["--sites", "10", "--stages", "3", "--relax"],
    ),
    ("20 sites × 40 quarters, LP (the target case)", [*QUARTERLY_20, "--relax"]),
    ("40 sites × 40 quarters, LP", ["--sites", "40", "--relax"]),
    ("20 sites × 40 quarters, MIP, bench defaults (the target case)", QUARTERLY_20),
    ("20 sites × 40 quarters, 1 scenario, MIP, bench defaults", [*QUARTERLY_20, "--stages", "0"]),
    ("20 sites × 40 quarters, 3 scenarios, MIP, bench defaults", [*QUARTERLY_20, "--stages", "1"]),
    ("10 sites × 40 quarters, MIP, bench defaults", ["--sites", "10"]),
    ("5 sites × 40 quarters, MIP, bench defaults", ["--sites", "5"]),
    ("20 sites × 10 years, MIP, bench defaults", ["--periods", "10", "--years"]),
]
HEADER = (
    "| bench case | rows | columns | nonzeros | integer | build s | load s | solve s | end to end s "
    "| peak MiB | result |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def result_text(figures: dict) -> str:
    """``optimal, 169.487 $B`` for an LP; status, gap, plan and bound for a MIP."""
    plan = figures["objective_musd"]
    if not figures["integer"]:
        return f"{figures['status']}, {plan / 1000:,.3f} $B"
    gap = figures["mip_gap"]
    bound = figures["bound_musd"]
    return (
        f"{figures['status']}, **{gap:.2%} gap** (plan {plan:,.0f}, bound {bound:,.0f} $M)"
        if gap is not None and bound is not None
        else figures["status"]
    )


def table_row(label: str, figures: dict) -> str:
    cells = [
        label,
        f"{figures['rows']:,}",
        f"{figures['columns']:,}",
        f"{figures['nonzeros']:,}",
        f"{figures['integer_columns']:,}",
        f"{figures['build_seconds']:.1f}",
        f"{figures['load_seconds']:.1f}",
        f"{figures['solve_seconds']:.1f}",
        f"{figures['total_seconds']:.1f}",
        f"{figures['peak_rss_mib']:,.0f}",
        result_text(figures),
    ]
    return "| " + " | ".join(cells) + " |"


def measure(args: list[str], scratch: Path) -> dict:
    out = scratch / f"run{len(list(scratch.iterdir()))}"
    command = ["planner", "bench", *args, "--out", str(out), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="rows whose label contains any of these")
    chosen = parser.parse_args().only
    rows = [row for row in ROWS if not chosen or any(text in row[0] for text in chosen)]
    print(HEADER)
    with tempfile.TemporaryDirectory() as scratch:
        for label, args in rows:
            print(table_row(label, measure(args, Path(scratch))), flush=True)
            print(f"measured: {label}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
