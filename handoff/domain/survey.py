"""The post-consultation survey (issue 17 item 5): two quick-reply questions and one free comment, all optional.

Who gets it: only a person who consented (R20) and still follows the account, after a counsellor resolved their
consultation; never after a crisis unless the counsellor chose to send it (a crisis is the conversation's risk at
the close, or a crisis case opened in the last CRISIS_DAYS days). The counsellor may also choose not to send it.

How it runs: the first question goes out with the closing message; each tap is a postback `survey:<id>:<key>:<choice>`
the router hands here (never to Rasa), and the next question follows. The comment step takes the person's next text
(after the safety screen, which always runs first), or a tap on 「なし」. Answers are taken for `hours` after sending;
a later tap is thanked and changes nothing; a second tap on an answered question changes nothing either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain.datafile import ContentError, field_text, read_yaml
from handoff.line.messages import MAX_LABEL, text_message
from handoff.store.models import Contact, Conversation, Escalation, Message
from handoff.store.models_survey import Survey

PREFIX = "survey:"
COMMENT = "comment"
DONE = "done"
SKIP = "skip"
CRISIS_DAYS = 7


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    label: str  # how the console and the report name the question
    choices: dict[str, str]  # id → quick-reply label


@dataclass(frozen=True)
class SurveyTexts:
    questions: tuple[Question, ...]
    comment: str
    skip: str
    thanks: str
    expired: str
    hours: int

    @classmethod
    def load(cls, path: Path) -> SurveyTexts:
        raw = read_yaml(path)
        where = str(path)
        if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list) or not raw["questions"]:
            raise ContentError(f"{where}: `questions` must be a list of questions")
        questions = []
        for index, entry in enumerate(raw["questions"]):
            spot = f"{where}: questions[{index}]"
            choices = entry.get("choices") if isinstance(entry, dict) else None
            if not isinstance(choices, dict) or not 2 <= len(choices) <= 4:
                raise ContentError(f"{spot}: `choices` must map 2 to 4 ids to labels")
            labels = {str(k): str(v) for k, v in choices.items()}
            if any(len(v) > MAX_LABEL or not v.strip() for v in labels.values()):
                raise ContentError(f"{spot}: a choice label must be 1 to {MAX_LABEL} characters")
            key = field_text(entry, "key", spot) or ""
            if key in (COMMENT, DONE) or ":" in key or any(":" in k for k in labels):
                raise ContentError(f"{spot}: `{key}` cannot be a question key, and ids cannot contain ':'")
            questions.append(Question(key, field_text(entry, "text", spot) or "",
                                      field_text(entry, "label", spot) or key, labels))
        comment = raw.get("comment") if isinstance(raw.get("comment"), dict) else {}
        hours = raw.get("hours", 24)
        if isinstance(hours, bool) or not isinstance(hours, int) or hours < 1:
            raise ContentError(f"{where}: `hours` must be a whole number of hours, at least 1")
        skip = field_text(comment, "skip", f"{where}: comment") or ""
        if len(skip) > MAX_LABEL:
            raise ContentError(f"{where}: comment.skip must be at most {MAX_LABEL} characters")
        return cls(tuple(questions), field_text(comment, "text", f"{where}: comment") or "", skip,
                   field_text(raw, "thanks", where) or "", field_text(raw, "expired", where) or "", hours)

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def after(self, key: str) -> str:
        keys = [q.key for q in self.questions]
        return keys[keys.index(key) + 1] if keys.index(key) + 1 < len(keys) else COMMENT

    def message(self, survey_id: int, step: str) -> dict[str, Any]:
        """The LINE message asking `step` (a question key or the comment), its choices as quick replies."""
        if step == COMMENT:
            skip = {"title": self.skip, "payload": f"{PREFIX}{survey_id}:{COMMENT}:{SKIP}"}
            return text_message(self.comment, [skip])
        question = self.question(step)
        assert question is not None
        return text_message(question.text, [{"title": label, "payload": f"{PREFIX}{survey_id}:{step}:{choice}"}
                                            for choice, label in question.choices.items()])


def is_survey_postback(data: object) -> bool:
    return isinstance(data, str) and data.startswith(PREFIX)


async def after_crisis(session: AsyncSession, conversation: Conversation, now: datetime) -> bool:
    if conversation.risk == "crisis" or conversation.crisis:
        return True
    opened = await session.scalar(select(Escalation.id).where(
        Escalation.conversation_id == conversation.id,
        (Escalation.status == "open") | (Escalation.opened_at >= now - timedelta(days=CRISIS_DAYS))).limit(1))
    return opened is not None


async def offer(session: AsyncSession, conversation: Conversation, contact: Contact, choice: bool | None,
                record_id: int | None, now: datetime, texts: SurveyTexts) -> dict[str, Any] | None:
    """At a counsellor's close: the first question to send with the closing message, or None (no survey).

    `choice` is the counsellor's: None = the default (send unless after a crisis), True = send, False = do not.
    Without consent nothing is sent, whatever the choice.
    """
    if choice is False or contact.consent is not True or not contact.following:
        return None
    crisis = await after_crisis(session, conversation, now)
    if crisis and choice is not True:
        return None
    first = texts.questions[0].key
    survey = Survey(conversation_id=conversation.id, record_id=record_id, sent_at=now, step=first, answers={},
                    chosen=choice is True, after_crisis=crisis)
    session.add(survey)
    await session.flush()
    return texts.message(survey.id, first)


async def answer_tap(session: AsyncSession, conversation: Conversation, data: str, now: datetime,
                     texts: SurveyTexts) -> dict[str, Any] | None:
    """A tap on a survey quick reply: store it; the next question, the thanks, or None (nothing to send)."""
    parts = data.removeprefix(PREFIX).split(":")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    survey = await session.get(Survey, int(parts[0]))
    if survey is None or survey.conversation_id != conversation.id:
        return None
    step, choice = parts[1], parts[2]
    if now - survey.sent_at > timedelta(hours=texts.hours) and survey.step != DONE:
        return text_message(texts.expired)
    if step != survey.step:
        return None  # a question already answered, tapped again
    if step == COMMENT:
        if choice != SKIP:
            return None
        return _finish(survey, now, texts)
    question = texts.question(step)
    if question is None or choice not in question.choices:
        return None
    survey.answers = {**survey.answers, step: choice}
    survey.answered_at = now
    survey.step = texts.after(step)
    return texts.message(survey.id, survey.step)


async def take_comment(session: AsyncSession, conversation: Conversation, message: Message | None, now: datetime,
                       texts: SurveyTexts) -> dict[str, Any] | None:
    """A text while the survey waits for its comment: it is the comment; the thanks, or None (not a comment)."""
    if message is None:
        return None
    survey = await session.scalar(select(Survey).where(
        Survey.conversation_id == conversation.id, Survey.step == COMMENT,
        Survey.sent_at >= now - timedelta(hours=texts.hours)).order_by(Survey.id.desc()).limit(1))
    if survey is None:
        return None
    await session.flush()  # the message's id
    survey.comment_message_id = message.id
    return _finish(survey, now, texts)


def _finish(survey: Survey, now: datetime, texts: SurveyTexts) -> dict[str, Any]:
    survey.step = DONE
    survey.answered_at = now
    return text_message(texts.thanks)
