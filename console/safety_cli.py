"""`ycc safety export-feedback --out FILE --as NAME`: counsellors' verdicts on safety flags as labelled examples.

The file holds what young people wrote, so the command is limited and leaves traces: it runs on the server, the
operator names an active admin or trainer account and types its password on stdin (never argv), the export is
audited under that name with a count only, and the file is owner-only (0600) from its first byte. Nothing of the
text is printed or logged. docs/trainers.md says what to do with the file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from console import security
from console.auth import audit
from console.safety_feedback import examples_yaml, labelled_examples
from handoff.store.models import User

ROLES = ("admin", "trainer")


class ExportRefused(ValueError):
    """Printed as `ycc safety export-feedback: …` with exit status 2; nothing was written."""


async def export(session: Any, name: str, password: str) -> list[dict[str, Any]] | str:
    """The labelled examples if `name` is an active admin or trainer with this password, else why not. Audited
    either way; a refusal is returned rather than raised so that its audit row is committed too."""
    user = await session.scalar(select(User).where(User.name == name))
    if user is None or user.disabled or not security.verify_password(user.password_hash, password):
        audit(session, name or "?", "export_safety_feedback", "safety_feedback", allowed=False,
              detail="wrong name or password")
        return "wrong name or password"
    if user.role not in ROLES:
        audit(session, user.name, "export_safety_feedback", "safety_feedback", allowed=False,
              detail=f"role {user.role}")
        return f"only {' or '.join(ROLES)} accounts may export (this one is {user.role})"
    items = await labelled_examples(session)
    audit(session, user.name, "export_safety_feedback", "safety_feedback", detail=f"examples={len(items)}")
    return items


def write_private(path: Path, text: str) -> None:
    """Owner-only from the first byte, also when the file already existed with wider permissions."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _export_feedback(args: argparse.Namespace) -> int:
    from console.cli import read_password, with_db

    out = Path(args.out)
    try:
        if not out.parent.is_dir():
            raise ExportRefused(f"no such directory: {out.parent}")
        password = read_password(f"password of {args.as_user}: ")
        items = asyncio.run(with_db(lambda session: export(session, args.as_user, password)))
        if isinstance(items, str):
            raise ExportRefused(items)
        write_private(out, examples_yaml(items))
    except (ExportRefused, OSError) as exc:
        print(f"ycc safety export-feedback: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({len(items)} example(s), owner-only)")
    return 0


def add_commands(sub: Any) -> None:
    """Called from console/cli.py."""
    safety = sub.add_parser("safety", help="the safety screen's training material").add_subparsers(
        dest="safety_command", required=True)
    cmd = safety.add_parser("export-feedback", help="counsellors' verdicts on flags as labelled examples (YAML, "
                                                    "0600; admin or trainer password on stdin)")
    cmd.add_argument("--out", required=True, help="file to write, e.g. var/safety-feedback.yml")
    cmd.add_argument("--as", dest="as_user", required=True, help="your admin or trainer account name")
    cmd.set_defaults(func=_export_feedback)
