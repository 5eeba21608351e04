"""The OpenAPI 3.1 document of the JSON API, written by hand from the route table so it says what we promise.

A test compares it with the app's registered /api routes, so a route cannot be added without documenting it.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from console.actions import CARE_RECIPIENTS, TOPICS
from console.bounds import MAX_ROW_ID
from console.cases import STEPS
from handoff.domain.broadcasts import SEGMENT_VALUES
from handoff.line.messages import MAX_TEXT
from handoff.store.values import Direction, OutboxStatus, Sender

bp = Blueprint("console_openapi", url_prefix="/api")

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(schema: str | dict[str, Any], code: str = "200") -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    return {code: {"description": "OK", "content": {"application/json": {"schema": ref}}},
            "400": _ERR, "401": _ERR, "403": _ERR, "404": _ERR, "409": _ERR}


def _op(summary: str, responses: dict[str, Any], *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, **({"required": required} if required else {})}


_S = {"type": "string"}
_I = {"type": "integer"}
_B = {"type": "boolean"}
_T = {"type": ["string", "null"], "format": "date-time", "description": "ISO 8601, Asia/Tokyo (+09:00)"}
_LIST = {"type": "array", "items": _S}
# What the handlers refuse as empty: a string with something other than white space in it (str.strip).
_WORDS = {"type": "string", "minLength": 1, "pattern": r"\S"}
_RISK = {"enum": ["crisis", "concern", None], "description": "crisis is true exactly when risk is crisis"}
_LEVEL = {"enum": ["crisis", "emergency_other", "concern", None],
          "description": "queue order: crisis, emergency_other, concern, then waiting time"}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _S, "message": _S, "fields": {"type": "object"}}, ["error"]),
    "ContactDetails": _obj({
        "id": _I, "status": {"enum": ["requested", "submitted"]}, "requested_at": _T, "submitted_at": _T,
        "unreadable": _B, "answers": {"type": "array", "items": _obj({"name": _S, "label": _S, "value": _S})}}),
    "UserRef": {"type": ["object", "null"], "properties": {"id": _I, "name": _S, "display_name": _S}},
    "Conversation": _obj({
        "id": _I, "status": {"enum": ["bot", "queued", "open", "resolved", "blocked"]}, "priority": _I,
        "crisis": _B, "risk": _RISK, "risk_reason": {"type": ["string", "null"], "description": "a category id"},
        "risk_level": _LEVEL, "assignee": {"$ref": "#/components/schemas/UserRef"},
        "assignee_id": {"type": ["integer", "null"]},
        "line_user_id": _S, "contact_key": _S, "waiting_since": _T, "waiting_seconds": {"type": ["integer", "null"]},
        "queue_reason": {"type": ["string", "null"]}, "unread": _I, "last_message_at": _T, "created_at": _T,
        "updated_at": _T, "returning": _B, "escalation_id": {"type": ["integer", "null"]},
        "topic": {"enum": ["care", "career"]}, "suggested_assignee": {"$ref": "#/components/schemas/UserRef"},
        "contact": {"type": "object"},
        "channel": {"enum": ["line", "web"], "description": "where replies go now (web: the secure chat)"},
    }, ["id", "status", "priority", "crisis", "assignee", "line_user_id", "waiting_since"]),
    "Message": _obj({
        "id": _I, "direction": {"enum": list(Direction)}, "sender": {"enum": list(Sender)},
        "sender_label": _S, "agent": {"$ref": "#/components/schemas/UserRef"}, "kind": _S,
        "text": {"type": ["string", "null"]}, "internal": _B,
        "delivery": {"enum": [*OutboxStatus, None]}, "crisis": _B,
        "risk_level": _LEVEL, "risk_category": {"type": ["string", "null"]}, "at": _T,
        "read_at": _T, "unsent": _B,
        "channel": {"enum": ["line", "web"], "description": "web: written or shown in the secure chat off LINE"},
    }),
    "Escalation": _obj({
        "id": _I, "conversation_id": _I, "opened_at": _T, "source": _S,
        "level": {"enum": ["crisis", "emergency_other"]},
        "category": {"type": ["string", "null"]}, "message_id": {"type": ["integer", "null"]},
        "in_hours": _B, "status": {"enum": ["open", "closed"]}, "checklist": {"type": "object"},
        "steps": {"type": "array", "items": _obj({"key": _S, "label": _S, "done": _B, "at": _T, "by": _S,
                                                  "note": _S})},
        "missing": _LIST, "outcome": {"type": ["string", "null"]}, "closed_at": _T,
        "close_reason": {"type": ["string", "null"]},
    }),
    "SafetyFeedback": _obj({
        "id": _I, "conversation_id": _I, "message_id": {"type": ["integer", "null"]},
        "escalation_id": {"type": ["integer", "null"]}, "flagged_level": _S, "flagged_category": {"type": [
            "string", "null"]}, "verdict": {"enum": ["false_alarm", "change_level"]}, "level": _LEVEL, "reason": _S,
        "reason_label": _S, "note": _S, "author": _S, "at": _T,
    }),
    "Record": _obj({"id": _I, "conversation_id": _I, "author_id": {"type": ["integer", "null"]}, "created_at": _T,
                    "topics": _LIST, "care_recipients": _LIST, "referral": {"type": ["string", "null"]},
                    "follow_up": _B, "summary": _S}),
    "RecordInput": _obj({
        "topics": {"type": "array", "minItems": 1, "items": {
            "enum": list(TOPICS)}},
        "care_recipients": {"type": "array", "minItems": 1, "items": {
            "enum": list(CARE_RECIPIENTS)}},
        "referral_made": _B, "referral": {"type": ["string", "null"], "description": "required if referral_made"},
        "follow_up": _B, "summary": {"type": "string", "minLength": 1, "maxLength": 4000},
        "survey": {"type": ["boolean", "null"], "description": "the post-consultation survey: null or absent = "
                   "send if consented and not after a crisis; true = send (also after a crisis); false = do not"},
    }, ["topics", "care_recipients", "referral_made", "follow_up", "summary"]),
}


def _items(ref: str) -> dict[str, Any]:
    return _obj({"items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}}, "total": _I})


_STATUS = "(bot|queued|open|resolved|blocked)"
PATHS: dict[str, dict[str, Any]] = {
    "/api/conversations": {"get": _op(
        "List conversations: by risk level (crisis, emergency_other, concern), then by waiting time", _ok(_items(
        "Conversation")), params=[
        {"name": "status", "in": "query", "schema": {"type": "string", "pattern": f"^{_STATUS}?(,{_STATUS}?)*$"},
         "description": "bot, queued, open, resolved, blocked (comma-separated); none = all you may see"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID,
                                                     "default": 0}},
    ])},
    "/api/conversations/{id}": {"get": _op("One conversation", _ok("Conversation"), params=[_ID])},
    "/api/conversations/{id}/messages": {
        "get": _op("Full history incl. internal notes (audited)", _ok(_items("Message")), params=[_ID]),
        "post": _op("Send a counsellor message to the user on LINE (holder only)", _ok(_items("Message"), "201"),
                    params=[_ID], body=_obj({"text": {**_WORDS, "maxLength": MAX_TEXT}}, ["text"])),
    },
    "/api/conversations/{id}/assign": {"post": _op(
        "Claim (no body) or assign/reassign to user_id (supervisors)", _ok("Conversation"), params=[_ID],
        body=_obj({"user_id": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}}))},
    "/api/conversations/{id}/release": {"post": _op("Put back in the queue", _ok("Conversation"), params=[_ID])},
    "/api/conversations/{id}/notes": {"post": _op("Internal note, never sent", _ok("Message", "201"), params=[_ID],
                                                  body=_obj({"text": {**_WORDS, "maxLength": 4000}}, ["text"]))},
    "/api/conversations/{id}/read": {"post": _op("Mark the user's messages read on LINE (holder, page visible)",
                                                 _ok(_obj({"marked": _I})), params=[_ID])},
    "/api/conversations/{id}/typing": {"post": _op("Show LINE's loading indicator to the user",
                                                   _ok(_obj({"shown": _B})), params=[_ID])},
    "/api/conversations/{id}/resolve": {"post": _op(
        "Write the consultation record and return the user to the bot", _ok(_obj(
            {"record": {"$ref": "#/components/schemas/Record"}, "status": _S}), "201"),
        params=[_ID], body={"$ref": "#/components/schemas/RecordInput"})},
    "/api/conversations/{id}/records": {"get": _op("Records of a conversation (supervisors, audited)",
                                                   _ok(_items("Record")), params=[_ID])},
    "/api/conversations/{id}/escalate": {"post": _op(
        "Open a crisis case for this conversation (200 with the case already open, if there is one)",
        {**_ok("Escalation", "201"), "200": _ok("Escalation")["200"]}, params=[_ID])},
    "/api/conversations/{id}/secure-link": {"post": _op(
        "Send the user a one-time link to the secure chat off LINE (holder or supervisor); the LINE message goes at "
        "once", _ok(_obj({"url": _S, "expires_at": _T}, ["url", "expires_at"]), "201"), params=[_ID])},
    "/api/conversations/{id}/safety-feedback": {
        "get": _op("Verdicts on this conversation's safety flags, and the reasons to choose from",
                   _ok(_obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/SafetyFeedback"}},
                             "total": _I, "reasons": {"type": "object"}})), params=[_ID]),
        "post": _op("Mark a flag (message_id or escalation_id) a false alarm or give it another level, with a "
                    "reason (audited)", _ok("SafetyFeedback", "201"), params=[_ID], body=_obj({
                        "message_id": _I, "escalation_id": _I, "verdict": {"enum": ["false_alarm", "change_level"]},
                        "level": _LEVEL, "reason": _S, "note": {"type": "string", "maxLength": 200}},
                        ["verdict", "reason"])),
    },
    "/api/conversations/{id}/contact-details": {
        "get": _op("Crisis contact details the young person gave in the secure chat, opened for the assigned "
                   "counsellor or a supervisor (every read audited; never in exports)",
                   _ok(_obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/ContactDetails"}},
                             "total": _I})), params=[_ID]),
        "post": _op("Ask for contact details with a form in the secure chat (the holder only; 409 without "
                    "YCC_CONTACT_KEYS)", _ok(_obj({"id": _I, "status": _S, "fields": {"type": "array"}}), "201"),
                    params=[_ID]),
    },
    "/api/escalations": {"get": _op("Crisis cases", _ok(_items("Escalation")), params=[
        {"name": "status", "in": "query", "schema": {"enum": ["open", "closed", "all", ""], "default": "open"},
         "description": "empty = open"}])},
    "/api/escalations/{id}": {"get": _op("One crisis case with its checklist", _ok("Escalation"), params=[_ID])},
    "/api/escalations/{id}/steps": {"post": _op("Record a checklist step with time and name", _ok("Escalation"),
                                                params=[_ID], body=_obj({"step": {"enum": list(STEPS)}, "done": _B,
                                                                         "note": {"type": "string", "maxLength": 1000}},
                                                                        ["step"]))},
    "/api/escalations/{id}/close": {"post": _op(
        "Close; outcome required, and a reason when steps are missing", _ok("Escalation"), params=[_ID],
        body=_obj({"outcome": _WORDS, "reason": {"type": "string",
                  "description": "at least 5 characters when steps are missing"}}, ["outcome"]))},
    "/api/templates": {"get": _op("Canned responses, hotlines and referral texts", _ok(_obj({"groups": {
        "type": "array"}})), params=[{"name": "municipality", "in": "query", "schema": _S}])},
    "/api/staff": {"get": _op("Counsellors and supervisors with load and presence (supervisors)",
                              _ok(_obj({"items": {"type": "array"}, "total": _I})))},
    "/api/openapi.json": {"get": {"summary": "This document", "security": [],
                                  "responses": {"200": {"description": "OpenAPI 3.1"}}}},
}


# 情報配信 (issue 17 item 1; console/broadcasts.py): supervisors and admins.
_SEGMENT = {"type": "object", "description": "{} = all friends; else field → values, any of which matches "
            "(consented profiles only)", "additionalProperties": False, "properties": {
                field: {"type": "array", "minItems": 1, "items": {"enum": list(values)}}
                for field, values in SEGMENT_VALUES.items()}}
SCHEMAS["Broadcast"] = _obj({
    "id": _I, "status": {"enum": ["scheduled", "sending", "paused", "sent", "empty", "cancelled"]},
    "recipients": _I, "sent": _I, "skipped_blocked": _I, "failed": _I, "silent": _B, "segment": _SEGMENT,
    "send_at": _T, "created_at": _T, "finished_at": _T, "resumes_at": _T, "author": _S, "text": _S,
    "last_error": {"type": ["string", "null"]}, "batches": {"type": "object"},
    "image": {"type": ["object", "null"], "properties": {"url": _S, "preview_url": _S},
              "description": "the public originalContentUrl and previewImageUrl (/about/media/<token>…)"},
})
PATHS.update({
    "/api/broadcasts": {
        "get": _op("Information deliveries, newest first", _ok(_items("Broadcast"))),
        "post": _op("Send a delivery now or at send_at (empty segment or text over LINE's limit: 400)",
                    _ok(_obj({"id": _I, "recipients": _I}), "201"),
                    body=_obj({"text": {**_WORDS, "maxLength": MAX_TEXT}, "segment": _SEGMENT,
                               "send_at": {"type": ["string", "null"], "format": "date-time",
                                           "description": "ISO 8601; without an offset Asia/Tokyo; none = now"},
                               "silent": _B,
                               "image": {"type": ["string", "null"], "contentEncoding": "base64",
                                         "description": "optional: one JPEG or PNG, ≤ 10 MB, ≤ 4096×4096, base64 "
                                                        "(a data: URL is fine); re-encoded without metadata and "
                                                        "sent after the text as an image message"}}, ["text"]))},
    "/api/broadcasts/count": {"post": _op("How many friends a segment reaches now", _ok(_obj({"recipients": _I})),
                                          body=_obj({"segment": _SEGMENT}, ["segment"]))},
    "/api/broadcasts/{id}": {"get": _op("A delivery's status and counts", _ok("Broadcast"), params=[_ID])},
    "/api/broadcasts/{id}/cancel": {"post": _op("Stop a delivery not yet finished", _ok("Broadcast"), params=[_ID])},
    "/api/broadcasts/{id}/resume": {"post": _op("Resume a paused delivery now", _ok("Broadcast"), params=[_ID])},
})


# フォローアップ (issue 17 item 8; console/follow_ups.py): the holder, the record's author, or a supervisor.
SCHEMAS["FollowUp"] = _obj({
    "id": _I, "conversation_id": _I, "text": _S, "silent": _B,
    "status": {"enum": ["scheduled", "sent", "answered", "undeliverable", "cancelled"]}, "send_at": _T,
    "author": _S, "created_at": _T, "sent_at": _T, "answered_at": _T,
})
PATHS.update({
    "/api/conversations/{id}/follow-ups": {
        "get": _op("Follow-up check-ins of a conversation (none, may_schedule false, for anyone else's)",
                   _ok(_obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/FollowUp"}},
                             "total": _I, "may_schedule": _B})), params=[_ID]),
        "post": _op("Schedule one check-in message (the person agreed: consented true)", _ok("FollowUp", "201"),
                    params=[_ID], body=_obj({"text": {**_WORDS, "maxLength": MAX_TEXT}, "consented": {"const": True},
                                             "send_at": {"type": ["string", "null"], "format": "date-time"},
                                             "silent": _B}, ["text", "consented"]))},
    "/api/follow-ups/{id}/cancel": {"post": _op("Cancel a scheduled check-in", _ok("FollowUp"), params=[_ID])},
})


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "いしかわヤングケアラーチャンネル 相談コンソール API", "version": "1.0.0",
                 "description": "Bearer token (`ycc token create`) or console session cookie with X-CSRF-Token on "
                                "POST. Times are ISO 8601 in Asia/Tokyo. Forbidden access is audited."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "ycc_session"}},
            "schemas": SCHEMAS,
        },
        "paths": PATHS,
    }


@bp.get("/openapi.json", name="openapi")
async def openapi(request: Request) -> HTTPResponse:
    return json(document(), ensure_ascii=False)
