"""Accounts and the roster (R9, R10, R24): one place that creates and changes users and records every change.

Used by `ycc user add` and the admin pages alike, so the roster history the prefecture receives is complete
whichever way an account was touched.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console import roles, security
from console.auth import revoke_user_sessions
from console.render import jst
from handoff.store.models import RosterChange, User
from handoff.store.types import utcnow


class UserError(ValueError):
    """A request to create or change an account that cannot be honoured; message is for the operator."""


@dataclass(frozen=True)
class Enrolment:
    """What a new user needs for the first login; shown once and never stored in clear."""

    user: User
    totp_secret: str
    provisioning_uri: str
    recovery_codes: list[str]


def _roster_entry(user: User) -> dict[str, Any]:
    return {"name": user.name, "display_name": user.display_name, "role": user.role,
            "qualifications": user.qualifications, "max_chats": user.max_chats, "disabled": user.disabled}


async def create_user(
    session: AsyncSession, *, name: str, role: str, password: str, qualifications: str = "",
    display_name: str = "", max_chats: int = 3, actor: str,
) -> Enrolment:
    name = name.strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise UserError("user name must be 1-64 characters without spaces")
    if role not in roles.ALL:
        raise UserError(f"role must be one of {', '.join(roles.ALL)}")
    quals = security.parse_qualifications(qualifications)
    if quals and role not in roles.QUALIFIED:
        raise UserError("qualifications apply to counsellors and supervisors only")
    if not 1 <= max_chats <= 20:
        raise UserError("max chats must be between 1 and 20")
    if await session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    try:
        password_hash = security.hash_password(password)
    except security.PasswordPolicyError as exc:
        raise UserError(str(exc)) from None
    secret = security.new_totp_secret()
    codes = security.new_recovery_codes()
    user = User(name=name, display_name=display_name.strip()[:64] or name, role=role, qualifications=quals,
                password_hash=password_hash, totp_secret=secret, totp_confirmed=False,
                recovery_codes=[security.hash_code(c) for c in codes], max_chats=max_chats, created_at=utcnow())
    session.add(user)
    await session.flush()
    session.add(RosterChange(at=utcnow(), user_id=user.id, change="created", detail=_roster_entry(user), actor=actor))
    return Enrolment(user, secret, security.provisioning_uri(secret, name), codes)


async def update_user(session: AsyncSession, user: User, changes: dict[str, Any], actor: str) -> list[str]:
    """Apply changes, record them in the roster history, and end sessions when access is reduced."""
    before = _roster_entry(user)
    if "qualifications" in changes:
        user.qualifications = security.parse_qualifications(changes["qualifications"])
    if "display_name" in changes:
        user.display_name = str(changes["display_name"]).strip()[:64] or user.name
    if "max_chats" in changes:
        value = int(changes["max_chats"])
        if not 1 <= value <= 20:
            raise UserError("同時対応数は1〜20です")
        user.max_chats = value
    if "role" in changes:
        if changes["role"] not in roles.ALL:
            raise UserError("不明な役割です")
        user.role = changes["role"]
    if "disabled" in changes:
        user.disabled = bool(changes["disabled"])
    after = _roster_entry(user)
    changed = [k for k in after if after[k] != before[k]]
    if not changed:
        return []
    kind = "disabled" if "disabled" in changed and user.disabled else (
        "enabled" if "disabled" in changed else "changed")
    session.add(RosterChange(at=utcnow(), user_id=user.id, change=kind,
                             detail={k: {"from": before[k], "to": after[k]} for k in changed}, actor=actor))
    if user.disabled or "role" in changed:
        await revoke_user_sessions(session, user.id)
    return changed


async def reset_second_factor(session: AsyncSession, user: User, actor: str) -> Enrolment:
    """New TOTP secret and recovery codes (lost phone); every session of the user ends."""
    secret = security.new_totp_secret()
    codes = security.new_recovery_codes()
    user.totp_secret = secret
    user.totp_confirmed = False
    user.recovery_codes = [security.hash_code(c) for c in codes]
    await revoke_user_sessions(session, user.id)
    session.add(RosterChange(at=utcnow(), user_id=user.id, change="2fa_reset", detail={}, actor=actor))
    return Enrolment(user, secret, security.provisioning_uri(secret, user.name), codes)


def random_password() -> str:
    return secrets.token_urlsafe(15)


async def roster_csv(session: AsyncSession) -> str:
    users = (await session.scalars(select(User).order_by(User.id))).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["ID", "ユーザー名", "表示名", "役割", "資格A", "資格B", "資格C", "同時対応数", "状態", "登録日時"])
    for u in users:
        q = u.qualifications or ""
        writer.writerow([u.id, u.name, u.display_name, roles.LABELS.get(u.role, u.role),
                         *("○" if letter in q else "" for letter in "ABC"), u.max_chats,
                         "停止" if u.disabled else "有効", jst(u.created_at)])
    return "\ufeff" + buffer.getvalue()


async def roster_history_csv(session: AsyncSession) -> str:
    rows = (await session.execute(
        select(RosterChange, User.name).join(User, User.id == RosterChange.user_id).order_by(RosterChange.id)
    )).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["日時", "ユーザー名", "変更", "内容", "操作者"])
    labels = {"created": "登録", "changed": "変更", "disabled": "停止", "enabled": "再開",
              "2fa_reset": "二要素認証の再設定"}
    for change, name in rows:
        detail = "; ".join(f"{k}={v}" for k, v in (change.detail or {}).items())
        writer.writerow([jst(change.at), name, labels.get(change.change, change.change), detail, change.actor])
    return "\ufeff" + buffer.getvalue()
