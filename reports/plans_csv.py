"""A workload plan as CSV (`GET /plans/{year}.csv`): one person's month a line, so a spreadsheet
can filter by month or person, or pivot months against people."""

import csv
import io

from reports.plans import Plan

HEADER = ("month", "staff_id", "selection", "reaudits", "moderations", "total", "over_limit", "limit")


def plan_csv(p: Plan) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for month in p.months:
        for c in month.cells:
            writer.writerow(
                (
                    month.cycle,
                    c.staff_id or "unnamed",
                    c.selection,
                    c.reaudits,
                    c.moderations,
                    c.total,
                    str(c.over).lower(),
                    p.max_per_month,
                )
            )
    return buffer.getvalue()
