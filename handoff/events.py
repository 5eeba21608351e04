"""The live events, one catalogue: what a commit tells the consoles (and the worker) has changed.

An event carries a type and ids, never text: a console that cares fetches the change through the audited API.
Every event is made by one of the constructors below and queued with `handoff.store.db.notify`, which publishes
it after the commit. The console's JavaScript reads the same names from the page (`catalogue()`, rendered into
base.html), so a type is spelled once, here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

Event = dict[str, Any]


class EventType(StrEnum):
    MESSAGE = "message"  # a new or changed turn in a conversation
    QUEUED = "queued"  # the conversation waits for a counsellor (handed over or released)
    ASSIGNED = "assigned"  # a counsellor took it or was given it
    NOTE = "note"  # an internal note was added
    RESOLVED = "resolved"  # closed with a record
    BOT = "bot"  # given back to the bot (Rasa answers again)
    PROFILE = "profile"  # the consented profile changed
    DELIVERY = "delivery"  # an outgoing message was sent, failed or could not be delivered
    CRISIS = "crisis"  # danger to life: the console beeps and shows the banner
    CONCERN = "concern"  # a counsellor should read this conversation soon
    CASE = "case"  # a crisis case's checklist or state changed
    SAFETY_FEEDBACK = "safety_feedback"  # a counsellor judged a safety flag
    ALERT = "alert"  # an alert row was stored (the worker POSTs it)
    HELLO = "hello"  # the live socket's greeting (console/live.py)
    PING = "ping"  # the live socket's keep-alive
    WAKE_OUTBOX = "wake_outbox"  # the worker's own: these recipients have something to send now


# Never sent to a console: the worker's wake-ups.
WORKER_ONLY: Final = frozenset({EventType.WAKE_OUTBOX})
# After these, the alert sender looks at its table at once rather than at its next poll.
WAKES_ALERTS: Final = frozenset({EventType.ALERT, EventType.CRISIS})


def for_consoles(event: Event) -> bool:
    return event.get("type") not in WORKER_ONLY


def catalogue() -> dict[str, str]:
    """The names the console's JavaScript matches on, e.g. {"CRISIS": "crisis", …}."""
    return {t.name: t.value for t in EventType if t not in WORKER_ONLY}


def _about(kind: EventType, conversation_id: int | None, **ids: Any) -> Event:
    return {"type": kind, "conversation_id": conversation_id, **ids}


def message(conversation_id: int) -> Event:
    return _about(EventType.MESSAGE, conversation_id)


def queued(conversation_id: int) -> Event:
    return _about(EventType.QUEUED, conversation_id)


def assigned(conversation_id: int, assignee_id: int) -> Event:
    return _about(EventType.ASSIGNED, conversation_id, assignee_id=assignee_id)


def note(conversation_id: int) -> Event:
    return _about(EventType.NOTE, conversation_id)


def resolved(conversation_id: int) -> Event:
    return _about(EventType.RESOLVED, conversation_id)


def given_back(conversation_id: int) -> Event:
    return _about(EventType.BOT, conversation_id)


def profile(conversation_id: int) -> Event:
    return _about(EventType.PROFILE, conversation_id)


def delivery(conversation_id: int, status: str) -> Event:
    return _about(EventType.DELIVERY, conversation_id, status=status)


def crisis(conversation_id: int, escalation_id: int) -> Event:
    return _about(EventType.CRISIS, conversation_id, escalation_id=escalation_id)


def concern(conversation_id: int) -> Event:
    return _about(EventType.CONCERN, conversation_id)


def case(escalation_id: int, conversation_id: int) -> Event:
    return {"type": EventType.CASE, "escalation_id": escalation_id, "conversation_id": conversation_id}


def safety_feedback(conversation_id: int) -> Event:
    return _about(EventType.SAFETY_FEEDBACK, conversation_id)


def alert(alert_type: str, conversation_id: int | None) -> Event:
    return _about(EventType.ALERT, conversation_id, alert=alert_type)


def hello(role: str) -> Event:
    return {"type": EventType.HELLO, "role": role}


def ping() -> Event:
    return {"type": EventType.PING}


def wake_outbox(recipient: str) -> Event:
    """The in-process event that makes the sender look at the recipient's rows now rather than at its next poll."""
    return {"type": EventType.WAKE_OUTBOX, "recipients": [recipient]}
