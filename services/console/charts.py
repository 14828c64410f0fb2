"""The console's charts: pygal, rendered on the server to SVG that loads nothing.

pygal would add a script from kozea.github.io for its tooltips; ``js=[]`` leaves it
out. It still writes an inline script holding its configuration (for tooltips that
are not there) and comments naming its web site: both are stripped, so the SVG holds
no script and names no address but its XML namespace. The SVG is served as an image
(``<img src>``), where no script could run anyway; its own ``<style>`` is allowed by
the chart route's Content-Security-Policy (``style-src 'unsafe-inline'``, nothing
else).

Readable without colour: each series has its own dash pattern and dot size, the
legend names them, and every chart has a ``<title>`` and a ``<desc>`` and a data
table under it on the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from markupsafe import escape
from pygal.style import Style

LINES = (("", "solid line"), ("10,5", "dashed line"), ("2,5", "dotted line"),
         ("12,4,2,4", "dash-dot line"))
"""Per series, its dash pattern and how the legend names it (not by its colour)."""

STYLE = Style(
    background="white", plot_background="white", foreground="#1b1f24",
    foreground_strong="#1b1f24", foreground_subtle="#57606a",
    colors=("#0b5cad", "#b3261e", "#1a7f37", "#8250df"),
    font_family="system-ui, sans-serif", label_font_size=13, major_label_font_size=13,
    legend_font_size=14, title_font_size=16, value_font_size=12, stroke_width=3,
    guide_stroke_color="#d0d7de", major_guide_stroke_color="#afb8c1",
    guide_stroke_dasharray="1,3", major_guide_stroke_dasharray="1,3",
)

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT = re.compile(r"<script\b[^>]*?(/>|>.*?</script>)", re.DOTALL)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Chart:
    """One chart: its title, what it shows (``desc``), the periods and its series."""

    title: str
    desc: str
    unit: str
    periods: Sequence[str]
    series: Sequence[Series]


def render_svg(chart: Chart) -> str:
    """The chart as an SVG document that references nothing outside itself."""
    line = pygal.Line(
        js=[], style=STYLE, width=800, height=360, explicit_size=True, title=chart.title,
        x_labels=list(chart.periods), x_label_rotation=0, show_minor_x_labels=True,
        y_title=chart.unit, legend_at_bottom=True, legend_box_size=18, dots_size=4,
        allow_interruptions=True, include_x_axis=True, print_values=False,
        no_data_text="no data yet", truncate_legend=-1, margin=18,
    )
    for index, series in enumerate(chart.series):
        dash, drawn = LINES[index % len(LINES)]
        stroke = {"width": 3, **({"dasharray": dash} if dash else {})}
        label = f"{series.label} ({drawn})" if len(chart.series) > 1 else series.label
        line.add(label, list(series.values), stroke_style=stroke,
                 dots_size=3 + 2 * (index % 2))
    svg = _SCRIPT.sub("", _COMMENT.sub("", line.render(is_unicode=True)))
    described = f"<desc>{escape(chart.desc)}</desc>"
    return svg.replace("<defs>", f"{described}<defs>", 1)
