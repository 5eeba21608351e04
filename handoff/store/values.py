"""The closed sets of values some columns hold, named once so that no module spells a status or a role by hand.

They are StrEnums: a member is the string stored in the column (``OutboxStatus.SENT == "sent"``), so rows written
before these names existed read back unchanged and no migration is needed.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """`users.role`: what a console account may do (console/roles.py groups them by page)."""

    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    TRAINER = "trainer"
