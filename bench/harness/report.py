"""Figures -> ``bench/results/<mode>.json`` and the table in ``bench/README.md``.

Every row of the table is one figure: what was measured, its value, the target,
``ratio`` = value / target (for "at least" targets: target / value, so a ratio
<= 1 always means the target is met) and the verdict. The README keeps its
hand-written text; only the part between the markers of a mode is rewritten.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .measure import BENCH_DIR

RESULTS = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"


@dataclass
class Row:
    """One figure of the table."""

    scenario: str
    figure: str
    value: float | int | None
    unit: str = ""
    target: float | int | None = None
    #: "<=" value must not exceed target; ">=" value must reach it; "==" exact;
    #: "~" within 10 % of the target either way; "" no target (information)
    op: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.target is None or not self.op:
            return None
        if self.op == ">=":
            return (self.target / self.value) if self.value else math.inf
        if self.target == 0:
            return 1.0 if self.value == 0 else math.inf
        return self.value / self.target

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None or not self.op:
            return None
        if self.op == "<=":
            return self.value <= self.target
        if self.op == "~":
            return abs(self.value - self.target) <= 0.1 * abs(self.target)
        if self.op == ">=":
            return self.value >= self.target
        return self.value == self.target

    def as_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "scenario": self.scenario,
            "figure": self.figure,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "op": self.op,
            "ratio": None if ratio is None else (round(ratio, 3) if math.isfinite(ratio) else "inf"),
            "met": self.met,
            "note": self.note,
        }


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| # | figure | value | target | ratio | verdict |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in rows:
        op = {"==": "=", "<=": "≤", ">=": "≥", "~": "≈"}.get(row["op"], row["op"])
        target = "–" if row["target"] is None else f"{op} {fmt(row['target'], row['unit'])}"
        ratio = "–" if row["ratio"] is None else (row["ratio"] if isinstance(row["ratio"], str) else f"{row['ratio']:.2f}")
        verdict = {True: "met", False: "**missed**", None: "info"}[row["met"]]
        figure = row["figure"] + (f" ({row['note']})" if row.get("note") else "")
        lines.append(f"| {row['scenario']} | {figure} | {fmt(row['value'], row['unit'])} | {target} | {ratio} | {verdict} |")
    return "\n".join(lines)


def write_results(mode: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{mode}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def render_section(data: dict[str, Any]) -> str:
    meta = data["meta"]
    head = (
        f"_{meta['mode']} run of {meta['finished']} on {meta['machine']}; "
        f"total {meta['total_s']:.0f} s; command: `{meta['command']}`._\n\n"
    )
    notes = "".join(f"- {line}\n" for line in meta.get("notes", []))
    return head + markdown_table(data["rows"]) + "\n" + ("\n" + notes if notes else "")


def update_readme(mode: str, data: dict[str, Any], readme: Path = README) -> bool:
    """Rewrite the text between ``<!-- results:MODE:start -->`` and ``...:end -->``."""
    if not readme.exists():
        return False
    text = readme.read_text(encoding="utf-8")
    start, end = f"<!-- results:{mode}:start -->", f"<!-- results:{mode}:end -->"
    if start not in text or end not in text:
        return False
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    readme.write_text(before + start + "\n" + render_section(data) + end + after, encoding="utf-8")
    return True
