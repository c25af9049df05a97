"""A report's charts (R-REP), drawn on the server with matplotlib to SVG: no script, no CDN, and
the same picture in the API (`GET /reports/{kind}/charts/{name}.svg`) and inline in the page.

Each SVG is a picture with its words: `role="img"`, a `<title>` and a `<desc>` that says in a
sentence what the bars show (a screen reader reads those), and the page prints the same figures
in a table beside it. Figures are built with `matplotlib.figure.Figure`, never pyplot: pyplot
keeps global state that two requests drawing at once would share."""

import io
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")  # no display on a server
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "qsaf-report", "font.size": 9})

from matplotlib.axes import Axes  # noqa: E402 (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from reports.figures import ORDER, GradeCounts, Report  # noqa: E402

# Ordered grades, blue (best) to red (worst): a diverging scale that reads without red/green.
COLOURS = {"outstanding": "#2166ac", "good": "#67a9cf", "requires_improvement": "#ef8a62", "inadequate": "#b2182b"}
NAMES = {"outstanding": "Outstanding", "good": "Good", "requires_improvement": "Requires Improvement", "inadequate": "Inadequate"}
GradeRows = list[tuple[str, GradeCounts]]  # a stacked chart's bars: a label and its grade counts


class ChartName(StrEnum):
    GRADES = "grades"  # overall and by service
    DOMAINS = "domains"
    TREND = "trend"  # cycle by cycle (and the years before, annually)
    MODERATION = "moderation"  # agreement by domain


def chart(report: Report, name: ChartName) -> str:
    """The chart as a standalone SVG document's root element (also fit to inline in HTML)."""
    if name is ChartName.MODERATION:
        return _agreement(*_moderation(report))
    title, rows, horizontal = STACKED[name](report)
    return _stacked(name.value, title, rows, horizontal)


def _grades(r: Report) -> tuple[str, GradeRows, bool]:
    rows = [("All services", r.grades.overall)] + [(_label(s), c) for s, c in r.grades.by_service.items()]
    return f"Final grades, {r.title} ({r.scope})", rows, True


def _domains(r: Report) -> tuple[str, GradeRows, bool]:
    return f"Final grades by domain, {r.title}", [(d, c) for d, c in r.grades.by_domain.items()], True


def _trend(r: Report) -> tuple[str, GradeRows, bool]:
    # Short labels (2027-03, and 2025, 2026 for the years before): a year has twelve bars.
    rows = [(p.label, p.grades) for p in r.previous_periods] + [(p.label, p.grades) for p in r.trend]
    return f"Final grades cycle by cycle, {r.title}", rows, False


def _moderation(r: Report) -> tuple[str, list[tuple[str, float]]]:
    by_domain = r.moderation.results.agreement_by_domain
    return f"Moderators' agreement by domain, {r.title}", list(by_domain.items())


STACKED: dict[ChartName, Callable[[Report], tuple[str, GradeRows, bool]]] = {
    ChartName.GRADES: _grades,
    ChartName.DOMAINS: _domains,
    ChartName.TREND: _trend,
}


def _stacked(name: str, title: str, rows: GradeRows, horizontal: bool) -> str:
    figure = Figure(figsize=(7, 1.4 + 0.35 * max(len(rows), 3)) if horizontal else (7, 3.6), layout="constrained")
    axes = figure.subplots()
    labels = [label for label, _ in rows]
    start = [0] * len(rows)
    for grade in ORDER:
        values = [getattr(c, grade) for _, c in rows]
        draw = axes.barh if horizontal else axes.bar
        extra: dict[str, Any] = {"left": start} if horizontal else {"bottom": start}
        draw(labels, values, color=COLOURS[grade], label=NAMES[grade], **extra)
        start = [s + v for s, v in zip(start, values)]
    if horizontal:
        axes.invert_yaxis()  # first row on top, as in the table beside it
    elif len(rows) > 6:
        axes.tick_params(axis="x", labelrotation=45)
    (axes.xaxis if horizontal else axes.yaxis).set_major_locator(MaxNLocator(integer=True))
    (axes.set_xlabel if horizontal else axes.set_ylabel)("final gradings")
    _finish(figure, axes, title, empty=not any(start))
    return _accessible(_svg(figure), name, title, _describe_grades(rows))


def _agreement(title: str, rows: list[tuple[str, float]]) -> str:
    figure = Figure(figsize=(7, 1.2 + 0.35 * max(len(rows), 3)), layout="constrained")
    axes = figure.subplots()
    axes.barh([d for d, _ in rows], [100 * v for _, v in rows], color="#2166ac")
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of moderated audits where the moderator agreed")
    _finish(figure, axes, title, empty=not rows, legend=False)
    description = ("; ".join(f"{d}: {v:.0%} agreed" for d, v in rows) + ".") if rows else "No moderation recorded in this period."
    return _accessible(_svg(figure), "moderation", title, description)


def _finish(figure: Figure, axes: Axes, title: str, empty: bool, legend: bool = True) -> None:
    axes.set_title(title, loc="left", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    if empty:
        axes.text(0.5, 0.5, "Nothing to show for this period", transform=axes.transAxes, ha="center", va="center")
    elif legend:
        figure.legend(loc="outside lower center", ncol=4, frameon=False)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")  # no date: same report, same bytes
    return buffer.getvalue()


def _describe_grades(rows: GradeRows) -> str:
    if not any(c.graded for _, c in rows):
        return "No final gradings in this period."
    parts = [f"{label}: " + ", ".join(f"{getattr(c, g)} {NAMES[g]}" for g in ORDER) for label, c in rows if c.graded]
    return "; ".join(parts) + "."


def _accessible(svg: str, name: str, title: str, description: str) -> str:
    """Drop the XML prologue (so it also fits inline in HTML), give every id the chart's prefix
    (several charts on one page must not share ids), and add role, title and description."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{name}-\1"', svg)
    head_end = svg.index(">") + 1
    opening = svg[: head_end - 1] + f' role="img" aria-labelledby="{name}-title {name}-desc">'
    words = f'<title id="{name}-title">{escape(title)}</title><desc id="{name}-desc">{escape(description)}</desc>'
    return opening + words + svg[head_end:]


def _label(name: str) -> str:
    return name.replace("_", " ")
