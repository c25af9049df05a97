"""self-selection requests on My work: a request waiting for its decision waits on its Head of Service

Revision ID: 0018
Revises: 0017
"""

from alembic import op


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A request's row carries its wait since this revision; a request asked before saves its row
    # next at its decision, which ends the wait, so without this it never reached My work.
    op.execute("""
        INSERT INTO waiting (process, process_id, case_ref, staff_id, role, action, until, overdue)
        SELECT 'self_selection', s.request_id, s.case_ref, s.head_of_service_id, NULL,
               'approve or refuse the request', s.due, FALSE
        FROM self_selection s
        WHERE s.status = 'awaiting_decision' AND s.head_of_service_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM waiting w WHERE w.process = 'self_selection' AND w.process_id = s.request_id)
    """)


def downgrade() -> None:
    # The code before this revision links no self-selection item on My work.
    op.execute("DELETE FROM waiting WHERE process = 'self_selection'")
