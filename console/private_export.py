"""Exports of what young people wrote, for trainers: `ycc safety export-feedback` (counsellors' verdicts on safety
flags as labelled examples) and `ycc training export-nlu` (turns trainers labelled, masked, for `make nlu-import`).

Such a file is limited and leaves traces: it is made on the server, the operator names an active admin or trainer
account and types its password on stdin (never argv), the export is audited under that name with a count only, and
the file is owner-only (0600) from its first byte. Nothing of the text is printed or logged. docs/trainers.md says
what to do with each file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from console import nlu_labels, safety_feedback, security
from console.auth import audit
from console.roles import EXPORTERS
from handoff.store.models import User

Collect = Callable[[Any], Awaitable[list[dict[str, Any]]]]


class ExportRefused(ValueError):
    """Printed as `ycc <command>: …` with exit status 2; nothing was written."""


@dataclass(frozen=True)
class PrivateExport:
    command: str  # e.g. "safety export-feedback", for messages
    action: str  # the audit action
    object_type: str
    collect: Collect  # the items, read in the audited session
    render: Callable[[list[dict[str, Any]]], str]  # the file's text


async def authorised(session: Any, export: PrivateExport, name: str, password: str) -> list[dict[str, Any]] | str:
    """The items if `name` is an active admin or trainer with this password, else why not. Audited either way; a
    refusal is returned rather than raised so that its audit row is committed too."""
    user = await session.scalar(select(User).where(User.name == name))
    if user is None or user.disabled or not security.verify_password(user.password_hash, password):
        audit(session, name or "?", export.action, export.object_type, allowed=False, detail="wrong name or password")
        return "wrong name or password"
    if user.role not in EXPORTERS:
        audit(session, user.name, export.action, export.object_type, allowed=False, detail=f"role {user.role}")
        return f"only {' or '.join(EXPORTERS)} accounts may export (this one is {user.role})"
    items = await export.collect(session)
    audit(session, user.name, export.action, export.object_type, detail=f"examples={len(items)}")
    return items


def write_private(path: Path, text: str) -> None:
    """Owner-only from the first byte, also when the file already existed with wider permissions."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def run(export: PrivateExport, args: argparse.Namespace) -> int:
    """The command's body: `args.out` and `args.as_user` as `add_arguments` declares them."""
    from console.cli import read_password, with_db

    out = Path(args.out)
    try:
        if not out.parent.is_dir():
            raise ExportRefused(f"no such directory: {out.parent}")
        password = read_password(f"password of {args.as_user}: ")
        items = asyncio.run(with_db(lambda session: authorised(session, export, args.as_user, password)))
        if isinstance(items, str):
            raise ExportRefused(items)
        write_private(out, export.render(items))
    except (ExportRefused, OSError) as exc:
        print(f"ycc {export.command}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({len(items)} example(s), owner-only)")
    return 0


@dataclass(frozen=True)
class Command:
    """`ycc <group> <name> --out FILE --as NAME`."""

    group: str
    group_help: str
    name: str
    help: str
    example_out: str
    export: PrivateExport


COMMANDS = (
    Command("safety", "the safety screen's training material", "export-feedback",
            "counsellors' verdicts on flags as labelled examples", "var/safety-feedback.yml",
            PrivateExport("safety export-feedback", "export_safety_feedback", "safety_feedback",
                          safety_feedback.labelled_examples, safety_feedback.examples_yaml)),
    Command("training", "trainers' labels on misread bot turns", "export-nlu",
            "labelled turns as masked NLU examples to edit", "var/nlu-reviewed.yml",
            PrivateExport("training export-nlu", "export_nlu_labels", "nlu_label",
                          nlu_labels.labelled_examples, nlu_labels.examples_yaml)),
)


def add_commands(sub: Any) -> None:
    """Called from console/cli.py."""
    for command in COMMANDS:
        group = sub.add_parser(command.group, help=command.group_help).add_subparsers(
            dest=f"{command.group}_command", required=True)
        cmd = group.add_parser(command.name, help=f"{command.help} (YAML, 0600; admin or trainer password on stdin)")
        cmd.add_argument("--out", required=True, help=f"file to write, e.g. {command.example_out}")
        cmd.add_argument("--as", dest="as_user", required=True, help="your admin or trainer account name")
        cmd.set_defaults(func=partial(run, command.export))
