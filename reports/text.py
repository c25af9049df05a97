"""The words of a report, written from its figures (reports/figures.py). Pure.

Every report says what the gradings show and how the process ran. The annual one is framed for
the council's self-evaluation: what we know about practice quality, how we know it, what we plan.
The plan is suggested by thresholds (below); the senior leaders edit it before it is published."""

from reports.figures import GradeCounts, Report, Section

RANK_MIN = 3  # a domain graded fewer times is not called strongest or weakest: too few to say
ON_TIME_TARGET = 0.9  # completion and discussions on time: below it, the plan says so
KAPPA_TARGET = 0.6  # "substantial" agreement (Landis & Koch): below it, the plan asks for calibration
GRADE_NAMES = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires Improvement",
    "inadequate": "Inadequate",
}


def sections(report: Report) -> list[Section]:
    if report.empty:
        return [Section(heading="Nothing to report", paragraphs=[report.message])]
    if report.kind == "annual":
        return [
            Section(heading="What we know about practice quality", paragraphs=know(report)),
            Section(heading="How we know it", paragraphs=how(report)),
            Section(heading="What we plan", paragraphs=plan(report)),
        ]
    return [
        Section(heading="What the final gradings show", paragraphs=know(report)),
        Section(heading="How the process ran", paragraphs=how(report)),
    ]


# ---- what we know ----------------------------------------------------------------------------------


def know(r: Report) -> list[str]:
    overall = r.grades.overall
    if not overall.graded:
        return [r.message]
    return [p for p in (_overall(r, overall), _against_before(r, overall), _domains(r), _services(r), _reaudits(r)) if p]


def _overall(r: Report, c: GradeCounts) -> str:
    return (
        f"Of {c.graded} final gradings, {c.outstanding + c.good} ({pct(c.good_or_better)}) are Good or better: "
        + ", ".join(f"{getattr(c, g)} {name}" for g, name in GRADE_NAMES.items())
        + "."
    )


def _against_before(r: Report, c: GradeCounts) -> str | None:
    before = [p for p in r.previous_periods if p.grades.graded]
    if not before:
        return None
    last = before[-1]
    points = round(100 * (c.good_or_better_share() - last.grades.good_or_better_share()))
    change = "the same as" if points == 0 else f"{abs(points)} points {'up on' if points > 0 else 'down on'}"
    return f"That is {change} {last.title} ({pct(last.grades.good_or_better)} of {last.grades.graded})."


def ranked_domains(r: Report) -> list[tuple[str, GradeCounts]]:
    """Domains graded at least RANK_MIN times, best share of Good or better first (then by name)."""
    rankable = [(d, c) for d, c in r.grades.by_domain.items() if c.graded >= RANK_MIN]
    return sorted(rankable, key=lambda dc: (-dc[1].good_or_better_share(), dc[0]))


def _domains(r: Report) -> str:
    ranked = ranked_domains(r)
    if len(ranked) < 2:
        return f"Too few domain gradings to name the strongest and weakest domains (each needs at least {RANK_MIN})."
    (best, b), (worst, w) = ranked[0], ranked[-1]
    return (
        f"The strongest domain is {best} ({pct(b.good_or_better)} Good or better of {b.graded}); "
        f"the weakest is {worst} ({pct(w.good_or_better)} of {w.graded})."
    )


def _services(r: Report) -> str | None:
    inadequate = {s: c.inadequate for s, c in r.grades.by_service.items() if c.inadequate}
    if not inadequate:
        return "No final grading was Inadequate." if r.grades.by_service else None
    listed = ", ".join(f"{label(s)} {n}" for s, n in sorted(inadequate.items(), key=lambda sn: (-sn[1], sn[0])))
    return f"Inadequate gradings by service: {listed}."


def _reaudits(r: Report) -> str | None:
    x = r.reaudits
    if not x.final:
        return None
    text = (
        f"Of {x.final} final re-audits, {x.improved} improved on the audit before, {n(x.unchanged, 'was', 'were')} "
        f"unchanged and {x.worse} fell; {x.closed} reached Good or better, closing the chain."
    )
    if x.escalated:
        where = ", ".join(f"{label(s)} ({n})" for s, n in x.escalated_by_service.items())
        text += (
            f" {n(x.escalated, 'was', 'were')} still below Good at the 2nd re-audit and went to the Director (R-RE-5): {where}."
        )
    return text


# ---- how we know it --------------------------------------------------------------------------------


def how(r: Report) -> list[str]:
    c, d = r.completion, r.discussions
    found = [
        f"{r.audits} audits were allocated for the {len(r.cycles)} cycles of {r.title}; {r.final} are final and "
        f"counted above (R-REP-2), {r.not_yet_final} are not final yet.",
        f"{c.on_time} of {c.audits} ({pct(c.on_time_share)}) were submitted for quality assurance by their "
        f"completion deadline, {c.late} late and {c.not_submitted} not yet. Quality assurance returned "
        f"{c.returned_by_qa} for revision ({c.qa_returns} returns in all); {n(c.not_accepted, 'was', 'were')} not "
        "accepted and carried into a later cycle.",
    ]
    if d.required:
        found.append(
            f"{n(d.required, 'findings discussion was', 'findings discussions were')} due: {d.on_time} recorded on time ({pct(d.on_time_share)}), "
            f"{d.late} late and {d.awaited} awaited; {d.escalated_to_head_of_service} went to the Head of Service."
        )
    found.append(_disputes(r))
    found.append(_moderation(r))
    return found


