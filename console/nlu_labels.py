"""Trainers' labels on turns the bot misread (issue 14, item 7): what may be labelled, the label, the export.

One allow-list, used by the review page, by labelling and by the export alike: consented contacts only, their text
turns, never a crisis turn or an internal note. The text leaves the database only through console/masking.py; the
export is the masked text a trainer saw, which they rewrite before it becomes training data (docs/trainers.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from console.auth import Principal, audit
from console.masking import masker
from handoff.domain.eligibility import MUNICIPALITIES
from handoff.store.models import Contact, Conversation, Message
from handoff.store.models_training import NluLabel
from handoff.store.types import utcnow
from handoff.store.values import Sender

UNSURE_BELOW = 0.6  # the review page's "unsure" filter: NLU gave less than this, or fell back
FALLBACK = "nlu_fallback"


class LabelError(ValueError):
    """Shown to the trainer as the reason nothing was saved."""


def reviewable(*senders: str) -> Select[tuple[Message]]:
    """Turns a trainer may see: consented contacts, text or taps, no crisis, no note. `senders` narrows it."""
    return (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Contact.consent.is_(True), Message.sender.in_(senders or (Sender.USER, Sender.BOT)),
               Message.internal.is_(False), Message.crisis.is_(False), Message.kind.in_(("text", "postback")))
    )


def unsure(message: Message) -> bool:
    return message.nlu_intent == FALLBACK or (
        message.nlu_confidence is not None and message.nlu_confidence < UNSURE_BELOW)


async def labels_for(session: AsyncSession, message_ids: Sequence[int]) -> dict[int, str]:
    if not message_ids:
        return {}
    found = await session.execute(select(NluLabel.message_id, NluLabel.intent)
                                  .where(NluLabel.message_id.in_(message_ids)))
    return dict(found.tuples().all())


async def set_label(session: AsyncSession, principal: Principal, message_id: int, intent: str,
                    known: dict[str, list[str]]) -> NluLabel | None:
    """Give the turn its right intent, or take the label away (`intent` empty). Audited with ids only."""
    message = await session.scalar(reviewable("user").where(Message.id == message_id, Message.kind == "text"))
    if message is None:
        raise LabelError("この発言にはラベルを付けられません")
    if intent and intent not in {i for names in known.values() for i in names}:
        raise LabelError("ボットにない意図です")
    label = await session.scalar(select(NluLabel).where(NluLabel.message_id == message_id))
    if not intent:
        if label is not None:
            await session.delete(label)
        audit(session, principal.name, "unlabel_nlu", "message", message_id)
        return None
    if label is None:
        label = NluLabel(message_id=message_id, predicted=message.nlu_intent)
        session.add(label)
    label.intent, label.author_id, label.author, label.at = intent, principal.user_id, principal.name, utcnow()
    audit(session, principal.name, "label_nlu", "message", message_id, detail=intent)
    return label


async def labelled_examples(session: AsyncSession) -> list[dict[str, Any]]:
    """Every labelled turn still reviewable, masked, oldest first: what `ycc training export-nlu` writes."""
    mask = masker(tuple(MUNICIPALITIES))
    rows = await session.execute(
        reviewable("user").add_columns(NluLabel.intent, NluLabel.predicted)
        .join(NluLabel, NluLabel.message_id == Message.id).order_by(NluLabel.id)
    )
    return [{"text": mask(message.text), "intent": intent, "predicted": predicted}
            for message, intent, predicted in rows.tuples().all()]


def examples_yaml(items: list[dict[str, Any]]) -> str:
    """The staging file a trainer edits before `make nlu-import`: one item per turn, grouped nowhere yet."""
    header = ("# Turns trainers labelled on the review page, masked. Before `make nlu-import REVIEWED=<this file>`:\n"
              "# rewrite every ［…］ placeholder into an invented but natural word (the import refuses them),\n"
              "# delete items you do not want, never add them to a dev set. See docs/trainers.md.\n")
    body = yaml.safe_dump({"items": items}, allow_unicode=True, sort_keys=False, width=1000)
    return header + body
