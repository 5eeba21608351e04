"""What the gateway says on its own while nobody else answers: in the queue, just after a close, to a sticker.

Why here and not in Rasa: once a conversation is queued Rasa hears nothing (a counsellor will answer), yet a
young person who writes 「まだですか」 into silence gives up. The gateway knows the queue and the hours, so it
acknowledges — briefly, once per burst of bubbles (after the last one), with the place in line or when a
counsellor will read it — and never repeats the long queueing notice. Some messages get their own answer
(`topics`): 「電話はむり」 is told it need not phone (and, off hours, of the chat line), 「しんどい」 is heard
before it is told to wait.
Texts live in data/waiting.yml; variants are taken in turn per conversation (the conversation id and how many
of them it already got), so tests are stable and a user does not read the same sentence twice before the
variants are used up. What was already said is read back from the
conversation's stored messages, so no extra state is kept.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import conversations as conv
from handoff.domain.hours import HoursDecision, HoursPolicy
from handoff.store.models import Conversation, Message, StatusChange
from handoff.store.values import Direction, Sender
from handoff.timeutil import to_tokyo

# Lists of variants and the placeholders each may (and in hours must) use.
VARIANT_FIELDS: dict[str, frozenset[str]] = {
    "ack_in_hours": frozenset({"position"}),
    "ack_off_hours": frozenset({"when"}),
    "status_in_hours": frozenset({"position"}),
    "status_off_hours": frozenset({"when", "position"}),
    "ack_no_opening": frozenset(),
}
TOPIC_FIELDS = frozenset({"position", "when", "chat"})
WHEN_KEYS = ("today", "tomorrow", "weekday", "date", "time", "time_minutes", "weekdays")
CLOSED_NOW_KEYS = ("year_end", "holiday", "weekend", "other")
_FOLD = re.compile(r"\s+")


class WaitingError(ValueError):
    """waiting.yml is malformed; the message names the key."""


def normalise(text: str) -> str:
    """Full-width → half-width, lower case, no spaces: 「誰か 見てる？」 and 「誰か見てる?」 read the same."""
    return _FOLD.sub("", unicodedata.normalize("NFKC", text)).lower()


@dataclass(frozen=True)
class Variants:
    """A list of interchangeable texts; `matchers` recognise each one in a stored message, whatever it filled in."""

    key: str
    texts: tuple[str, ...]
    matchers: tuple[re.Pattern[str], ...]

    def pick(self, conversation_id: int, said: Sequence[str | None]) -> str:
        """The next text for this conversation: variants in turn, starting at a place set by its id."""
        used = sum(1 for text in said if text and any(m.fullmatch(text) for m in self.matchers))
        return self.texts[(conversation_id + used) % len(self.texts)]


@dataclass(frozen=True)
class Topic:
    """A kind of message that gets its own answer while waiting (waiting.yml `topics`), in hours and off hours."""

    key: str
    patterns: tuple[re.Pattern[str], ...]
    in_hours: Variants
    off_hours: Variants

    def matches(self, folded: str) -> bool:
        return any(p.search(folded) for p in self.patterns)


@dataclass(frozen=True)
class AfterClose:
    grace: timedelta
    thanks: tuple[str, ...]
    replies: Variants

    def is_thanks(self, text: str | None) -> bool:
        folded = normalise(text or "")
        return any(word in folded for word in self.thanks)


@dataclass(frozen=True)
class WaitingTexts:
    """data/waiting.yml, validated."""

    every: timedelta
    ack_delay: timedelta
    status_patterns: tuple[re.Pattern[str], ...]
    variants: dict[str, Variants]
    topics: tuple[Topic, ...]
    when_words: dict[str, str]
    closed_now: dict[str, str]
    after_close: AfterClose
    stickers: tuple[tuple[str, tuple[str, ...]], ...]

    chat: str = ""  # the chat line(s) of data/hotlines.yml as one line, for a topic's {chat}

    @classmethod
    def load(cls, path: Path | str, chat: str = "") -> WaitingTexts:
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WaitingError(f"{path}: file is missing") from None
        except yaml.YAMLError as exc:
            raise WaitingError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise WaitingError(f"{path}: expected a mapping")
        return cls.from_mapping(raw, str(path), chat)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], where: str, chat: str = "") -> WaitingTexts:
        every, delay = raw.get("every_minutes"), raw.get("ack_delay_seconds")
        for name, value in (("every_minutes", every), ("ack_delay_seconds", delay)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise WaitingError(f"{where}: {name} must be a number")
        patterns = _patterns(raw, "status_patterns", where)
        topics = raw.get("topics")
        if not isinstance(topics, dict):
            raise WaitingError(f"{where}: topics must map a name to patterns, in_hours and off_hours")
        variants = {key: _variants(raw, key, fields, where) for key, fields in VARIANT_FIELDS.items()}
        when = _mapping(raw, "when", WHEN_KEYS, where)
        if len(when["weekdays"]) != 7:
            raise WaitingError(f"{where}: when.weekdays must be the seven weekday names, Monday first")
        closed_now = _mapping(raw, "closed_now", CLOSED_NOW_KEYS, where)
        for key, text in closed_now.items():
            _check(text, frozenset({"when"}), frozenset({"when"}), f"{where}: closed_now.{key}")
        after = raw.get("after_close")
        if not isinstance(after, dict) or isinstance(after.get("grace_minutes"), bool):
            raise WaitingError(f"{where}: after_close needs grace_minutes, thanks_patterns and replies")
        if not isinstance(after.get("grace_minutes"), int | float):
            raise WaitingError(f"{where}: after_close.grace_minutes must be a number of minutes")
        stickers = raw.get("stickers")
        if not isinstance(stickers, dict) or not stickers:
            raise WaitingError(f"{where}: stickers must map reply keys to keyword lists")
        return cls(
            every=timedelta(minutes=every),
            ack_delay=timedelta(seconds=delay),
            status_patterns=patterns,
            variants=variants,
            topics=tuple(_topic(str(key), entry, f"{where}: topics.{key}") for key, entry in topics.items()),
            when_words=when,
            closed_now=closed_now,
            after_close=AfterClose(
                grace=timedelta(minutes=after["grace_minutes"]),
                thanks=tuple(normalise(t) for t in _strings(after, "thanks_patterns", f"{where}: after_close")),
                replies=_variants(after, "replies", frozenset(), f"{where}: after_close"),
            ),
            stickers=tuple(
                (str(key), tuple(w.lower() for w in _strings(stickers, key, f"{where}: stickers")))
                for key in stickers
            ),
            chat=chat,
        )

    def asks_status(self, text: str | None) -> bool:
        """「まだですか」「誰か見てる？」「いつ返事来る？」: the user asks about the waiting itself."""
        folded = normalise(text or "")
        return bool(folded) and any(p.search(folded) for p in self.status_patterns)

    def topic(self, text: str | None) -> Topic | None:
        """The first topic the message belongs to, in the file's order."""
        folded = normalise(text or "")
        return next((t for t in self.topics if t.matches(folded)), None) if folded else None

    def when(self, at: datetime, next_open: datetime) -> str:
        """The next opening as people say it, from where `at` stands: 「今日の11時から」「明日の…」「月曜の…」."""
        words = self.when_words
        local, opening = to_tokyo(at), to_tokyo(next_open)
        clock = (
            words["time"].format(hour=opening.hour)
            if opening.minute == 0
            else words["time_minutes"].format(hour=opening.hour, minute=f"{opening.minute:02d}")
        )
        weekday = words["weekdays"][opening.weekday()]
        days = (opening.date() - local.date()).days
        if days <= 0:
            return words["today"].format(time=clock)
        if days == 1:
            return words["tomorrow"].format(time=clock)
        if days < 7:
            return words["weekday"].format(weekday=weekday, time=clock)
        return words["date"].format(month=opening.month, day=opening.day, weekday=weekday, time=clock)

    def closed_now_text(self, decision: HoursDecision, at: datetime) -> str | None:
        """For the greeting: that it is closed now and when it opens; None while open or when nothing opens."""
        if decision.open or decision.next_open is None:
            return None
        reason = decision.reason
        key = "holiday" if reason.startswith("holiday:") else reason if reason in CLOSED_NOW_KEYS else "other"
        return self.closed_now[key].format(when=self.when(at, decision.next_open))

    def sticker_key(self, keywords: Sequence[object] | None) -> str:
        """The replies.yml key for a sticker, chosen by the first mood one of its keywords belongs to."""
        words = [w for k in keywords or () if isinstance(k, str) for w in re.split(r"[\s_-]+", k.lower()) if w]
        for key, patterns in self.stickers:
            if any(w == p or (len(p) >= 3 and w.startswith(p)) for w in words for p in patterns):
                return key
        return "sticker_neutral"


