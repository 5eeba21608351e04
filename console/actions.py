"""What counsellors do to a conversation: claim, assign, release, reply, note, resolve (R5, R16, R17, R19, R20).

Each function runs inside the caller's unit of work, checks that this principal may do this to this object
(raising `Denied`; the route layer audits it), and changes status only through `conversations.transition`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from console.auth import Denied, NotFound, Principal, audit
from console.roles import STAFF, Role
from handoff import events
from handoff.domain import capacity, profile, survey
from handoff.domain import conversations as conv
from handoff.domain.outgoing import enqueue, to_web
from handoff.line.messages import MAX_TEXT, text_message
from handoff.store.db import notify
from handoff.store.models import Conversation, Message, Record, User
from handoff.store.types import utcnow
from handoff.store.values import Channel, Direction, Sender

TOPICS = {"care_burden": "介護・世話の負担", "school": "学校・勉強", "relationships": "人間関係",
          "career": "進路・仕事", "health": "心と体の健康", "other": "その他"}
# A record's care recipients: the profile's, and "unknown" when the counsellor could not ask.
CARE_RECIPIENTS = {**profile.labels()["care_recipients"], "unknown": "不明・聞けていない"}


class Conflict(Exception):
    """The request is valid but the conversation is not in a state that allows it (409)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Invalid(Exception):
    """Field errors for a form (400), keyed by field name, in Japanese for the counsellor."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def may_view(principal: Principal, conversation: Conversation) -> bool:
    """Supervisors see everything; a counsellor sees the queue and their own conversations (no IDOR)."""
    if principal.role == Role.SUPERVISOR:
        return True
    if principal.role == Role.COUNSELLOR:
        return conversation.status == conv.QUEUED or (
            principal.user_id is not None and conversation.assignee_id == principal.user_id)
    return False


async def load(session: AsyncSession, principal: Principal, conversation_id: int, *, lock: bool = False
               ) -> Conversation:
    """Fetch a conversation the principal may see, optionally taking the write lock first (claims race)."""
    if lock:
        # A write first: SQLite takes its write lock now and PostgreSQL its row lock, so two counsellors
        # claiming the same conversation are serialised and the second sees the first one's result.
        await session.execute(update(Conversation).where(Conversation.id == conversation_id)
                              .values(updated_at=Conversation.updated_at))
    conversation = await session.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        raise NotFound()
    if not may_view(principal, conversation):
        raise Denied("conversation", conversation_id, f"{principal.role} may not access this conversation")
    return conversation


def _require_holder(principal: Principal, conversation: Conversation) -> None:
    if conversation.status != conv.OPEN:
        raise Conflict("not_open", "この相談は対応中ではありません。")
    if principal.user_id is None or conversation.assignee_id != principal.user_id:
        raise Denied("conversation", conversation.id, "only the assigned counsellor may do this")


async def assign(
    session: AsyncSession, principal: Principal, conversation_id: int, user_id: int | None
) -> Conversation:
    """Claim (no user_id, or one's own), assign or reassign (supervisors only)."""
    if user_id is None:
        if principal.user_id is None:
            raise Conflict("assignee_required", "担当者（user_id）を指定してください。")
        user_id = principal.user_id
    if user_id != principal.user_id and principal.role != Role.SUPERVISOR:
        raise Denied("conversation", conversation_id, "only supervisors assign to someone else")
    conversation = await load(session, principal, conversation_id, lock=True)
    target = await session.get(User, user_id)
    if target is None or target.disabled or target.role not in STAFF:
        raise Conflict("bad_assignee", "この担当者には割り当てられません。")
    if conversation.status == conv.OPEN:
        if conversation.assignee_id == target.id:
            return conversation
        if principal.role != Role.SUPERVISOR:
            raise Conflict("taken", "この相談は他の相談員が対応中です。")
    elif conversation.status != conv.QUEUED:
        raise Conflict("not_queued", "この相談は待機中ではありません。")
    if not capacity.has_room(await capacity.open_chats_of(session, target.id), target.max_chats):
        raise Conflict("limit", f"同時に対応できる上限（{target.max_chats}件）に達しています。")
    now = utcnow()
    if conversation.status == conv.QUEUED:
        reason = "claim" if target.id == principal.user_id else "assign"
        await conv.transition(session, conversation, conv.OPEN, actor=principal.name, reason=reason, at=now)
    else:
        audit(session, principal.name, "reassign", "conversation", conversation.id,
              detail=f"{conversation.assignee_id}->{target.id}")
    conversation.assignee_id = target.id
    conversation.assignee = target
    notify(session, events.assigned(conversation.id, target.id))
    return conversation


async def release(session: AsyncSession, principal: Principal, conversation_id: int) -> Conversation:
    conversation = await load(session, principal, conversation_id, lock=True)
    if conversation.status != conv.OPEN:
        raise Conflict("not_open", "この相談は対応中ではありません。")
    if principal.role != Role.SUPERVISOR and conversation.assignee_id != principal.user_id:
        raise Denied("conversation", conversation_id, "only the holder or a supervisor may release")
    await conv.transition(session, conversation, conv.QUEUED, actor=principal.name, reason="release", at=utcnow())
    notify(session, events.queued(conversation.id))
    return conversation


def _text(body: dict[str, Any], limit: int = MAX_TEXT) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise Invalid({"text": "本文を入力してください。"})
    if len(text) > limit:
        raise Invalid({"text": f"{limit}文字以内にしてください。"})
    return text.strip()


async def send(session: AsyncSession, principal: Principal, conversation_id: int, body: dict[str, Any]
               ) -> list[Message]:
    """Queue a counsellor's reply for LINE (push with a retry key); the outbox marks delivery per message."""
    text = _text(body)
    conversation = await load(session, principal, conversation_id)
    _require_holder(principal, conversation)
    now = utcnow()
    recipient, messages = conversation.contact.line_user_id, [text_message(text)]
    if conversation.channel == Channel.WEB:  # the secure chat: the text to its page, a content-free notice to LINE
        turns = await to_web(session, recipient=recipient, messages=messages, conversation_id=conversation.id, at=now,
                             sender=Sender.AGENT, agent_id=principal.user_id)
        sent = Message.id.in_(turns)
    else:
        ids = await enqueue(session, recipient=recipient, messages=messages, conversation_id=conversation.id, at=now,
                            sender=Sender.AGENT, agent_id=principal.user_id)
        sent = Message.outbox_id.in_(ids)
    conversation.last_message_at = now
    conversation.updated_at = now
    notify(session, events.message(conversation.id))
    await session.flush()
    return list((await session.scalars(select(Message).where(sent).order_by(Message.id))).all())


async def add_note(session: AsyncSession, principal: Principal, conversation_id: int, body: dict[str, Any]
                   ) -> Message:
    """An internal note: stored with the conversation, never sent to the user."""
    text = _text(body, 4000)
    conversation = await load(session, principal, conversation_id)
    if principal.role != Role.SUPERVISOR and conversation.assignee_id != principal.user_id:
        raise Denied("conversation", conversation_id, "notes are for the holder or a supervisor")
    now = utcnow()
    note = Message(conversation_id=conversation.id, direction=Direction.OUT, sender=Sender.AGENT,
                   agent_id=principal.user_id, kind="note", text=text, event_at=now, created_at=now, internal=True)
    session.add(note)
    await session.flush()
    notify(session, events.note(conversation.id))
    return note


async def unread_tokens(session: AsyncSession, principal: Principal, conversation_id: int) -> list[str]:
    """Mark the user's messages read now that the holder has them on screen; return LINE read tokens."""
    conversation = await load(session, principal, conversation_id)
    _require_holder(principal, conversation)
    rows = (await session.scalars(select(Message).where(
        Message.conversation_id == conversation.id, Message.direction == Direction.IN, Message.read_at.is_(None))
        .order_by(Message.id))).all()
    now = utcnow()
    for row in rows:
        row.read_at = now
    conversation.unread = 0
    tokens = [r.mark_as_read_token for r in rows if r.mark_as_read_token]
    return tokens[-1:]  # LINE marks everything up to the newest message as read


def _choices(values: Any, table: dict[str, str]) -> bool:
    """A non-empty list of known ids (strings: a list or an object in the list must not reach `in`)."""
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) and v in table for v in values)


