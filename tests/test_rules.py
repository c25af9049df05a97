"""What a final grade sets in motion (R-DISC-1, R-DISC-2, R-RE-1, R-RE-3, R-RE-5, R-KIND-4)."""

import pytest

from models.enums import AuditKind, Grade, ServiceArea
from models.rules import discussion_rule, escalates_to_director, needs_reaudit

STANDARD, PEER, THEMED, REAUDIT = AuditKind.STANDARD, AuditKind.PEER, AuditKind.THEMED, AuditKind.REAUDIT
SG, MASH = ServiceArea.SAFEGUARDING, ServiceArea.MASH
O, G, RI, I = Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE


@pytest.mark.parametrize(
    "kind, area, round_, grade, discussion, reaudit",
    [
        (STANDARD, SG, 0, O, None, False),
        (STANDARD, SG, 0, G, None, False),
        (STANDARD, SG, 0, RI, (10, False), True),  # R-DISC-2
        (STANDARD, SG, 0, I, (5, True), True),  # R-DISC-1
        (THEMED, SG, 0, RI, (10, False), True),
        (STANDARD, MASH, 0, I, (5, True), False),  # R-KIND-4: the TM acts, no re-audit
        (STANDARD, MASH, 0, RI, (10, False), False),
        (PEER, SG, 0, None, (10, False), False),  # Decision: a peer audit's plan
        (REAUDIT, SG, 1, G, None, False),
        (REAUDIT, SG, 1, RI, (5, True), True),  # R-DISC-1: a re-audit requiring a 2nd
        (REAUDIT, SG, 2, RI, (10, False), False),  # R-RE-5 instead of a 3rd
        (REAUDIT, SG, 2, I, (5, True), False),
    ],
)
def test_what_a_final_grade_sets_in_motion(kind, area, round_, grade, discussion, reaudit):
    rule = discussion_rule(kind, area, round_, grade)
    assert (rule and (rule.working_days, rule.smart_actions_required)) == discussion
    assert needs_reaudit(kind, area, round_, grade) is reaudit


def test_only_a_second_reaudit_below_good_goes_to_the_director():
    assert escalates_to_director(2, RI) and escalates_to_director(2, I)
    assert not escalates_to_director(2, G) and not escalates_to_director(1, I)
