"""Counsellors' verdicts on safety flags (issue 13): a false alarm, or another level, always with a reason.

A flag is a user message the screen (or the bot's crisis intent) flagged, or the crisis case it opened. The
verdict is a label for trainers, not a move of the conversation: the conversation keeps its place and a crisis
case still closes only through its checklist with a reason (console/cases.py), because one click must never hide
a risk another flag raised. Trainers export the labels with the message text (`ycc safety export-feedback`);
the API and the audit log carry ids, levels and reason ids only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.actions import Invalid
from console.auth import Principal, audit
from console.serialize import iso
from handoff.domain.safety import LEVELS
from handoff.store.models import Conversation, Escalation, Message, SafetyFeedback
from handoff.store.types import utcnow

REASONS_FILE = Path(__file__).resolve().parent / "data" / "safety_feedback.yml"
VERDICTS = ("false_alarm", "change_level")
NOTE_MAX = 200


@lru_cache(maxsize=2)
def load_reasons(path: Path = REASONS_FILE) -> dict[str, dict[str, str]]:
    """{verdict: {reason id: label}}; a file without both lists fails on first use with its name."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    reasons = {v: {str(k): str(label) for k, label in (raw.get(v) or {}).items()} for v in VERDICTS}
    if not all(reasons.values()):
        raise ValueError(f"{path}: needs reasons under {' and '.join(VERDICTS)}")
    return reasons


def feedback_json(feedback: SafetyFeedback) -> dict[str, Any]:
    return {
        "id": feedback.id,
        "conversation_id": feedback.conversation_id,
        "message_id": feedback.message_id,
        "escalation_id": feedback.escalation_id,
        "flagged_level": feedback.flagged_level,
        "flagged_category": feedback.flagged_category,
        "verdict": "false_alarm" if feedback.level is None else "change_level",
        "level": feedback.level,
        "reason": feedback.reason,
        "reason_label": _label(feedback),
        "note": feedback.note,
        "author": feedback.author,
        "at": iso(feedback.at),
    }


def _label(feedback: SafetyFeedback) -> str:
    verdict = "false_alarm" if feedback.level is None else "change_level"
    return load_reasons()[verdict].get(feedback.reason, feedback.reason)


async def _flag(session: AsyncSession, conversation: Conversation, body: dict[str, Any]) -> dict[str, Any]:
    """The flag the verdict is about: a flagged user message of this conversation, or one of its cases."""
    escalation_id, message_id = body.get("escalation_id"), body.get("message_id")
    if isinstance(escalation_id, int) and not isinstance(escalation_id, bool):
        escalation = await session.get(Escalation, escalation_id)
        if escalation is None or escalation.conversation_id != conversation.id:
            raise Invalid({"escalation_id": "この相談の危機対応ケースではありません。"})
        return {"escalation_id": escalation.id, "message_id": escalation.message_id,
                "flagged_level": escalation.level, "flagged_category": escalation.category}
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        message = await session.get(Message, message_id)
        if message is None or message.conversation_id != conversation.id or message.risk_level is None:
            raise Invalid({"message_id": "この相談でフラグの付いたメッセージではありません。"})
        case = await session.scalar(select(Escalation.id).where(Escalation.message_id == message.id).limit(1))
        return {"escalation_id": case, "message_id": message.id,
                "flagged_level": message.risk_level, "flagged_category": message.risk_category}
    raise Invalid({"message_id": "フラグの付いたメッセージかケースを指定してください。"})


def _verdict(body: dict[str, Any], flagged_level: str) -> tuple[str | None, str, str]:
    """(level or None for a false alarm, reason id, note), or Invalid with a message per field."""
    verdict = body.get("verdict")
    if verdict not in VERDICTS:
        raise Invalid({"verdict": "「誤検知」か「レベルの変更」を選んでください。"})
    reason, note = body.get("reason"), body.get("note") or ""
    level = None
    errors: dict[str, str] = {}
    if verdict == "change_level":
        level = body.get("level")
        if level not in LEVELS or level == flagged_level:
            errors["level"] = "今とは違うレベルを選んでください。"
    if reason not in load_reasons()[verdict]:
        errors["reason"] = "理由を選んでください。"
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        errors["note"] = f"メモは{NOTE_MAX}文字以内です。"
    elif reason == "other" and not note.strip():
        errors["note"] = "「その他」のときは、メモに理由を書いてください。"
    if errors:
        raise Invalid(errors)
    return level, str(reason), note.strip()


async def record(
    session: AsyncSession, principal: Principal, conversation: Conversation, body: dict[str, Any]
) -> SafetyFeedback:
    """Store and audit one verdict (ids and levels only in the audit row)."""
    flag = await _flag(session, conversation, body)
    level, reason, note = _verdict(body, flag["flagged_level"])
    feedback = SafetyFeedback(conversation_id=conversation.id, level=level, reason=reason, note=note,
                              author_id=principal.user_id, author=principal.name[:64], at=utcnow(), **flag)
    session.add(feedback)
    await session.flush()
    audit(session, principal.name, "safety_feedback", "conversation", conversation.id,
          detail=f"feedback={feedback.id} message={flag['message_id']} {flag['flagged_level']}->{level or 'none'} "
                 f"reason={reason}")
    return feedback


async def for_conversation(session: AsyncSession, conversation_id: int) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(SafetyFeedback).where(SafetyFeedback.conversation_id == conversation_id)
                                  .order_by(SafetyFeedback.id))).all()
    return [feedback_json(f) for f in rows]


async def labelled_examples(session: AsyncSession) -> list[dict[str, Any]]:
    """Every verdict on a message with its text, shaped like the safety dev set's items (text, level, category)
    plus what the screen said and why the counsellor disagreed. Unsent (withdrawn) messages are left out."""
    rows = (await session.execute(
        select(SafetyFeedback, Message.text).join(Message, Message.id == SafetyFeedback.message_id)
        .where(Message.text.is_not(None), Message.unsent_at.is_(None)).order_by(SafetyFeedback.id)
    )).all()
    return [{
        "text": text,
        "level": feedback.level or "none",
        "category": feedback.reason if feedback.level is None else feedback.flagged_category,
        "flagged": {"level": feedback.flagged_level, "category": feedback.flagged_category},
        "reason": feedback.reason,
        "feedback_id": feedback.id,
        "at": iso(feedback.at),
    } for feedback, text in rows]


def examples_yaml(items: list[dict[str, Any]]) -> str:
    header = ("# Counsellors' verdicts on safety flags, exported by `ycc safety export-feedback`.\n"
              "# Consultation text: keep this file on the server, owner-only; never commit it as it is.\n"
              "# See docs/trainers.md (Safety feedback) for turning these into dev-set or lexicon entries.\n")
    return header + yaml.safe_dump({"items": items}, allow_unicode=True, sort_keys=False, width=1000)