def validate_record(body: dict[str, Any]) -> dict[str, Any]:
    """The consultation record's required fields, enforced here whatever the browser did (R19, R20)."""
    errors: dict[str, str] = {}
    topics = body.get("topics")
    if not _choices(topics, TOPICS):
        errors["topics"] = "相談内容の分類を1つ以上選んでください。"
    elif len(topics) > len(TOPICS):
        errors["topics"] = f"相談内容の分類は{len(TOPICS)}個までです。"
    recipients = body.get("care_recipients")
    if isinstance(recipients, str):
        recipients = [recipients]
    if not _choices(recipients, CARE_RECIPIENTS):
        errors["care_recipients"] = "ケアの相手を選んでください（わからない場合は「不明」）。"
    elif len(recipients) > len(CARE_RECIPIENTS):
        errors["care_recipients"] = f"ケアの相手は{len(CARE_RECIPIENTS)}個までです。"
    referral_made = body.get("referral_made")
    referral = body.get("referral")
    if not isinstance(referral_made, bool):
        errors["referral_made"] = "つなぎ先の有無を選んでください。"
    elif referral_made and (not isinstance(referral, str) or not referral.strip()):
        errors["referral"] = "つないだ先を書いてください。"
    elif referral_made and len(referral) > MAX_TEXT:
        errors["referral"] = f"つないだ先は{MAX_TEXT}文字以内にしてください。"
    if not isinstance(body.get("follow_up"), bool):
        errors["follow_up"] = "フォローアップの要否を選んでください。"
    summary = body.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = "相談の概要を書いてください。"
    elif len(summary) > 4000:
        errors["summary"] = "概要は4000文字以内にしてください。"
    if errors:
        raise Invalid(errors)
    return {"topics": list(dict.fromkeys(topics)), "care_recipients": list(dict.fromkeys(recipients)),
            "referral": referral.strip() if referral_made else None, "follow_up": body["follow_up"],
            "summary": summary.strip()}


