"""Crisis contact details (issue 16.4): asked by the holder, answered in the secure chat, sealed at rest, read only
by the assigned counsellor and supervisors with an audit row per read, never in an export in the clear.

The young person's answer goes through the same action the secure chat calls (handoff.domain.contact_details.submit).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from typing import Any

import pytest

from handoff.domain import contact_details
from handoff.settings import SettingsError, normalise_database_url
from handoff.store.db import Database
from tests.console.conftest import Gateway, new_line_user
from tests.support.servers import CONTACT_KEY

ANSWERS = {"name": "ゆい", "phone": "090-1234-5678", "whereabouts": "金沢駅の近くの公園のベンチ"}


def _submit(gw: Gateway, conversation_id: int, answers: dict[str, Any], keys: tuple[str, ...] = (CONTACT_KEY,)) -> None:
    async def run() -> None:
        db = Database(normalise_database_url(gw.database_url))
        try:
            async with db.session() as session:
                await contact_details.submit(session, contact_details.Sealer(keys), conversation_id, answers)
        finally:
            await db.close()

    # In its own thread: Playwright's sync API keeps an event loop running in the test's thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def _held(gw: Gateway) -> tuple[Any, Any, int]:
    account = gw.add_user("counsellor", quals="AB")
    counsellor = gw.login(account)
    user = new_line_user()
    gw.user_says(user, "相談したいです")
    conversation = gw.queued(counsellor, user)
    assert counsellor.post(f"/api/conversations/{conversation['id']}/assign").status_code == 200
    return account, counsellor, conversation["id"]


def test_the_holder_asks_the_answers_are_sealed_and_each_read_is_audited(gateway: Gateway, tmp_path: Path) -> None:
    account, counsellor, cid = _held(gateway)
    asked = counsellor.post(f"/api/conversations/{cid}/contact-details")
    assert asked.status_code == 201
    assert [f["name"] for f in asked.json()["fields"]] == ["name", "phone", "whereabouts", "school", "with_whom"]
    again = counsellor.post(f"/api/conversations/{cid}/contact-details")
    assert again.json()["id"] == asked.json()["id"]  # one open request at a time

    _submit(gateway, cid, {**ANSWERS, "school": "  "})
    stored = gateway.rows("SELECT sealed FROM contact_details WHERE conversation_id = :c", c=cid)[0]["sealed"]
    for value in ANSWERS.values():
        assert value.encode("utf-8") not in bytes(stored)
    if gateway.database_url.startswith("sqlite"):
        raw = Path(gateway.database_url.split("///", 1)[1]).read_bytes()
        assert ANSWERS["phone"].encode() not in raw and ANSWERS["whereabouts"].encode("utf-8") not in raw

    read = counsellor.get(f"/api/conversations/{cid}/contact-details").json()["items"][0]
    assert read["status"] == "submitted" and read["submitted_at"].endswith("+09:00")
    assert {a["name"]: a["value"] for a in read["answers"]} == ANSWERS  # the blank school is not kept
    assert read["answers"][0]["label"].startswith("名前")
    audits = gateway.rows("SELECT actor, allowed FROM audit_log WHERE action = 'view_contact' AND object_id = :c",
                          c=str(cid))
    assert audits == [{"actor": account.name, "allowed": True}]

    out = tmp_path / "export"
    done = gateway.ycc("export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert ANSWERS["phone"].encode() not in path.read_bytes(), path.name


def test_another_counsellor_is_refused_and_audited_a_supervisor_reads(gateway: Gateway) -> None:
    _, holder, cid = _held(gateway)
    holder.post(f"/api/conversations/{cid}/contact-details")
    _submit(gateway, cid, ANSWERS)
    other_account = gateway.add_user("counsellor", quals="C")
    other = gateway.login(other_account)
    assert other.get(f"/api/conversations/{cid}/contact-details").status_code == 403
    assert other.post(f"/api/conversations/{cid}/contact-details").status_code in (403, 409)
    refused = gateway.rows("SELECT allowed FROM audit_log WHERE actor = :a AND allowed = :f",
                           a=other_account.name, f=False)
    assert refused
    supervisor = gateway.login(gateway.add_user("supervisor"))
    items = supervisor.get(f"/api/conversations/{cid}/contact-details").json()["items"]
    assert {a["name"]: a["value"] for a in items[0]["answers"]} == ANSWERS


def test_answers_are_checked_and_a_key_rotation_keeps_them_readable(gateway: Gateway) -> None:
    _, counsellor, cid = _held(gateway)
    counsellor.post(f"/api/conversations/{cid}/contact-details")
    for bad, field in (({}, "form"), ({"phone": "でんわ"}, "phone"), ({"name": "あ" * 61}, "name"),
                       ({"name": "a\x00b"}, "name"), ("text", "form")):
        with pytest.raises(contact_details.DetailsInvalid) as refused:
            _submit(gateway, cid, bad)  # type: ignore[arg-type]
        assert field in refused.value.fields
    _submit(gateway, cid, ANSWERS)
    newer = contact_details.new_key()
    rotated = gateway.ycc("contacts", "rotate-key", env={"YCC_CONTACT_KEYS": f"{newer},{CONTACT_KEY}"})
    assert rotated.returncode == 0 and "re-sealed" in rotated.stdout, rotated.stderr
    token = bytes(gateway.rows("SELECT sealed FROM contact_details WHERE conversation_id = :c", c=cid)[0]["sealed"])
    try:
        assert contact_details.Sealer((newer,)).unseal(token) == ANSWERS  # the old key is no longer needed
        assert contact_details.Sealer((CONTACT_KEY,)).unseal(token) is None
    finally:  # back under the gateway's own key: the other tests share this database
        back = gateway.ycc("contacts", "rotate-key", env={"YCC_CONTACT_KEYS": f"{CONTACT_KEY},{newer}"})
        assert back.returncode == 0, back.stderr


def test_line_mode_refuses_to_serve_without_a_contact_key_and_a_bad_key_is_named(gateway: Gateway) -> None:
    line = {"LINE_CHANNEL_SECRET": "s" * 32, "LINE_CHANNEL_ACCESS_TOKEN": "t" * 32}
    from handoff.settings import Settings

    assert "YCC_CONTACT_KEYS is required" in (Settings.from_mapping(line).serving_problem() or "")
    with pytest.raises(SettingsError, match="key 2 is not a Fernet key"):
        Settings.from_mapping({**line, "YCC_CONTACT_KEYS": f"{CONTACT_KEY},short"})
    assert Settings.from_mapping({**line, "YCC_CONTACT_KEYS": CONTACT_KEY}).serving_problem() is None
    assert Settings.from_mapping({}).serving_problem() is None  # the simulator runs without; the form is refused
    refused = gateway.ycc("serve", "--no-migrate", env={**line, "YCC_CONTACT_KEYS": "", "YCC_PORT": "1"})
    assert refused.returncode == 2 and "YCC_CONTACT_KEYS is required" in refused.stderr


def test_the_form_shows_in_the_secure_chat_and_its_answers_reach_only_the_case(gateway: Gateway) -> None:
    from tests.console.securechat_steps import in_secure_chat

    user = new_line_user()
    gateway.user_says(user, "相談したいです")
    page = in_secure_chat(gateway, user)
    account = gateway.add_user("counsellor", quals="AB")
    counsellor = gateway.login(account)
    conversation = gateway.queued(counsellor, user)
    assert counsellor.post(f"/api/conversations/{conversation['id']}/assign").status_code == 200
    assert page.messages().json()["contact_form"] is None  # nothing asked yet
    counsellor.post(f"/api/conversations/{conversation['id']}/contact-details")
    form = page.messages().json()["contact_form"]
    assert [f["name"] for f in form] == ["name", "phone", "whereabouts", "school", "with_whom"]

    def post(body: dict[str, Any]) -> Any:
        return page.client.post("/secure/api/contact-details", json=body, headers={"X-CSRF-Token": page.csrf})

    bad = post({"phone": "でんわばんごう"})
    assert bad.status_code == 400 and "phone" in bad.json()["fields"]
    assert page.client.post("/secure/api/contact-details", json=ANSWERS).status_code == 403  # no CSRF token
    assert post(ANSWERS).status_code == 201
    assert page.messages().json()["contact_form"] is None  # answered: the form is gone
    assert post(ANSWERS).status_code == 409  # nothing is open any more
    items = counsellor.get(f"/api/conversations/{conversation['id']}/contact-details").json()["items"]
    assert {a["name"]: a["value"] for a in items[0]["answers"]} == ANSWERS
    said = [m["text"] for m in counsellor.get(f"/api/conversations/{conversation['id']}/messages").json()["items"]]
    assert not any(ANSWERS["phone"] in (t or "") for t in said)  # never a chat message
    assert not any(ANSWERS["phone"] in t for t in gateway.delivered(user))  # never on LINE
