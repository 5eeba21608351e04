"""`ycc contacts new-key | rotate-key`: the keys that seal crisis contact details (handoff/domain/contact_details.py).

Rotation without downtime: put a new key in front of YCC_CONTACT_KEYS (`new,old`) and restart, so new answers are
sealed with it while old ones still open; run `rotate-key` to re-seal every stored answer under the new key; then
remove the old key and restart. A key removed before `rotate-key` ran leaves its answers unreadable (the case page
says so); keep each key until then, and never in the same place as the backups.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def _new_key(_args: argparse.Namespace) -> int:
    from handoff.domain.contact_details import new_key

    print(new_key())
    return 0


def _rotate(_args: argparse.Namespace) -> int:
    from handoff.domain.contact_details import Sealer, rotate_all
    from handoff.settings import settings_or_exit
    from handoff.store.db import Database

    settings = settings_or_exit()
    if not settings.contact_keys:
        print("YCC_CONTACT_KEYS is not set: nothing is sealed, nothing to rotate")
        return 2

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                return await rotate_all(session, Sealer(settings.contact_keys))
        finally:
            await db.close()

    print(f"re-sealed {asyncio.run(run())} answer(s) under the first key of YCC_CONTACT_KEYS; "
          "the other keys can now be removed")
    return 0


def add_commands(sub: Any) -> None:
    contacts = sub.add_parser("contacts", help="keys sealing crisis contact details").add_subparsers(
        dest="contacts_command", required=True)
    contacts.add_parser("new-key", help="print a new Fernet key for YCC_CONTACT_KEYS").set_defaults(func=_new_key)
    contacts.add_parser("rotate-key", help="re-seal every stored answer under the first key",
                        description=__doc__).set_defaults(func=_rotate)
