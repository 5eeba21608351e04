"""Referrals with consent (issue 17 item 7): the choices, the rules, and the two actions that write `referrals`.

A counsellor who may see the conversation records a referral: to whom (a service of data/services.yml for the
person's municipality, or a support group from its `support_groups:`), that the person agreed, and what may be
shared (only items of SHAREABLE; never the chat text). Its outcome is recorded later by the author or a supervisor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from console.actions import Conflict, Invalid, load
from console.auth import Denied, Principal, audit
from console.roles import Role
from handoff.domain.content import Content, Service
from handoff.domain.datafile import ContentError, field_text, read_yaml
from handoff.store.models import User
from handoff.store.models_referral import Referral

KINDS = {"municipal": "市町の窓口", "child_guidance": "児童相談所", "support_group": "支援団体", "other": "その他"}
KIND_OF_SERVICE = {"児童相談所": "child_guidance", "こども家庭センター": "municipal",
                   "地域包括支援センター": "municipal", "障害福祉の窓口": "municipal", "保健福祉センター": "municipal",
                   "支援団体": "support_group"}
SHAREABLE = {"age_band": "年代", "gender": "性別", "municipality": "市町", "role": "本人・保護者",
             "care_recipients": "ケアの相手", "situation": "学校・仕事", "topics": "相談内容の分類",
             "summary": "相談員のまとめ（相談記録の概要）"}
OUTCOMES = {"connected": "つながった", "declined": "本人が辞退した", "unreachable": "連絡がつかない",
            "other": "その他"}
NOTE_LIMIT = 1000
NOT_A_PLACE = frozenset({"国の情報"})  # information to read, not somewhere a person is referred to


@dataclass(frozen=True)
class Choice:
    service: Service
    kind: str


def load_support_groups(path: Path) -> list[Service]:
    raw = read_yaml(path) or {}
    entries = raw.get("support_groups") or []
    if not isinstance(entries, list):
        raise ContentError(f"{path}: support_groups must be a list")
    out = []
    for i, entry in enumerate(entries):
        where = f"{path}: support_groups[{i}]"
        if not isinstance(entry, dict):
            raise ContentError(f"{where}: expected a mapping with kind and name")
        out.append(Service(kind=field_text(entry, "kind", where) or "", name=field_text(entry, "name", where) or "",
                           note=field_text(entry, "note", where, required=False)))
    return out


def choices(content: Content, groups: list[Service], municipality: str) -> list[Choice]:
    """Where this person may be referred: their municipality's services, then the support groups."""
    return [Choice(s, KIND_OF_SERVICE.get(s.kind, "other")) for s in [*content.services(municipality), *groups]
            if s.kind not in NOT_A_PLACE]


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name) or ""
    if not isinstance(value, str):
        raise Invalid({name: "文字で書いてください。"})
    if len(value) > NOTE_LIMIT:
        raise Invalid({name: f"{NOTE_LIMIT}文字以内にしてください。"})
    return value.strip()


async def create(session: AsyncSession, principal: Principal, conversation_id: int, body: dict[str, Any],
                 options: list[Choice], municipality: str, now: datetime) -> Referral:
    conversation = await load(session, principal, conversation_id)
    errors: dict[str, str] = {}
    if body.get("consent") is not True:
        errors["consent"] = "本人の同意がないと、つなぐ記録は作れません。"
    names = [o.service.name for o in options]
    recipient = body.get("recipient")
    if recipient not in names:
        errors["recipient"] = "つなぐ先を一覧から選んでください。"
    shared = body.get("shared") or []
    if not isinstance(shared, list) or not all(isinstance(s, str) and s in SHAREABLE for s in shared):
        errors["shared"] = "伝えてよいことは一覧から選んでください。"
    if errors:
        raise Invalid(errors)
    choice = options[names.index(recipient)]
    referral = Referral(conversation_id=conversation.id, created_at=now, author_id=principal.user_id,
                        kind=choice.kind, service_kind=choice.service.kind, recipient=choice.service.name,
                        municipality=municipality, consent_at=now, shared=list(dict.fromkeys(shared)),
                        note=_text(body, "note"), outcome_note="")
    session.add(referral)
    await session.flush()
    audit(session, principal.name, "create_referral", "referral", referral.id, detail=f"kind={choice.kind}")
    return referral


def may_see(principal: Principal, referral: Referral) -> bool:
    return principal.role == Role.SUPERVISOR or (principal.user_id is not None
                                                 and referral.author_id == principal.user_id)


async def record_outcome(session: AsyncSession, principal: Principal, referral: Referral, body: dict[str, Any],
                         now: datetime) -> Referral:
    if not may_see(principal, referral):
        raise Denied("referral", referral.id, "only the author or a supervisor records the outcome")
    if referral.outcome is not None:
        raise Conflict("has_outcome", "結果はすでに記録されています。")
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        raise Invalid({"outcome": "結果を選んでください。"})
    referral.outcome, referral.outcome_note = outcome, _text(body, "outcome_note")
    referral.outcome_at, referral.outcome_by = now, principal.user_id
    audit(session, principal.name, "referral_outcome", "referral", referral.id, detail=f"outcome={outcome}")
    return referral


async def listing(session: AsyncSession, everything: bool, limit: int) -> Sequence[Row[tuple[Referral, str | None]]]:
    """Referrals with their author's name, the newest first; only those without an outcome unless `everything`."""
    query = select(Referral, User.display_name).outerjoin(User, User.id == Referral.author_id)
    if not everything:
        query = query.where(Referral.outcome.is_(None))
    return (await session.execute(query.order_by(Referral.created_at.desc()).limit(limit))).all()
