"""`ycc user …` and `ycc token …`: server-side account and API token administration.

Run on the server by an operator; the password comes on stdin so it never appears in shell history or `ps`.
The TOTP secret and recovery codes are printed once, so the first login (which requires 2FA) works.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from console import roles, security
from console.users import UserError, create_user, reset_second_factor, update_user
from handoff.settings import settings_or_exit
from handoff.store.models import ApiToken, User
from handoff.store.types import utcnow


async def with_db(work: Any) -> Any:
    from handoff.store.db import Database
    from handoff.store.migrate import upgrade_async

    settings = settings_or_exit()
    await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            return await work(session)
    finally:
        await db.close()


def read_password(prompt: str = "password: ") -> str:
    """Twice on a terminal, once from a pipe: never from argv, so it stays out of shell history and `ps`."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise UserError("passwords do not match")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _print_enrolment(enrolment: Any, as_json: bool) -> None:
    user = enrolment.user
    if as_json:
        print(json.dumps({"id": user.id, "name": user.name, "role": user.role, "qualifications": user.qualifications,
                          "totp_secret": enrolment.totp_secret, "totp_uri": enrolment.provisioning_uri,
                          "recovery_codes": enrolment.recovery_codes}, ensure_ascii=False))
        return
    print(f"user {user.name} (id {user.id}, role {user.role}, qualifications {user.qualifications or '-'})")
    print(f"TOTP secret: {enrolment.totp_secret}")
    print(f"TOTP URI: {enrolment.provisioning_uri}")
    print("recovery codes (each works once; store them offline):")
    for code in enrolment.recovery_codes:
        print(f"  {code}")


def _user_add(args: argparse.Namespace) -> int:
    password = read_password()

    async def work(session: Any) -> Any:
        return await create_user(session, name=args.name, role=args.role, password=password,
                                 qualifications=args.qualification or "", display_name=args.display_name or "",
                                 max_chats=args.max_chats, actor="cli")

    try:
        enrolment = asyncio.run(with_db(work))
    except (UserError, ValueError) as exc:
        print(f"ycc user add: {exc}", file=sys.stderr)
        return 2
    _print_enrolment(enrolment, args.json)
    return 0


def _user_change(args: argparse.Namespace) -> int:
    async def work(session: Any) -> Any:
        user = await session.scalar(select(User).where(User.name == args.name))
        if user is None:
            raise UserError(f"no user {args.name!r}")
        if args.user_command == "reset-2fa":
            return await reset_second_factor(session, user, "cli")
        await update_user(session, user, {"disabled": args.user_command == "disable"}, "cli")
        return None

    try:
        enrolment = asyncio.run(with_db(work))
    except (UserError, ValueError) as exc:
        print(f"ycc user {args.user_command}: {exc}", file=sys.stderr)
        return 2
    if enrolment is not None:
        _print_enrolment(enrolment, args.json)
    else:
        done = "disabled; sessions ended" if args.user_command == "disable" else "enabled"
        print(f"user {args.name}: {done}")
    return 0


TOKEN_TTL_DAYS = 90
TOKEN_HELP = ("A token belongs to one console user and acts as that person: their role, their scope (a counsellor "
              "sees the queue and the conversations and crisis cases they hold), their name in the audit log. It "
              "stops working when it expires, is revoked, or the user is disabled.")


def _token_create(args: argparse.Namespace) -> int:
    token = security.new_token("ycc_")
    ttl = timedelta(seconds=args.ttl) if args.ttl else timedelta(days=TOKEN_TTL_DAYS)

    async def work(session: Any) -> User:
        user = await session.scalar(select(User).where(User.name == args.name))
        if user is None or user.disabled:
            raise UserError(f"no active user {args.name!r}: a token acts as a person; create one first with "
                            "`ycc user add NAME --role …`")
        session.add(ApiToken(name=user.name, user_id=user.id, token_hash=security.token_hash(token), role=user.role,
                             created_at=utcnow(), expires_at=utcnow() + ttl))
        return user

    if args.ttl is not None and args.ttl <= 0:
        print("ycc token create: --ttl must be positive", file=sys.stderr)
        return 2
    try:
        user = asyncio.run(with_db(work))
    except UserError as exc:
        print(f"ycc token create: {exc}", file=sys.stderr)
        return 2
    expires = (utcnow() + ttl).isoformat(timespec="seconds")
    print(f"token for user {user.name} (role {user.role}), acting as that person; expires {expires}",
          file=sys.stderr)  # stdout stays the token alone, for scripts
    print(token)
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    async def work(session: Any) -> int:
        rows = (await session.scalars(select(ApiToken).where(ApiToken.name == args.name,
                                                             ApiToken.revoked.is_(False)))).all()
        for row in rows:
            row.revoked = True
        return len(rows)

    count = asyncio.run(with_db(work))
    print(f"revoked {count} token(s) named {args.name}")
    return 0 if count else 1


def add_commands(sub: Any) -> None:
    """Called by handoff/cli.py: `ycc user add|disable|enable|reset-2fa`, `ycc token create|revoke`, `ycc report`,
    `ycc insight`."""
    from console import private_export, retention_cli, worklog_cli

    worklog_cli.add_commands(sub)
    retention_cli.add_commands(sub)  # ycc insight fetch
    private_export.add_commands(sub)  # ycc safety export-feedback, ycc training export-nlu
    user = sub.add_parser("user", help="console accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create an account (password on stdin); prints TOTP secret and codes")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=roles.ALL)
    add.add_argument("--qualification", default="", help="counsellor qualifications, e.g. A,B or C (R9)")
    add.add_argument("--display-name", default="")
    add.add_argument("--max-chats", type=int, default=3, help="simultaneous chats (default 3)")
    add.add_argument("--json", action="store_true", help="print one JSON object")
    add.set_defaults(func=_user_add)
    for name, text in (("disable", "disable and end all sessions"), ("enable", "enable again"),
                       ("reset-2fa", "new TOTP secret and recovery codes; ends sessions")):
        cmd = user.add_parser(name, help=text)
        cmd.add_argument("name")
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(func=_user_change)
    token = sub.add_parser("token", help="bearer tokens for the JSON API").add_subparsers(
        dest="token_command", required=True)
    create = token.add_parser("create", help="print a new bearer token for a console user (only its hash is stored)",
                              description=TOKEN_HELP)
    create.add_argument("name", help="the console user the token acts as (its role and scope are theirs)")
    create.add_argument("--ttl", type=int, default=None,
                        help=f"lifetime in seconds (default: {TOKEN_TTL_DAYS} days; there is no token without expiry)")
    create.set_defaults(func=_token_create)
    revoke = token.add_parser("revoke", help="revoke every token of this user (or legacy token with this name)")
    revoke.add_argument("name")
    revoke.set_defaults(func=_token_revoke)