def survey_choice(body: dict[str, Any]) -> bool | None:
    """The counsellor's choice about the survey (issue 17 item 5): absent/null = the default, true, false."""
    choice = body.get("survey")
    if choice is not None and not isinstance(choice, bool):
        raise Invalid({"survey": "アンケートは「おまかせ」「送る」「送らない」から選んでください。"})
    return choice


async def resolve(session: AsyncSession, principal: Principal, conversation_id: int, body: dict[str, Any],
                  resolved_text: str, texts: survey.SurveyTexts | None = None) -> Record:
    """Write the record, hand the user back to the bot and tell them so (content reply "resolved"), with the
    survey's first question when `handoff.domain.survey.offer` says so."""
    fields = validate_record(body)
    choice = survey_choice(body)
    conversation = await load(session, principal, conversation_id, lock=True)
    now = utcnow()
    if conversation.status == conv.BLOCKED:
        # R17: the user blocked the account, so no answer can reach them; the handling is still recorded.
        if principal.role != Role.SUPERVISOR:
            raise Denied("conversation", conversation_id, "only supervisors record a blocked conversation")
        record = Record(conversation_id=conversation.id, author_id=principal.user_id, created_at=now, **fields)
        session.add(record)
        await session.flush()
        return record
    if conversation.status == conv.QUEUED:
        if principal.role != Role.SUPERVISOR:
            raise Denied("conversation", conversation_id, "only supervisors close a queued conversation")
    else:
        _require_holder_or_supervisor(principal, conversation)
    record = Record(conversation_id=conversation.id, author_id=principal.user_id, created_at=now, **fields)
    session.add(record)
    await session.flush()
    question = None if texts is None else await survey.offer(
        session, conversation, conversation.contact, choice, record.id, now, texts)  # before the close resets risk
    await conv.transition(session, conversation, conv.RESOLVED, actor=principal.name, reason="resolved", at=now)
    conversation.unread = 0
    if conversation.contact.following:
        await enqueue(session, recipient=conversation.contact.line_user_id,
                      messages=[text_message(resolved_text), *([question] if question else [])],
                      conversation_id=conversation.id, at=now, sender=Sender.SYSTEM, channel=conversation.channel)
    await session.flush()
    notify(session, events.resolved(conversation.id))
    return record


def _require_holder_or_supervisor(principal: Principal, conversation: Conversation) -> None:
    if conversation.status != conv.OPEN:
        raise Conflict("not_open", "この相談は対応中ではありません。")
    if principal.role != Role.SUPERVISOR and conversation.assignee_id != principal.user_id:
        raise Denied("conversation", conversation.id, "only the holder or a supervisor may resolve")