async def _said_by_system(session: AsyncSession, conversation_id: int) -> list[tuple[datetime, str | None]]:
    """What the gateway itself already said in this conversation, oldest first (a handful of rows)."""
    result = await session.execute(
        select(Message.event_at, Message.text)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.OUT,
            Message.sender == Sender.SYSTEM,
        )
        .order_by(Message.id)
    )
    return [(at, text) for at, text in result.all()]


@dataclass(frozen=True)
class Ack:
    """What to say to a message while queued; `defer` > 0: send it only if the user stays quiet that long."""

    text: str
    defer: timedelta = timedelta(0)


async def reply_while_queued(
    session: AsyncSession,
    conversation: Conversation,
    text: str | None,
    at: datetime,
    *,
    hours: HoursPolicy,
    texts: WaitingTexts,
) -> Ack | None:
    """The acknowledgement for a message (`text` None for a sticker) to a queued conversation.

    A question about the waiting is answered at once with the current place, and so is a message of a topic
    (also right after the queueing notice: 「電話はむり」 answers its phone numbers), unless the gateway's last
    words, minutes ago, were that topic's answer already. Anything else gets a short acknowledgement `ack_delay`
    later; a message typed meanwhile takes it back (the router calls outbox.cancel_deferred) and gets its own, so a
    burst of bubbles is answered once, after its last one, and no message after a pause goes unanswered.
    None only right after the queueing notice, which has just said what a generic acknowledgement would.
    """
    said = await _said_by_system(session, conversation.id)
    asks = texts.asks_status(text)
    topic = None if asks else texts.topic(text)
    last = max([conversation.waiting_since, *(t for t, _ in said)], key=_key, default=None)
    if topic is not None and last is not None and at - last < texts.every and _answered_last(topic, said):
        topic = None  # 「つらい」「しんどい」「もう無理」 typed together: heard once
    notice_just_sent = conversation.waiting_since is not None and at - conversation.waiting_since < texts.ack_delay
    if not asks and topic is None and notice_just_sent:
        return None
    decision = hours.decide(at)
    if decision.next_open is None:
        variants, values = texts.variants["ack_no_opening"], {}
    else:
        position = await conv.queue_position(session, conversation)
        values = {"position": position, "chat": texts.chat}
        if not decision.open:
            values["when"] = texts.when(at, decision.next_open)
        if topic is not None:
            variants = topic.in_hours if decision.open else topic.off_hours
        else:
            kind = "status" if asks else "ack"
            variants = texts.variants[f"{kind}_{'in' if decision.open else 'off'}_hours"]
    reply = variants.pick(conversation.id, [t for _, t in said]).format(**values)
    return Ack(reply) if asks or topic is not None else Ack(reply, texts.ack_delay)


