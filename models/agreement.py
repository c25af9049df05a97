"""How far moderators agree with auditors (R-MOD-4: findings feed the quarterly report). Pure.

- agreement rate per domain: of the moderated audits grading that domain, the share the
  moderator agreed with;
- agreement rate per service: the share of the service's moderated audits whose overall grade
  the moderator agreed with;
- grade changes: how often an overall grade was moderated from one grade to another;
- Cohen's kappa of the overall grades, weighted **linearly** for the ordered grades (outstanding >
  good > requires improvement > inadequate): a disagreement of one grade counts 2/3 agreement, of
  two 1/3, of three none. With the number of audits it rests on: a kappa of five audits says little.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.enums import Grade
from models.moderation import KappaResult, Moderation, ModerationResults

if TYPE_CHECKING:
    from models.tables import ModerationRecord

ORDER = [Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE]


@dataclass(frozen=True)
class Judgement:
    """One moderated audit: the overall grade before and after, and per domain whether agreed."""

    service_area: str
    original: Grade
    moderated: Grade
    domains: dict[str, bool] = field(default_factory=dict)


def linear_weight(a: Grade, b: Grade) -> float:
    """1 for the same grade, falling by 1/3 for each grade apart (four grades: k - 1 = 3 steps)."""
    return 1 - abs(ORDER.index(a) - ORDER.index(b)) / (len(ORDER) - 1)


def weighted_kappa(pairs: list[tuple[Grade, Grade]]) -> KappaResult:
    """(observed - chance) / (1 - chance), both weighted. Chance agreement comes from each side's
    own spread of grades. No audits: None. Both sides giving one same grade throughout: chance
    explains all the agreement (0 / 0), so None as well, never a misleading 1 or 0."""
    n = len(pairs)
    if n == 0:
        return KappaResult(value=None, audits=0)
    observed = sum(linear_weight(a, b) for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(linear_weight(a, b) * first[a] * second[b] for a in ORDER for b in ORDER) / (n * n)
    if chance >= 1:
        return KappaResult(value=None, audits=n)
    return KappaResult(value=round((observed - chance) / (1 - chance), 4), audits=n)


def agreement_by_domain(judgements: Iterable[Judgement]) -> dict[str, float]:
    agreed: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for j in judgements:
        for domain, agrees in j.domains.items():
            seen[domain] += 1
            agreed[domain] += agrees
    return {d: round(agreed[d] / seen[d], 4) for d in sorted(seen)}


def agreement_by_service(judgements: Iterable[Judgement]) -> dict[str, float]:
    by_service: dict[str, list[bool]] = defaultdict(list)
    for j in judgements:
        by_service[j.service_area].append(j.original == j.moderated)
    return {s: round(sum(v) / len(v), 4) for s, v in sorted(by_service.items())}


def grade_changes(judgements: Iterable[Judgement]) -> list[dict[str, Any]]:
    """Only the changes, most frequent first: [{"from": "good", "to": "requires_improvement", "count": 2}]."""
    changes = Counter((j.original, j.moderated) for j in judgements if j.original != j.moderated)
    ordered = sorted(changes.items(), key=lambda kv: (-kv[1], ORDER.index(kv[0][0]), ORDER.index(kv[0][1])))
    return [{"from": a.value, "to": b.value, "count": n} for (a, b), n in ordered]


def judgements_of(moderations: Iterable[Moderation]) -> list[Judgement]:
    """The recorded moderations as judgements (those not yet recorded count for nothing)."""
    return [
        Judgement(
            m.service_area,
            m.overall_grade,
            m.findings.overall.standing(m.overall_grade),
            {d.domain: d.agree for d in m.findings.domains},
        )
        for m in moderations
        if m.findings is not None
    ]


def judgements_of_rows(rows: Iterable["ModerationRecord"]) -> list[Judgement]:
    """The recorded rows of the `moderation` table (models.tables.ModerationRecord) as judgements:
    what a quarterly report reads across panels. A recorded row has its moderated grade."""
    return [
        Judgement(
            r.service_area, Grade(r.original_overall), Grade(r.moderated_overall), {d["domain"]: d["agreed"] for d in r.domains}
        )
        for r in rows
        if r.recorded_at is not None and r.moderated_overall is not None
    ]


def results(moderations: Iterable[Moderation]) -> ModerationResults:
    return summarise(judgements_of(moderations))


def summarise(judged: list[Judgement]) -> ModerationResults:
    agreed = sum(j.original == j.moderated for j in judged)
    return ModerationResults(
        moderated=len(judged),
        overall_agreement=round(agreed / len(judged), 4) if judged else None,
        agreement_by_domain=agreement_by_domain(judged),
        agreement_by_service=agreement_by_service(judged),
        grade_changes=grade_changes(judged),
        kappa=weighted_kappa([(j.original, j.moderated) for j in judged]),
    )
