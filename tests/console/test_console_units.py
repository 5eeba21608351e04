"""Pure rules of the console: assignee suggestion (R9), record validation (R19, R20), credentials."""

from __future__ import annotations

import pyotp
import pytest

from console import security
from console.actions import Invalid, validate_record
from console.routing import Counsellor, suggest, topic_of


def counsellor(cid: int, quals: str, open_chats: int = 0, max_chats: int = 3) -> Counsellor:
    return Counsellor(cid, f"c{cid}", f"c{cid}", quals, open_chats, max_chats)


def test_career_topics_prefer_qualification_c_and_care_topics_prefer_a_and_b() -> None:
    staff = [counsellor(1, "A"), counsellor(2, "C"), counsellor(3, "AB")]
    assert suggest("career", staff).id == 2  # type: ignore[union-attr]
    assert suggest("care", staff).id == 3  # type: ignore[union-attr]
    assert topic_of({"situation": "job_seeking"}, None) == "career"
    assert topic_of({"topics": ["進路"]}, None) == "career"
    assert topic_of({"care_recipients": ["mother"]}, "user_request") == "care"


def test_suggestion_falls_back_to_any_free_counsellor_and_skips_full_ones() -> None:
    staff = [counsellor(1, "AB", open_chats=3), counsellor(2, "")]
    assert suggest("care", staff).id == 2  # type: ignore[union-attr]
    assert suggest("care", [counsellor(1, "AB", open_chats=3)]) is None


def test_record_requires_every_field_on_the_server() -> None:
    with pytest.raises(Invalid) as missing:
        validate_record({})
    assert set(missing.value.fields) == {"topics", "care_recipients", "referral_made", "follow_up", "summary"}
    with pytest.raises(Invalid) as unknown:
        validate_record({"topics": ["gossip"], "care_recipients": ["mother"], "referral_made": False,
                         "follow_up": False, "summary": "x"})
    assert set(unknown.value.fields) == {"topics"}
    ok = validate_record({"topics": ["career", "career"], "care_recipients": "unknown", "referral_made": False,
                          "referral": "ignored", "follow_up": True, "summary": " 概要 "})
    assert ok == {"topics": ["career"], "care_recipients": ["unknown"], "referral": None, "follow_up": True,
                  "summary": "概要"}


def test_totp_codes_cannot_be_replayed_and_passwords_need_twelve_characters() -> None:
    secret = security.new_totp_secret()
    code = pyotp.TOTP(secret).now()
    counter = security.totp_counter(secret, code, None)
    assert counter is not None
    assert security.totp_counter(secret, code, counter) is None
    assert security.totp_counter(secret, "12345", None) is None
    with pytest.raises(security.PasswordPolicyError):
        security.hash_password("short")
    stored = security.hash_password("a long enough password")
    assert security.verify_password(stored, "a long enough password")
    assert not security.verify_password(stored, "wrong")
    assert not security.verify_password(None, "anything")


def test_qualifications_are_parsed_strictly() -> None:
    assert security.parse_qualifications("c, a") == "AC"
    assert security.parse_qualifications("AB") == "AB"
    assert security.parse_qualifications("") == ""
    with pytest.raises(ValueError):
        security.parse_qualifications("A,D")


def test_openapi_document_lists_every_registered_api_route() -> None:
    import re

    from console.openapi import document
    from handoff.app import create_app
    from handoff.settings import Settings

    app = create_app(Settings(), name="openapi_check")
    registered = set()
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if path.startswith("/api/"):
            for method in route.methods:
                registered.add((re.sub(r"<[^>]+>", "{id}", path), method.lower()))
    documented = {(path, method) for path, ops in document()["paths"].items() for method in ops}
    assert {r for r in registered if r[1] not in ("head", "options")} == documented


def test_every_category_the_safety_screen_reports_has_a_japanese_label_in_the_console() -> None:
    """A flag's reason is shown to counsellors; an id such as `harm_to_others` must never reach them raw."""
    import re
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    signals = yaml.safe_load((root / "data" / "safety.yml").read_text(encoding="utf-8"))["signals"]
    reported = {str(entry.get("category") or name) for name, entry in signals.items()}
    script = (root / "console" / "static" / "common.js").read_text(encoding="utf-8")
    block = script[script.index("risk_reason: {"):]
    block = block[: block.index("}")]
    labelled = set(re.findall(r"(\w+):\s*\"", block))
    assert reported - labelled == set()
