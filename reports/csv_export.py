"""A report as CSV (`GET /reports/{kind}.csv`): one figure a line, in five columns —
`section, group, item, measure, value` — so a spreadsheet's filter or pivot table can take any
slice of it (e.g. section `grades`, group `service`)."""

import csv
import io
from collections.abc import Iterator

from reports.figures import ORDER, GradeCounts, Report

HEADER = ("section", "group", "item", "measure", "value")
COUNTS = (*ORDER, "graded", "good_or_better")
Row = tuple[str, str, object, str, object]  # as HEADER names them


def report_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows(report))
    return buffer.getvalue()


def rows(r: Report) -> Iterator[Row]:
    for measure in ("kind", "period", "title", "scope", "generated_at", "empty", "message", "audits", "final", "not_yet_final"):
        yield ("report", "", "", measure, _value(getattr(r, measure)))
    yield from _counts("grades", "overall", "all", r.grades.overall)
    for group, counts in (("domain", r.grades.by_domain), ("service", r.grades.by_service), ("team", r.grades.by_team)):
        for item, c in counts.items():
            yield from _counts("grades", group, _value(item), c)
    for section, points in (("trend", r.trend), ("previous_periods", r.previous_periods)):
        for p in points:
            yield (section, "period", p.label, "audits", p.audits)
            yield (section, "period", p.label, "final", p.final)
            yield from _counts(section, "period", p.label, p.grades)
    for section in ("completion", "discussions"):
        yield from _fields(section, getattr(r, section).model_dump())
    reaudits = r.reaudits.model_dump()
    yield from _fields("reaudits", {k: v for k, v in reaudits.items() if k != "escalated_by_service"})
    for service, n in r.reaudits.escalated_by_service.items():
        yield ("reaudits", "escalated_by_service", service, "escalated", n)
    yield from _disputes(r)
    yield from _moderation(r)
    for text in r.sections:
        for n, paragraph in enumerate(text.paragraphs, 1):
            yield ("text", text.heading, n, "paragraph", paragraph)


def _counts(section: str, group: str, item: object, c: GradeCounts) -> Iterator[Row]:
    for measure in COUNTS:
        yield (section, group, item, measure, _value(getattr(c, measure)))


def _fields(section: str, values: dict[str, object]) -> Iterator[Row]:
    for measure, value in values.items():
        yield (section, "", "", measure, _value(value))


def _disputes(r: Report) -> Iterator[Row]:
    yield ("disputes", "", "", "raised", r.disputes.raised)
    yield ("disputes", "", "", "regraded", r.disputes.regraded)
    for level, statuses in r.disputes.by_level.items():
        for status, n in statuses.items():
            yield ("disputes", "level", level, status, n)


def _moderation(r: Report) -> Iterator[Row]:
    m, res = r.moderation, r.moderation.results
    yield ("moderation", "", "", "panels", " ".join(m.panels))
    for measure in ("drawn", "recorded", "overdue"):
        yield ("moderation", "", "", measure, getattr(m, measure))
    yield ("moderation", "", "", "overall_agreement", _value(res.overall_agreement))
    yield ("moderation", "", "", "weighted_kappa", _value(res.kappa.value))
    yield ("moderation", "", "", "kappa_audits", res.kappa.audits)
    for group, values in (("domain", res.agreement_by_domain), ("service", res.agreement_by_service)):
        for item, share in values.items():
            yield ("moderation", group, _value(item), "agreement", share)
    for change in res.grade_changes:
        yield ("moderation", "grade_change", f"{change['from']} -> {change['to']}", "count", change["count"])


def _value(value: object) -> object:
    """None as an empty cell (a share of nothing), dates as ISO text; text a spreadsheet would
    take for a formula (a team named "=..." in the directory) is quoted."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
