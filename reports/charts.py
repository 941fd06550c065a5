"""Charts as inline SVG: the same markup in a browser and in WeasyPrint's PDF, with no
JavaScript and no image files. Each chart says what it shows in its ``<title>`` and
``aria-label``; its numbers are in a table beside it, which is the text alternative.

Coordinates are computed in integers (tenths of a pixel would gain nothing on paper)."""

from __future__ import annotations

from html import escape

from reports.document import Chart, ValueKind
from reports.formatting import display, whole_pounds_text

WIDTH = 640
BAR_HEIGHT = 360
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 16, 96
PALETTE = ("#005eb8", "#ffb81c", "#009639", "#330072", "#da291c", "#768692")
"""NHS blue, warm yellow, green, purple, red, mid grey (NHS identity colours)."""
GRID = "#d8dde0"
FONT = "Frutiger W01, Arial, Liberation Sans, sans-serif"
TEXT = "#212b32"


def chart_svg(chart: Chart) -> str:
    if chart.kind == "bar":
        return _bar_chart(chart)
    if chart.kind == "line":
        return _line_chart(chart)
    raise ValueError(f"unknown chart kind {chart.kind!r}")


def _nice_step(span: int, steps: int = 4) -> int:
    """A round step (1, 2 or 5 × a power of ten) so that ``steps`` of them cover ``span``."""
    rough = max(1, -(-span // steps))
    power = 1
    while power * 10 <= rough:
        power *= 10
    for factor in (1, 2, 5, 10):
        if power * factor >= rough:
            return power * factor
    return power * 10


def _axis(values: list[int], steps: int = 4) -> tuple[int, int, int]:
    """(bottom, top, step) of a value axis that starts at zero or below and ends on round numbers."""
    low, high = min(values + [0]), max(values + [1])
    step = _nice_step(high - low, steps)
    bottom = -(-low // step) * step if low >= 0 else (low // step) * step
    top = -(-high // step) * step
    return bottom, max(top, bottom + step), step


def _axis_label(value: int, kind: ValueKind) -> str:
    return whole_pounds_text(value) if kind == ValueKind.MONEY else display(value, kind)


def _frame(chart: Chart, height: int, body: list[str]) -> str:
    label = escape(chart.description or chart.title)
    body = [part.replace("<text ", f'<text font-family="{FONT}" ') for part in body]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart__svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{label}" font-family="{FONT}">'
        f"<title>{escape(chart.title)}</title>" + "".join(body) + "</svg>"
    )


def _legend(chart: Chart, y: int) -> list[str]:
    parts = []
    x = LEFT
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{colour}"/>')
        parts.append(f'<text x="{x + 20}" y="{y + 12}" font-size="13" fill="{TEXT}">{escape(series.label)}</text>')
        x += 28 + 8 * len(series.label)
    return parts


def _gridlines(axis: tuple[int, int, int], plot_top: int, plot_bottom: int, kind: ValueKind) -> list[str]:
    parts = []
    bottom_value, top_value, step_value = axis
    steps = (top_value - bottom_value) // step_value
    for step in range(steps + 1):
        value = bottom_value + step * step_value
        y = plot_bottom - (plot_bottom - plot_top) * step // steps
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4}" font-size="12" text-anchor="end" fill="{TEXT}">{escape(_axis_label(value, kind))}</text>')
    return parts


def _bar_chart(chart: Chart) -> str:
    groups = len(chart.labels)
    height = BAR_HEIGHT
    plot_top, plot_bottom = TOP, height - BOTTOM
    axis = _axis([v for s in chart.series for v in s.values])
    bottom_value, top_value, _ = axis
    span = top_value - bottom_value
    body = _gridlines(axis, plot_top, plot_bottom, chart.value_kind)
    plot_width = WIDTH - LEFT - RIGHT
    group_width = plot_width // max(groups, 1)
    bar_width = max(4, (group_width - 12) // max(len(chart.series), 1))

    def y_of(value: int) -> int:
        return plot_bottom - (value - bottom_value) * (plot_bottom - plot_top) // span

    zero = y_of(0)
    for g, label in enumerate(chart.labels):
        x0 = LEFT + g * group_width + 6
        for s, series in enumerate(chart.series):
            value = series.values[g]
            y = y_of(value)
            top, bar_height = (y, zero - y) if value >= 0 else (zero, y - zero)
            colour = PALETTE[s % len(PALETTE)]
            text = escape(f"{label}, {series.label}: {display(value, chart.value_kind)}")
            body.append(f'<rect x="{x0 + s * bar_width}" y="{top}" width="{bar_width - 2}" height="{max(bar_height, 1)}" fill="{colour}"><title>{text}</title></rect>')
        cx = x0 + group_width // 2 - 6
        body.append(
            f'<text x="{cx}" y="{plot_bottom + 14}" font-size="12" text-anchor="end" fill="{TEXT}" '
            f'transform="rotate(-35 {cx} {plot_bottom + 14})">{escape(_short(label))}</text>'
        )
    body.append(f'<line x1="{LEFT}" y1="{zero}" x2="{WIDTH - RIGHT}" y2="{zero}" stroke="{TEXT}" stroke-width="1"/>')
    body += _legend(chart, height - 22)
    return _frame(chart, height, body)


def _line_chart(chart: Chart) -> str:
    height = 300
    plot_top, plot_bottom = TOP, height - 64
    axis = _axis([v for s in chart.series for v in s.values])
    bottom_value, top_value, _ = axis
    span = top_value - bottom_value
    body = _gridlines(axis, plot_top, plot_bottom, chart.value_kind)
    points = len(chart.labels)
    plot_width = WIDTH - LEFT - RIGHT

    def x_of(index: int) -> int:
        return LEFT + (plot_width * index // (points - 1) if points > 1 else plot_width // 2)

    def y_of(value: int) -> int:
        return plot_bottom - (value - bottom_value) * (plot_bottom - plot_top) // span

    for s, series in enumerate(chart.series):
        colour = PALETTE[s % len(PALETTE)]
        path = " ".join(f"{x_of(i)},{y_of(v)}" for i, v in enumerate(series.values))
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="3"/>')
    ticks = sorted({0, points - 1, *range(0, points, max(1, points // 6))}) if points else []
    for index in ticks:
        body.append(f'<text x="{x_of(index)}" y="{plot_bottom + 18}" font-size="12" text-anchor="middle" fill="{TEXT}">{escape(chart.labels[index])}</text>')
    body += _legend(chart, height - 24)
    return _frame(chart, height, body)


def _short(label: str, limit: int = 22) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
