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


class InboxStatus(StrEnum):
    """`inbox.status`: where a stored webhook event is on its way through the worker."""

    PENDING = "pending"  # stored, not handled yet
    BOT = "bot"  # handled; the bot's answer is still to be asked for (handoff/pipeline/bot_step.py)
    DONE = "done"
    IGNORED = "ignored"  # nothing to do (an event type we do not handle, a group left)
    FAILED = "failed"  # gave up after repeated errors; staff are alerted


UNFINISHED_INBOX: tuple[InboxStatus, ...] = (InboxStatus.PENDING, InboxStatus.BOT)


class OutboxStatus(StrEnum):
    """`outbox.status`, and `messages.delivery` of the turns a row carries (the console shows it per message)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNDELIVERABLE = "undeliverable"  # the user blocked the account (R17)


class OutboxKind(StrEnum):
    """`outbox.kind`: what the row asks of LINE."""

    MESSAGE = "message"
    SILENT = "silent"  # a message LINE delivers without a sound (the secure chat's notice, when the user chose so)
    LEAVE_GROUP = "leave_group"
    LEAVE_ROOM = "leave_room"


# The account is for one-to-one talks: the chat type a leave row leaves (LINE's source type) and back.
LEAVE_ROW: dict[str, OutboxKind] = {"group": OutboxKind.LEAVE_GROUP, "room": OutboxKind.LEAVE_ROOM}
LEAVES: dict[str, str] = {kind: chat for chat, kind in LEAVE_ROW.items()}


class AlertStatus(StrEnum):
    """`alerts.status`."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # no YCC_ALERT_WEBHOOK_URL: still shown in the console


class EscalationStatus(StrEnum):
    """`escalations.status`: a crisis case is open until a supervisor or its counsellor closes it."""

    OPEN = "open"
    CLOSED = "closed"


class Direction(StrEnum):
    """`messages.direction`: from the user (in) or to the user, including internal notes (out)."""

    IN = "in"
    OUT = "out"


class Sender(StrEnum):
    """`messages.sender`: who wrote a message. `system` is the gateway itself (notices, waiting acks)."""

    USER = "user"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class BroadcastStatus(StrEnum):
    """`broadcasts.status`: an information delivery's way from the form to every friend (issue 17 item 1)."""

    SCHEDULED = "scheduled"  # waits for its send_at
    SENDING = "sending"  # its batches are being sent
    PAUSED = "paused"  # LINE answered 429 (rate limit or monthly quota); resumes at next_attempt_at
    SENT = "sent"  # every batch settled
    EMPTY = "empty"  # nobody matched when it was due: nothing was sent
    CANCELLED = "cancelled"


# A delivery the worker still has to move on.
UNFINISHED_BROADCASTS: tuple[BroadcastStatus, ...] = (
    BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING, BroadcastStatus.PAUSED,
)


class BatchStatus(StrEnum):
    """`broadcast_batches.status`: one multicast request."""

    PENDING = "pending"
    SENT = "sent"  # LINE accepted it (200, or 409: accepted before under the same retry key)
    FAILED = "failed"  # LINE refused it for good (4xx), or it failed too often
class Channel(StrEnum):
    """`messages.channel` and `conversations.channel`: LINE, or the secure chat off LINE (issue 16)."""

    LINE = "line"
    WEB = "web"


class FollowUpStatus(StrEnum):
    """`follow_ups.status`: a counsellor's one check-in message (issue 17 item 8)."""

    SCHEDULED = "scheduled"
    SENT = "sent"  # handed to the outbox; the person's next message queues the conversation as a follow-up
    ANSWERED = "answered"
    UNDELIVERABLE = "undeliverable"  # they had blocked the account when it was due
    CANCELLED = "cancelled"