def _answered_last(topic: Topic, said: list[tuple[datetime, str | None]]) -> bool:
    """Whether the gateway's last words were this topic's answer."""
    last_text = said[-1][1] if said else None
    return bool(last_text) and any(
        m.fullmatch(last_text or "") for v in (topic.in_hours, topic.off_hours) for m in v.matchers)


async def resolved_at(session: AsyncSession, conversation_id: int) -> datetime | None:
    """When a counsellor (or supervisor) last closed the conversation."""
    return await session.scalar(
        select(StatusChange.at)
        .where(StatusChange.conversation_id == conversation_id, StatusChange.to_status == conv.RESOLVED)
        .order_by(StatusChange.id.desc())
        .limit(1)
    )


async def after_close(
    session: AsyncSession, conversation: Conversation, text: str | None, at: datetime, texts: WaitingTexts
) -> tuple[bool, str | None]:
    """(just closed, closing reply) for a message to a resolved conversation.

    Within the grace period the user is not greeted as returning (they were here a minute ago); a thank-you
    gets a short warm closing reply instead of reopening the conversation.
    """
    closed = await resolved_at(session, conversation.id)
    recent = closed is not None and at - closed < texts.after_close.grace
    if not recent or not texts.after_close.is_thanks(text):
        return recent, None
    said = await _said_by_system(session, conversation.id)
    return True, texts.after_close.replies.pick(conversation.id, [t for _, t in said])