def _disputes(r: Report) -> str:
    x = r.disputes
    if not x.raised:
        return "No grading was disputed."
    reached = [lvl for lvl, counts in x.by_level.items() if sum(counts.values())]
    return (
        f"{n(x.raised, 'grading was', 'gradings were')} disputed: {x.by_status['resolved']} resolved, {x.by_status['unresolved']} "
        f"unresolved, {x.by_status['withdrawn']} withdrawn and {x.by_status['open']} still open; {x.regraded} "
        f"changed the final grading. Levels reached: {', '.join(label(lvl) for lvl in reached)}."
    )


def _moderation(r: Report) -> str:
    m = r.moderation
    if not m.panels:
        return "No moderation panel sat in this period (they sit in February, June and October, R-MOD-1)."
    res, kappa = m.results, m.results.kappa
    text = f"SLT moderated {m.recorded} of the {m.drawn} audits drawn ({', '.join(m.panels)})"
    if res.overall_agreement is None:
        return text + "; no record yet to measure agreement."
    text += f" and agreed with the overall grade in {pct(res.overall_agreement)}"
    if kappa.value is None:
        return text + f"; with so little variation in the grades a kappa would mislead, so none is given ({kappa.audits} audits)."
    return text + f"; linearly weighted kappa {kappa.value:.2f} over {kappa.audits} audits ({kappa_band(kappa.value)} agreement)."


def kappa_band(value: float) -> str:
    """Landis & Koch's bands, the usual reading of a kappa."""
    if value < 0:
        return "poor"
    for bound, name in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if value <= bound:
            return name
    return "almost perfect"


# ---- what we plan ----------------------------------------------------------------------------------


def plan(r: Report) -> list[str]:
    steps = [
        s for s in (_plan_domain(r), _plan_escalations(r), _plan_completion(r), _plan_discussions(r), _plan_moderation(r)) if s
    ]
    return steps or [
        "The figures meet every target this service checks: keep the programme of audits, re-audits and "
        "moderation as it is, and share the strongest practice at the practice forums."
    ]


def _plan_domain(r: Report) -> str | None:
    ranked = ranked_domains(r)
    if len(ranked) < 2:
        return None
    worst, counts = ranked[-1]
    return (
        f"Make {worst} the focus of practice improvement: a themed audit topic for May or October and the "
        f"quarterly practice workshops ({pct(counts.good_or_better)} Good or better)."
    )


def _plan_escalations(r: Report) -> str | None:
    if not r.reaudits.escalated:
        return None
    where = ", ".join(label(s) for s in r.reaudits.escalated_by_service)
    return (
        f"Follow up the {n(r.reaudits.escalated, 're-audit chain', 're-audit chains')} escalated to the Director with the Heads of Service "
        f"of {where}: what stops practice improving there."
    )


def _plan_completion(r: Report) -> str | None:
    share = r.completion.on_time_share
    if share is None or share >= ON_TIME_TARGET:
        return None
    return (
        f"Raise completion on time from {pct(share)} to at least {pct(ON_TIME_TARGET)}: Heads of Service follow up "
        "the monthly non-completion reports (R-QA-4)."
    )


def _plan_discussions(r: Report) -> str | None:
    share = r.discussions.on_time_share
    if share is None or share >= ON_TIME_TARGET:
        return None
    return (
        f"Findings discussions on time were {pct(share)}: Team Managers to hold them within the 5 or 10 working "
        "days (R-DISC-1, R-DISC-2)."
    )


def _plan_moderation(r: Report) -> str | None:
    kappa = r.moderation.results.kappa.value
    if kappa is None or kappa >= KAPPA_TARGET:
        return None
    by_domain = r.moderation.results.agreement_by_domain
    weakest = min(by_domain, key=lambda d: (by_domain[d], d)) if by_domain else None
    focus = f", starting with {weakest} ({pct(by_domain[weakest])} agreement)" if weakest else ""
    return (
        f"Moderation agreement is {kappa_band(kappa)} (kappa {kappa:.2f}): a grading-criteria calibration session "
        f"for auditors{focus}."
    )


def n(count: int, one: str, many: str) -> str:
    """`n(1, "was", "were")` -> "1 was"; `n(2, ...)` -> "2 were"."""
    return f"{count} {one if count == 1 else many}"


def pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def label(name: str) -> str:
    """`corporate_parenting` -> `corporate parenting` (service areas and dispute levels)."""
    return name.replace("_", " ")
