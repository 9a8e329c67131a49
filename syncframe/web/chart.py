"""The runs of a connector over time as a small inline SVG (no chart framework).

One polyline per series (created, updated, removed, failed), oldest run on the
left; each point carries a <title> so a browser shows the numbers on hover.
"""

from __future__ import annotations

from typing import Any, Sequence

from markupsafe import Markup, escape

#: (count key in a run's counts, label, colour)
SERIES = (
    ("create", "created", "#2e7d32"),
    ("update", "updated", "#1565c0"),
    ("delete", "removed", "#ef6c00"),
    ("error", "failed", "#c62828"),
)

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 560, 180, 36, 110, 12, 24


def runs_chart(runs: Sequence[Any]) -> Markup:
    """An ``<svg>`` of ``runs`` (RunRow-like: ``id``, ``counts``), given newest first."""
    points = [r for r in reversed(list(runs)) if r.kind == "run"]
    if not points:
        return Markup('<p class="muted">No runs yet: the chart appears after the first run.</p>')
    top = max([1] + [int((r.counts or {}).get(key, 0)) for r in points for key, _, _ in SERIES])
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, value: int) -> tuple[float, float]:
        return PAD_LEFT + i * step, PAD_TOP + plot_h - value * plot_h / top

    parts = [
        f'<svg class="chart" role="img" aria-label="runs over time" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{PAD_LEFT + plot_w}" y2="{PAD_TOP + plot_h}" stroke="#999"/>',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{PAD_TOP + plot_h}" stroke="#999"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end" font-size="10">{top}</text>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" text-anchor="end" font-size="10">0</text>',
    ]
    for i, run in enumerate(points):
        if i == 0 or i == len(points) - 1:
            x, _ = xy(i, 0)
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="10">#{int(run.id)}</text>')
    for n, (key, label, colour) in enumerate(SERIES):
        coords = [xy(i, int((r.counts or {}).get(key, 0))) for i, r in enumerate(points)]
        parts.append(f'<polyline class="series-{key}" fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in coords)}"/>')
        for (x, y), run in zip(coords, points):
            value = int((run.counts or {}).get(key, 0))
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"><title>run #{int(run.id)}: {value} {label}</title></circle>')
        ly = PAD_TOP + 14 + n * 16
        parts.append(f'<rect x="{WIDTH - PAD_RIGHT + 14}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{WIDTH - PAD_RIGHT + 30}" y="{ly + 1}" font-size="11">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
