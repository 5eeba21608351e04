"""The secure chat off LINE (issue 16): one-time links, browser sessions and which channel a conversation is on.

LINE is the front door only, as the 2021 government guideline on LINE use asks: a user who moves to the secure chat
gets a link on LINE, opens it once, and from then on what they write and what counsellors and the bot answer is
stored only here; LINE carries the link, routing text and content-free notices (handoff/domain/outgoing.py diverts
the replies). A link's token and a session's secret are random, stored only as SHA-256 hashes, and checked with an
atomic update, so a replayed, expired or revoked token, a cookie from another device or an ended session opens
nothing. Every move between the channels is recorded in the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.domain.outgoing import OPEN_SECURE_CHAT, enqueue
from handoff.line.messages import text_message
from handoff.settings import Settings
from handoff.store.db import notify
from handoff.store.models import AuditLog, Contact, Conversation, Message
from handoff.store.models_securechat import SecureLink, SecureSession
from handoff.store.values import Channel

# The postback a quick reply (and later a rich menu item) sends: the gateway answers it with a link, Rasa never sees it.
OPEN_POSTBACK = OPEN_SECURE_CHAT
PATH = "/secure"

TEXTS = {
    "link": "LINEの外の、安全な相談画面のリンクです。\n{url}\n\n{minutes}分以内に開いてください（一度だけ使えます）。"
            "ここで書いたことはLINEには残りません。",
    "guideline": "この窓口のご相談は、LINEの外の安全な画面でうかがっています。こちらから開いてください。\n{url}\n\n"
                 "{minutes}分以内に開いてください（一度だけ使えます）。",
    "back_to_line": "LINEでのご相談に戻りました。このままLINEで話せます。",
}


@dataclass(frozen=True)
class Policy:
    """What the pipeline and the console need of the settings to send links."""

    public_url: str = "http://127.0.0.1:8080"
    link_minutes: int = 30
    idle_seconds: int = 1800
    max_seconds: int = 14400
    only: bool = False  # YCC_SECURE_CHAT_ONLY: guideline mode

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(settings.secure_chat_url or settings.public_url, settings.secure_link_minutes,
                   settings.secure_session_idle_seconds, settings.secure_session_max_seconds, settings.secure_chat_only)

    @property
    def page_url(self) -> str:
        return f"{self.public_url}{PATH}/"


@dataclass(frozen=True)
class Issued:
    url: str
    expires_at: datetime


class Refused(Exception):
    """A link or a session that opens nothing; `reason` picks the Japanese page (handoff/http/securechat.py)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def record(session: AsyncSession, actor: str, action: str, conversation_id: int, detail: str | None = None) -> None:
    """The audit row of a channel move or a link (no text, no token)."""
    session.add(AuditLog(actor=actor[:64], action=action, object_type="conversation", object_id=str(conversation_id),
                         allowed=True, detail=detail))


async def move(session: AsyncSession, conversation: Conversation, channel: Channel, *, actor: str, reason: str,
               at: datetime) -> None:
    """Switch where replies go, recorded (who, why) in the audit log; the consoles and the page refresh."""
    if conversation.channel == channel:
        return
    conversation.channel = channel
    conversation.updated_at = at
    record(session, actor, f"channel_{channel}", conversation.id, reason)
    notify(session, events.message(conversation.id))


async def issue(session: AsyncSession, contact_id: int, policy: Policy, *, at: datetime, actor: str) -> Issued:
    """A new one-time link for the contact; every older link not yet used is revoked."""
    await session.execute(update(SecureLink).where(
        SecureLink.contact_id == contact_id, SecureLink.spent_at.is_(None), SecureLink.revoked_at.is_(None),
    ).values(revoked_at=at))
    token = secrets.token_urlsafe(32)
    expires_at = at + timedelta(minutes=policy.link_minutes)
    session.add(SecureLink(contact_id=contact_id, token_hash=digest(token), created_at=at, expires_at=expires_at,
                           created_by=actor[:64]))
    return Issued(f"{policy.public_url}{PATH}/open?t={token}", expires_at)


async def send_link(session: AsyncSession, conversation: Conversation, contact: Contact, policy: Policy, *,
                    at: datetime, actor: str, reply_token: str | None = None, text: str = "link") -> Issued:
    """Issue a link and queue it to the user on LINE. The stored turn shows the message without the token, so no
    one reading the conversation (or a copy of the database) can open the user's chat with it."""
    issued = await issue(session, contact.id, policy, at=at, actor=actor)
    body = TEXTS[text].format(url=issued.url, minutes=policy.link_minutes)
    ids = await enqueue(session, recipient=contact.line_user_id, messages=[text_message(body)],
                        conversation_id=conversation.id, at=at, sender="system", reply_token=reply_token)
    shown = body.replace(issued.url, f"{policy.public_url}{PATH}/open?t=…")
    await session.execute(update(Message).where(Message.outbox_id.in_(ids)).values(text=shown))
    record(session, actor, "secure_link", conversation.id)
    return issued


