"""Charts as inline SVG, drawn on the server by pygal: no script, no font or file from the internet.

Every chart is ``(svg, table)``: the table beside it holds the same numbers for screen readers and print.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from html import escape

import pygal
from pygal.style import Style

__all__ = ["Series", "bars", "table"]

CACHED = 64
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
"""pygal's inline tooltip configuration: the page is static and sends a policy that forbids scripts."""
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

Series = tuple[str, Sequence[float | None]]

# Colour-blind-safe (Okabe-Ito), in the order the outcome series come.
_COLOURS = ("#009E73", "#56B4E9", "#E69F00", "#D55E00", "#999999", "#CC79A7", "#0072B2", "#F0E442")
_STYLE = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#222",
               foreground_subtle="#666", colors=_COLOURS, font_family="sans-serif", label_font_size=11,
               major_label_font_size=11, legend_font_size=11, title_font_size=13, value_font_size=10)


def bars(title: str, labels: Sequence[str], series: Sequence[Series], *, stacked: bool = False,
         horizontal: bool = False, width: int = 560, height: int = 300) -> str:
    """A bar chart of ``series`` over ``labels`` as an ``<svg>`` element (pygal escapes every text).

    The same numbers give the same chart, so it is kept (``CACHED`` charts): the page refreshes every
    minute, and its charts rarely change between two refreshes.
    """
    frozen = tuple((name, tuple(values)) for name, values in series)
    return _bars(title, tuple(labels), frozen, stacked, horizontal, width, height)


@functools.lru_cache(maxsize=CACHED)
def _bars(title: str, labels: tuple[str, ...], series: tuple[tuple[str, tuple[float | None, ...]], ...],
          stacked: bool, horizontal: bool, width: int, height: int) -> str:
    kind = {(False, False): pygal.Bar, (True, False): pygal.StackedBar,
            (False, True): pygal.HorizontalBar, (True, True): pygal.HorizontalStackedBar}[(stacked, horizontal)]
    chart = kind(style=_STYLE, width=width, height=height, js=[], disable_xml_declaration=True,
                 explicit_size=True, title=title, legend_at_bottom=True, legend_at_bottom_columns=4,
                 show_legend=len(series) > 1, truncate_label=28, truncate_legend=24, print_zeroes=False,
                 x_label_rotation=0 if horizontal or len(labels) <= 6 else 30,
                 y_labels=_whole_numbers(series, stacked), no_data_text="nothing in this period")
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    svg = str(chart.render(is_unicode=True))
    return _COMMENT.sub("", _SCRIPT.sub("", svg))


def _whole_numbers(series: Sequence[Series], stacked: bool) -> list[int]:
    """Axis labels for counts: whole numbers from 0, about six of them."""
    columns = list(zip(*(values for _, values in series), strict=True)) or [()]
    if stacked:
        top = max(sum(v or 0 for v in column) for column in columns)
    else:
        top = max((v or 0 for column in columns for v in column), default=0)
    step = max(1, math.ceil(top / 6))
    return list(range(0, int(top) + step + 1, step)) if top else [0, 1]


def table(caption: str, head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table with a caption; every value escaped, ``None`` shown as a dash."""
    header = "".join(f"<th scope=col>{escape(str(name))}</th>" for name in head)
    body = "".join(
        "<tr>" + "".join(
            (f"<th scope=row>{_cell(value)}</th>" if index == 0 else f"<td>{_cell(value)}</td>")
            for index, value in enumerate(row)) + "</tr>"
        for row in rows
    ) or f"<tr><td colspan={len(head)}>nothing in this period</td></tr>"
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return escape(f"{value:,.2f}".rstrip("0").rstrip("."))
    if isinstance(value, int):
        return escape(f"{value:,}")
    return escape(str(value))
