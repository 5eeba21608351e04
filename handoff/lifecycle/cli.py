"""`ycc export` and `ycc purge`, registered by handoff/cli.py's build_parser.

The operator is the OS account running the command (the effective uid, not $USER, which anyone can set): at
contract end the console's accounts are about to be deleted, so the person at the server is who answers for it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from handoff.settings import ROOT


def os_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"


def _settings() -> Any:
    from handoff.settings import settings_or_exit

    return settings_or_exit()


def _export(args: argparse.Namespace) -> int:
    from handoff.lifecycle import trackers
    from handoff.lifecycle.export import ExportError, export_database, summary

    settings = _settings()
    try:
        result = asyncio.run(export_database(settings.database_url, Path(args.out), operator=os_user(),
                                             now=datetime.now(UTC), as_zip=args.zip,
                                             tracker=trackers.locate(settings)))
    except (ExportError, OSError) as exc:
        print(f"ycc export: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"ycc export: database error ({type(exc).__name__}); is the schema migrated (`ycc migrate`)? "
              f"{str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    print(summary(result))
    return 0


def _purge(args: argparse.Namespace) -> int:
    from handoff.lifecycle.certificate import write_certificate
    from handoff.lifecycle.purge import PurgeRefused, PurgeRequest, check_only, purge, refused_message

    settings = _settings()
    operator = os_user()
    request = PurgeRequest(
        settings=settings, operator=operator, now=datetime.now(UTC), confirm=args.confirm,
        archive=Path(args.export_manifest) if args.export_manifest else None, no_export=args.no_export,
        remove_files=args.remove_files, var_dir=Path(args.var_dir),
    )
    try:
        if args.dry_run:
            identity = asyncio.run(check_only(request))
            print(f"ycc purge --dry-run: every check passed; {identity} would be erased")
            return 0
        report = asyncio.run(purge(request))
    except PurgeRefused as exc:
        print(refused_message(exc), file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"ycc purge: database error ({type(exc).__name__}): {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    certificate = write_certificate(report, operator=operator, finished=datetime.now(UTC),
                                    directory=Path(args.certificate_dir), data_dir=settings.data_dir)
    total = sum(report.deleted.values())
    print(f"erased {total} rows from {len(report.deleted)} tables of {report.identity}; "
          f"rows left: {sum(report.remaining.values())}")
    for path in report.removed_files:
        print(f"  removed {path}")
    print(f"certificate (データ消去証明書): {certificate.text_path}\n  and {certificate.json_path}")
    print("Still to do by hand (listed in the certificate): backups, LINE Official Account, copies of the export.")
    return 0


def _forget_withdrawn(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from handoff.lifecycle.withdrawn import forget_withdrawn

    result = asyncio.run(forget_withdrawn(_settings(), datetime.now(UTC), timedelta(minutes=args.idle_minutes)))
    print(f"forgot {result.events} tracker events of {result.contacts} contacts who withdrew consent"
          + (f"; {result.waiting} still in conversation, left for the next run" if result.waiting else ""))
    return 0


def add_commands(sub: Any) -> None:
    export = sub.add_parser("export", help="contract end: write every table the prefecture owns as CSV + manifest")
    export.add_argument("--out", required=True, help="new or empty directory (created 0700)")
    export.add_argument("--zip", action="store_true", help="write OUT.zip instead, nothing left unpacked")
    export.set_defaults(func=_export)

    purge = sub.add_parser("purge", help="contract end: securely erase all consultation data, write a certificate")
    purge.add_argument("--confirm", metavar="DATABASE", help="the database's identity; run without it to see it")
    source = purge.add_mutually_exclusive_group()
    source.add_argument("--export-manifest", metavar="PATH",
                        help="the export (directory, manifest.json or .zip) the database must still match")
    source.add_argument("--no-export", action="store_true", help="erase without checking against an export")
    purge.add_argument("--remove-files", action="store_true",
                       help="SQLite: afterwards overwrite the database file set with zeros and delete it")
    purge.add_argument("--var-dir", default=str(ROOT / "var"),
                       help="where `make run` keeps logs (log/*.log) and first-admin.txt (default: %(default)s)")
    purge.add_argument("--certificate-dir", default=".", help="where the certificate is written (default: .)")
    purge.add_argument("--dry-run", action="store_true", help="run every check, delete nothing")
    purge.set_defaults(func=_purge)

    forget = sub.add_parser("forget-withdrawn",
                            help="delete from Rasa's trackers what contacts said before withdrawing consent")
    forget.add_argument("--idle-minutes", type=int, default=30,
                        help="skip contacts heard from this recently (Rasa may be answering them; default 30)")
    forget.set_defaults(func=_forget_withdrawn)
