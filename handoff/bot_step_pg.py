"""Step two's writes on PostgreSQL as one statement: finish the inbox row, store the answer, store its turns.

Why: step two sits between Rasa's answer and LINE's reply, so the user waits for all of it. As a transaction it
was five round trips (BEGIN, finish the row, insert the outbox row, insert its turns, COMMIT), 4.0 ms of a turn on
the full stack here; as one data-modifying WITH in autocommit, built once and run with parameters, it is one round
trip and 2.4 ms, and still atomic (median per turn, bench_pipeline's bot turn on PostgreSQL, traced per step).
SQLite has no round trips, so it keeps the transaction in `handoff.bot_step`, which also covers the rarer cases
(Rasa down, an answer of more than one LINE request).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, insert, select, true, union_all, update
from sqlalchemy.sql.elements import ColumnElement

from handoff.outbox import OutboxSender, SendPlan, message_rows, pending_for, wake_event
from handoff.store.db import message_event
from handoff.store.models import InboxEvent, Message, Outbox
from handoff.store.types import utcnow

INBOX, OUTBOX, MESSAGES = InboxEvent.__table__, Outbox.__table__, Message.__table__


def _param(table: Any, column: str, name: str) -> ColumnElement[Any]:
    """A bound parameter typed like its column (JSON, aware datetimes bind as the ORM would bind them). Named
    apart from every column: a parameter named like a column of the UPDATE would be added to its SET."""
    return bindparam(name, type_=table.c[column].type).label(column)


@cache
def answer_statement(
    outbox_columns: tuple[str, ...], claim_columns: tuple[str, ...], turn_columns: tuple[str, ...], turns: int
) -> Select[Any]:
    """Built once per shape and executed with parameters, so SQLAlchemy's compiled cache is hit without
    rebuilding and re-keying a statement of some forty values on every turn. `claim_columns` are those
    `OutboxSender.taken` sets, taken from its result so the two cannot drift apart.

    Its single result row says whether anything older was pending for the user (then the answer is stored for
    the sender, unclaimed) and the new outbox id. No row: the inbox row no longer waited (handled by another
    run), and nothing was written. The pending check runs on the statement's snapshot, before its own insert, as
    it did in the transaction."""
    user = bindparam("p_user_id", type_=OUTBOX.c.recipient.type)
    done = (
        update(INBOX)
        .where(INBOX.c.id == bindparam("p_row_id"), INBOX.c.status == "bot")
        .values(status="done", processed_at=bindparam("p_now", type_=INBOX.c.processed_at.type))
        .returning(INBOX.c.id, pending_for(user).exists().label("older"))
        .cte("done")
    )

    def value(column: str) -> ColumnElement[Any]:
        if column not in claim_columns:
            return _param(OUTBOX, column, f"o_{column}")
        # Older rows wait: stored as built, for the sender to send after them; else stored already claimed.
        column_type = OUTBOX.c[column].type
        older, taken = bindparam(f"o_{column}", type_=column_type), bindparam(f"taken_{column}", type_=column_type)
        return case((done.c.older, older), else_=taken).label(column)

    stored = (
        insert(OUTBOX)
        .from_select(outbox_columns, select(*map(value, outbox_columns)).select_from(done), include_defaults=False)
        .returning(OUTBOX.c.id)
        .cte("stored")
    )
    per_turn = [
        select(
            *(
                stored.c.id.label(c) if c == "outbox_id" else _param(MESSAGES, c, f"t{n}_{c}")
                for c in turn_columns
            )
        )
        for n in range(turns)
    ]
    every_turn = union_all(*per_turn) if turns > 1 else per_turn[0]
    shown = insert(MESSAGES).from_select(turn_columns, every_turn, include_defaults=False)
    return select(done.c.older, stored.c.id).select_from(done.join(stored, true())).add_cte(shown.cte("shown"))


async def store_answer(
    outbox: OutboxSender, row_id: int, user_id: str, row: dict[str, Any], sender: str, at: datetime
) -> SendPlan | None:
    """The send claimed for the caller to make, or None: older rows wait (the sender sends the answer after
    them) or the inbox row no longer waited (another run answered it; nothing was written).

    `row` is one outbox row as `outbox_rows` builds it, for a conversation; every column is given (the
    statement does not apply Python-side defaults)."""
    now = utcnow()
    taken, token = outbox.taken(row, now)
    turns = message_rows(row, None, at=at, sender=sender, agent_id=None)
    params = {f"o_{c}": v for c, v in row.items()} | {f"taken_{c}": v for c, v in taken.items()}
    params |= {"p_row_id": row_id, "p_user_id": user_id, "p_now": now}
    for n, turn in enumerate(turns):
        params |= {f"t{n}_{c}": v for c, v in turn.items() if c != "outbox_id"}
    statement = answer_statement(tuple(row), tuple(taken), tuple(turns[0]), len(turns))
    db = outbox.db
    async with db.single_statement() as conn:
        result = (await conn.execute(statement, params)).first()
    if result is None:
        return None
    older, outbox_id = bool(result[0]), int(result[1])
    shown = message_event(row["conversation_id"])
    await db.announce([shown, wake_event(user_id)] if older else [shown])
    return None if older else SendPlan(outbox_id, row["kind"], user_id, row["messages"], row["retry_key"], token)