def _key(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("-inf")


def _patterns(raw: dict[str, Any], key: str, where: str) -> tuple[re.Pattern[str], ...]:
    patterns = []
    for i, pattern in enumerate(_strings(raw, key, where)):
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise WaitingError(f"{where}: {key}[{i}] is not a regular expression: {exc}") from None
    return tuple(patterns)


def _topic(key: str, entry: Any, where: str) -> Topic:
    if not isinstance(entry, dict):
        raise WaitingError(f"{where}: expected patterns, in_hours and off_hours")
    return Topic(key, _patterns(entry, "patterns", where),
                 _variants(entry, "in_hours", TOPIC_FIELDS - {"when"}, where, required=frozenset()),
                 _variants(entry, "off_hours", TOPIC_FIELDS, where, required=frozenset({"when"})))


def _strings(raw: dict[str, Any], key: str, where: str) -> list[str]:
    value = raw.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise WaitingError(f"{where}: {key} must be a non-empty list of texts")
    return [v.strip() for v in value]


def _mapping(raw: dict[str, Any], key: str, keys: Sequence[str], where: str) -> dict[str, str]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise WaitingError(f"{where}: {key} must be a mapping with {', '.join(keys)}")
    missing = [k for k in keys if not isinstance(value.get(k), str) or not value[k].strip()]
    if missing:
        raise WaitingError(f"{where}: {key} needs text for {', '.join(missing)}")
    return {k: str(value[k]).strip() for k in keys}


def _check(text: str, allowed: frozenset[str], required: frozenset[str], where: str) -> frozenset[str]:
    try:
        names = frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
    except ValueError as exc:
        raise WaitingError(f"{where}: broken braces ({exc}); write {{{{ or }}}} for a literal brace") from None
    if names - allowed:
        raise WaitingError(f"{where}: unknown placeholder {', '.join(sorted(names - allowed))}")
    if required - names:
        raise WaitingError(f"{where}: must contain {', '.join('{' + n + '}' for n in sorted(required - names))}")
    return names


def _variants(
    raw: dict[str, Any], key: str, fields: frozenset[str], where: str, required: frozenset[str] | None = None
) -> Variants:
    texts = _strings(raw, key, where)
    # In hours the place in line is the point of the message; off hours it is when someone will read it.
    if required is None:
        required = fields - {"position"} if "when" in fields else fields
    matchers = []
    for i, text in enumerate(texts):
        _check(text, fields, required, f"{where}: {key}[{i}]")
        matchers.append(_matcher(text))
    return Variants(key, tuple(texts), tuple(matchers))


def _matcher(template: str) -> re.Pattern[str]:
    """A pattern that recognises the text rendered from `template` whatever its placeholders were."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(".+?")
    return re.compile("".join(parts), re.DOTALL)
