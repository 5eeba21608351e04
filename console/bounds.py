"""What no handler should have to check: ids in the URL beyond any row's, and static names that are not files.

Sanic's `<id:int>` takes any number of digits, and a number past the database's integer (PostgreSQL's INTEGER is
32-bit, SQLite's 64-bit) failed inside the driver as a 500. Sanic's static handler answered 500 for a directory
(`/console/static/`) and for a NUL in the name. One request middleware answers all of these before any handler
runs: a clear 404 for a path, a 400 naming the query parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER column holds on both databases
STATIC_PREFIX = "/console/static/"
CONSOLE_PREFIXES = ("/api/", "/console/")


def row_id_ok(value: Any) -> bool:
    """An id that could name a row: an int (not a bool) from 0 to MAX_ROW_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ROW_ID


def _static_file(static: Path, path: str) -> bool:
    name = unquote(path[len(STATIC_PREFIX):])
    if not name or "\x00" in name:
        return False
    target = (static / name).resolve()
    return target.is_file() and static in target.parents


def _out_of_range(value: str) -> bool:
    """A whole number in the query that no id, count or page of ours can reach."""
    digits = value.strip().removeprefix("-")
    return digits.isdigit() and (len(digits) > 10 or abs(int(digits)) > MAX_ROW_ID)


def install(app: Sanic, static: Path) -> None:
    static = static.resolve()

    @app.on_request
    async def refuse_impossible_ids(request: Request) -> HTTPResponse | None:
        if request.path.startswith(STATIC_PREFIX) and not _static_file(static, request.path):
            return json({"error": "not_found", "message": "no such file"}, status=404)
        if any(isinstance(v, int) and not row_id_ok(v) for v in request.match_info.values()):
            return json({"error": "not_found", "message": f"ids are whole numbers up to {MAX_ROW_ID}"}, status=404)
        if not request.path.startswith(CONSOLE_PREFIXES):
            return None  # the internal API's query carries user words (a municipality), which may be digits
        wrong = sorted({name for name, values in request.args.items() if any(_out_of_range(v) for v in values)})
        if wrong:
            message = f"{', '.join(wrong)}: at most {MAX_ROW_ID}"
            return json({"error": "invalid", "message": message, "fields": {n: "range" for n in wrong}}, status=400)
        return None
