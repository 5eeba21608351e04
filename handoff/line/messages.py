"""Build LINE message objects from Rasa's answers and from the gateway's own replies."""

from __future__ import annotations

from typing import Any

MAX_TEXT = 5000  # LINE's limit for one text, in and out: the one copy (pages render it as maxlength)
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_PER_CALL = 5


def fit_text(text: str, limit: int = MAX_TEXT) -> str:
    """Cut to LINE's limit, which counts UTF-16 code units: an emoji outside the BMP counts twice."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out, used = [], 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit - 1:
            break
        out.append(char)
    return "".join(out) + "…"


def text_message(text: str, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A text message; Rasa buttons become quick-reply postbacks so the tap is sent back as the payload."""
    message: dict[str, Any] = {"type": "text", "text": fit_text(text) or " "}
    if buttons:
        items = []
        for button in buttons[:MAX_QUICK_REPLIES]:
            title = str(button.get("title", ""))[:MAX_LABEL] or "…"
            payload = str(button.get("payload", title))[:300]
            items.append(
                {
                    "type": "action",
                    "action": {"type": "postback", "label": title, "data": payload, "displayText": title},
                }
            )
        message["quickReply"] = {"items": items}
    return message


def from_rasa(responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa REST answers → LINE messages. Images from Rasa are ignored: the bot sends words only."""
    messages: list[dict[str, Any]] = []
    for response in responses:
        custom = response.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("line"), dict):
            messages.append(custom["line"])
        elif response.get("text"):
            messages.append(text_message(str(response["text"]), response.get("buttons")))
    return messages


def chunks(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """LINE takes at most five messages per call."""
    return [messages[i : i + MAX_PER_CALL] for i in range(0, len(messages), MAX_PER_CALL)]


def plain_text(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("altText") or f"[{message.get('type', 'message')}]")


def quick_reply_titles(message: dict[str, Any]) -> list[dict[str, str]] | None:
    items = (message.get("quickReply") or {}).get("items") or []
    return [{"title": i["action"].get("label", ""), "payload": i["action"].get("data", "")} for i in items] or None
