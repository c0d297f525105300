"""The weekly report's chart: a grouped bar chart drawn on the server as SVG (no JavaScript, no inline style).

One group per service, one horizontal bar per figure, the value written at the end of each bar; the width of the
viewBox is fixed, so the chart scales to any screen, and its height grows with the number of services. Every text
comes from outside (service names, translated labels) and is escaped here.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

# (figure, colour): Okabe–Ito hues, each at least 3:1 against white (WCAG 1.4.11, graphical objects).
SERIES = (("received", "#0072b2"), ("arranged_in_time", "#06713b"), ("overdue", "#c24e00"), ("counted", "#6a3d9a"))
WIDTH, LEFT, RIGHT = 320, 8, 40  # the bars run from LEFT to WIDTH - RIGHT; RIGHT leaves room for a value
FONT, SMALL = 14, 12
TOP = 28  # the tick labels sit above the first group
NAME, BAR, GAP, GROUP_GAP = 22, 10, 2, 12
GROUP = NAME + len(SERIES) * (BAR + GAP) + GROUP_GAP
LEGEND_ROW = 22


def ticks(maximum: int) -> list[int]:
    """Round steps (1, 2 or 5 × 10ⁿ) from 0 to at least `maximum`, at most six of them."""
    if maximum <= 0:
        return [0, 1]
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if maximum <= 5 * step:
                return list(range(0, -(-maximum // step) * step + 1, step))
        magnitude *= 10


def _fit(text: str, budget: float) -> str:
    """`text`, cut with an ellipsis to fit `budget` units at FONT (a CJK character is one em, others about half)."""
    used, out = 0.0, []
    for char in text:
        used += FONT * (1.0 if ord(char) >= 0x2E80 else 0.58)
        if used > budget:
            return "".join(out).rstrip() + "…"
        out.append(char)
    return text


def chart_svg(rows, labels: dict, title: str, *, locale: str = "zh", ident: str = "report-chart") -> str:
    """An accessible SVG (role="img", a <title> and a <desc> giving every number) of `rows` (insurer_report.Row)."""
    scale = ticks(max([getattr(row, key) for row in rows for key, _ in SERIES] or [0]))
    span = WIDTH - LEFT - RIGHT

    def x(value: int) -> float:
        return LEFT + span * value / scale[-1]

    bottom = TOP + GROUP * len(rows)
    height = bottom + 10 + len(SERIES) * LEGEND_ROW
    parts = [f'<line x1="{x(t):.1f}" y1="{TOP - 6}" x2="{x(t):.1f}" y2="{bottom - GROUP_GAP}" stroke="#d9dedb"/>'
             f'<text x="{x(t):.1f}" y="{TOP - 10}" font-size="{SMALL}" text-anchor="middle">{t}</text>' for t in scale]
    for n, row in enumerate(rows):
        top = TOP + n * GROUP
        parts.append(f'<text x="{LEFT}" y="{top + NAME - 6}" font-weight="700">{escape(_fit(row.name(locale), WIDTH - 2 * LEFT))}</text>')
        for i, (key, colour) in enumerate(SERIES):
            value = getattr(row, key)
            y = top + NAME + i * (BAR + GAP)
            parts.append(f'<rect x="{LEFT}" y="{y}" width="{x(value) - LEFT:.1f}" height="{BAR}" fill="{colour}"/>'
                         f'<text x="{x(value) + 4:.1f}" y="{y + BAR - 1}" font-size="{SMALL}">{value}</text>')
    for i, (key, colour) in enumerate(SERIES):
        ly = bottom + 10 + i * LEGEND_ROW
        parts.append(f'<rect x="{LEFT}" y="{ly}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{LEFT + 18}" y="{ly + 11}">{escape(_fit(labels.get(key, key), WIDTH - 2 * LEFT - 18))}</text>')
    desc = "; ".join(f"{row.name(locale)}: " + ", ".join(f"{labels.get(key, key)} {getattr(row, key)}" for key, _ in SERIES)
                     for row in rows)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'font-size="{FONT}" fill="#1a1a1a" aria-labelledby={quoteattr(ident + "-title")} '
            f'aria-describedby={quoteattr(ident + "-desc")} class="chart">'
            f'<title id={quoteattr(ident + "-title")}>{escape(title)}</title>'
            f'<desc id={quoteattr(ident + "-desc")}>{escape(desc)}</desc>'
            + "".join(parts) + "</svg>")