async def open_link(session: AsyncSession, token: str, *, user_agent: str, at: datetime) -> tuple[str, str, int]:
    """Spend the link (one atomic update: two opens racing, one wins) and start a browser session bound to this
    device; older sessions of the contact end. Returns (cookie secret, CSRF token, conversation id)."""
    hashed = digest(token)
    spent = (await session.execute(update(SecureLink).where(
        SecureLink.token_hash == hashed, SecureLink.spent_at.is_(None), SecureLink.revoked_at.is_(None),
        SecureLink.expires_at > at,
    ).values(spent_at=at).returning(SecureLink.id, SecureLink.contact_id))).first()
    if spent is None:
        link = await session.scalar(select(SecureLink).where(SecureLink.token_hash == hashed))
        if link is None:
            raise Refused("unknown")
        raise Refused("spent" if link.spent_at else "revoked" if link.revoked_at else "expired")
    link_id, contact_id = spent
    await end_sessions(session, contact_id, at, "new_link")
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(SecureSession(contact_id=contact_id, link_id=link_id, session_hash=digest(secret),
                              device_hash=digest(user_agent), csrf_token=csrf, created_at=at, last_seen_at=at))
    conversation = await session.scalar(select(Conversation).where(Conversation.contact_id == contact_id))
    if conversation is None:
        raise Refused("unknown")
    await move(session, conversation, Channel.WEB, actor="user", reason="opened_link", at=at)
    return secret, csrf, conversation.id


async def end_sessions(session: AsyncSession, contact_id: int, at: datetime, reason: str) -> None:
    await session.execute(update(SecureSession).where(
        SecureSession.contact_id == contact_id, SecureSession.ended_at.is_(None),
    ).values(ended_at=at, end_reason=reason))


@dataclass(frozen=True)
class Visitor:
    """Who a valid cookie belongs to."""

    session_id: int
    contact_id: int
    conversation_id: int
    line_user_id: str
    csrf_token: str
    silent: bool
    on_web: bool


async def visitor(session: AsyncSession, secret: str | None, policy: Policy, *, user_agent: str, at: datetime,
                  touch: bool = True) -> Visitor:
    """The session behind a cookie, refreshed; Refused when there is none, it ended, idled out, outlived its
    absolute lifetime or is presented by another device."""
    if not secret:
        raise Refused("no_session")
    found = await session.scalar(select(SecureSession).where(SecureSession.session_hash == digest(secret)))
    if found is None:
        raise Refused("no_session")
    if found.ended_at is not None:
        raise Refused("ended")
    if found.device_hash != digest(user_agent):
        raise Refused("device")
    if at - found.last_seen_at > timedelta(seconds=policy.idle_seconds) or \
            at - found.created_at > timedelta(seconds=policy.max_seconds):
        found.ended_at, found.end_reason = at, "timeout"
        raise Refused("timeout")
    if touch:
        found.last_seen_at = at
    row = (await session.execute(
        select(Conversation.id, Contact.line_user_id, Conversation.notice_silent, Conversation.channel)
        .join(Contact, Contact.id == Conversation.contact_id).where(Contact.id == found.contact_id)
    )).one()
    return Visitor(found.id, found.contact_id, row[0], row[1], found.csrf_token, bool(row[2]), row[3] == Channel.WEB)


async def leave(session: AsyncSession, who: Visitor, policy: Policy, *, at: datetime) -> None:
    """The user leaves the page. Guideline mode keeps the conversation in the secure chat (LINE carries no talk);
    otherwise the talk goes back to LINE, recorded, and LINE says so."""
    await end_sessions(session, who.contact_id, at, "left")
    if policy.only:
        record(session, "user", "secure_chat_left", who.conversation_id)
        return
    conversation = await session.get(Conversation, who.conversation_id)
    if conversation is None:
        return
    await move(session, conversation, Channel.LINE, actor="user", reason="left_secure_chat", at=at)
    await enqueue(session, recipient=who.line_user_id, messages=[text_message(TEXTS["back_to_line"])],
                  conversation_id=conversation.id, at=at, sender="system")


async def set_silent(session: AsyncSession, who: Visitor, silent: bool) -> None:
    """The user's choice: notices on LINE without sound."""
    await session.execute(update(Conversation).where(Conversation.id == who.conversation_id)
                          .values(notice_silent=silent))
