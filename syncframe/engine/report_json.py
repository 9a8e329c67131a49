"""The ``--json`` report written piece by piece, never held whole.

An import of 100,000 users reports 100,000 items (95 MB of JSON); building that
document in memory and then its text doubled the peak memory of the run. The
writer below prints the same JSON value as ``json.dumps(report.to_dict(),
indent=2)`` would, except that each element of the per-user lists (``items``,
``changes``) is encoded on one line of its own as it is written (compact, and a
tenth of the CPU of indented encoding).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

from .report import Report

#: lists written one element per line, as they are encoded
STREAMED = ("items", "changes")
#: lines joined before each write
_CHUNK = 200


def iter_report_json(report: Report) -> Iterator[str]:
    """The report's JSON document in pieces (no trailing newline)."""
    indented = json.JSONEncoder(indent=2, default=str, ensure_ascii=False).encode
    compact = json.JSONEncoder(default=str, ensure_ascii=False, separators=(", ", ": ")).encode
    names = Report.field_names()
    yield "{"
    for n, name in enumerate(names):
        yield ("\n" if n == 0 else ",\n") + f"  {json.dumps(name)}: "
        values = getattr(report, name)
        if name in STREAMED and values:
            yield from _streamed_list(values, lambda v, name=name: compact(Report.json_element(name, v)))
        else:
            yield indented(report.json_value(name)).replace("\n", "\n  ")
    yield "\n}"


def _streamed_list(values: list[Any], encode: Callable[[Any], str]) -> Iterator[str]:
    yield "["
    lines: list[str] = []
    for n, value in enumerate(values):
        lines.append(("\n    " if n == 0 else ",\n    ") + encode(value))
        if len(lines) >= _CHUNK:
            yield "".join(lines)
            lines = []
    yield "".join(lines) + "\n  ]"


def write_report_json(report: Report, write: Callable[[str], Any]) -> None:
    """Write the report's JSON document and a newline through ``write``."""
    for piece in iter_report_json(report):
        write(piece)
    write("\n")
