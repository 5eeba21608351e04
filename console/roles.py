"""Who may do what in the console: the four roles and the groups pages and checks are written against (R24).

A check names a group or a role from here, never a string, so that "who sees the queue" is answered in one place.
The values are `users.role` as stored (handoff.store.values.Role).
"""

from __future__ import annotations

from typing import Final

from handoff.store.values import Role

__all__ = [
    "ALL",
    "BROADCASTERS",
    "EXPORTERS",
    "HOME",
    "LABELS",
    "QUALIFIED",
    "ROSTER_READERS",
    "STAFF",
    "TEMPLATE_EDITORS",
    "TRAINING",
    "WORKLOG_READERS",
    "Role",
]

ALL: Final = (Role.COUNSELLOR, Role.SUPERVISOR, Role.ADMIN, Role.TRAINER)
# Who answers young people: the queue, conversations, crisis cases, the live socket; the only assignees.
STAFF: Final = (Role.COUNSELLOR, Role.SUPERVISOR)
# Qualifications A/B/C (R9) describe the people who answer.
QUALIFIED: Final = STAFF
TEMPLATE_EDITORS: Final = (Role.COUNSELLOR, Role.SUPERVISOR, Role.ADMIN)
ROSTER_READERS: Final = (Role.ADMIN, Role.SUPERVISOR)
WORKLOG_READERS: Final = (Role.SUPERVISOR, Role.ADMIN)
# Information deliveries to every friend or a consented segment (issue 17 item 1): the office, not one counsellor.
BROADCASTERS: Final = (Role.SUPERVISOR, Role.ADMIN)  # supervisors write the day's note; admins read only
TRAINING: Final = (Role.TRAINER, Role.SUPERVISOR)
# Files of what young people wrote, made on the server (console/private_export.py).
EXPORTERS: Final = (Role.ADMIN, Role.TRAINER)

HOME: Final[dict[str, str]] = {
    Role.COUNSELLOR: "/console/queue",
    Role.SUPERVISOR: "/console/queue",
    Role.ADMIN: "/console/admin",
    Role.TRAINER: "/console/training",
}
LABELS: Final[dict[str, str]] = {
    Role.COUNSELLOR: "相談員",
    Role.SUPERVISOR: "スーパーバイザー",
    Role.ADMIN: "管理者",
    Role.TRAINER: "研修担当",
}
